"""Prometheus metrics: technical ones observed in process, business ones read from the store.

A :class:`Metrics` owns its own ``CollectorRegistry`` (never the global one), so two
processes, or two tests, never share state. The composition root builds one per process::

    metrics = Metrics(engine)                  # engine: the business collector reads it
    caller.observers.append(metrics.observe_call)
    body, content_type = render(metrics)       # what GET /metrics answers

Technical families (this process only):

- ``revbridge_connector_calls_total{system,operation,outcome}``: every attempt, by outcome
  (``ok`` | ``retryable`` | ``permanent``);
- ``revbridge_connector_call_seconds{system,operation}``: attempt latency;
- ``revbridge_connector_retries_total{system}``: attempts after the first;
- ``revbridge_rate_limit_wait_seconds_total{system}``: time spent waiting for the system's
  concurrency slot and rate budget;
- ``revbridge_http_requests_total{method,route,status}`` and
  ``revbridge_http_request_seconds{route}``: revbridge's own API, by route *template*;
- ``revbridge_queue_depth{queue,state}``: in a worker (``revbridge worker --metrics``), the
  deals' workflows waiting on the queue and running.

Business families are listed in :mod:`revbridge.observability.business_metrics`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from revbridge.observability.business_metrics import BUSINESS_BUCKETS, BusinessCollector
from revbridge.observability.calls import CallRecord

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["BUSINESS_BUCKETS", "CALL_BUCKETS", "REQUEST_BUCKETS", "Metrics", "render"]

log = logging.getLogger(__name__)

#: Vendor API latency: 10 ms … 2 min (timeouts and slow batch endpoints included).
CALL_BUCKETS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
)  # fmt: skip
#: revbridge's own API latency: 5 ms … 30 s.
REQUEST_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip


class Metrics:
    """One process's metrics: its registry, the technical instruments, the business collector.

    ``engine`` is optional so a process without a store (or a unit test) can still count
    calls; without it the business families are simply absent.
    """

    def __init__(self, engine: Engine | None = None) -> None:
        self.registry = CollectorRegistry()
        self.connector_calls = Counter(
            "revbridge_connector_calls",
            "Connector call attempts by system, operation and outcome.",
            ["system", "operation", "outcome"],
            registry=self.registry,
        )
        self.connector_call_seconds = Histogram(
            "revbridge_connector_call_seconds",
            "Connector call attempt latency in seconds.",
            ["system", "operation"],
            buckets=CALL_BUCKETS,
            registry=self.registry,
        )
        self.connector_retries = Counter(
            "revbridge_connector_retries",
            "Connector call attempts after the first (retries), by system.",
            ["system"],
            registry=self.registry,
        )
        self.rate_limit_wait = Counter(
            "revbridge_rate_limit_wait_seconds",
            "Seconds spent waiting for a system's concurrency slot and rate budget.",
            ["system"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "revbridge_http_requests",
            "Requests answered by revbridge's API, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_seconds = Histogram(
            "revbridge_http_request_seconds",
            "Latency of revbridge's API in seconds, by route template.",
            ["route"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.business: BusinessCollector | None = None
        if engine is not None:
            self.business = BusinessCollector(engine)
            self.registry.register(self.business)

    def watch_queue(self, depth: Callable[[], Mapping[str, int]], queue: str) -> None:
        """Report ``revbridge_queue_depth{queue,state}`` from ``depth()`` (workflows by state,
        e.g. ENQUEUED, PENDING), read at scrape time."""
        self.registry.register(_QueueDepth(depth, queue))

    def observe_call(self, record: CallRecord) -> None:
        """Count one connector attempt; append this to ``HttpCaller.observers``."""
        self.connector_calls.labels(record.system, record.operation, record.outcome).inc()
        self.connector_call_seconds.labels(record.system, record.operation).observe(
            max(0.0, record.seconds)
        )
        if record.attempt > 1:
            self.connector_retries.labels(record.system).inc()
        if record.waited_s > 0:
            self.rate_limit_wait.labels(record.system).inc(record.waited_s)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one API request. ``route`` is the template (``/v1/deals/{key}``), never
        the raw path, so that label values stay few."""
        self.http_requests.labels(method.upper(), route, str(status)).inc()
        self.http_request_seconds.labels(route).observe(max(0.0, seconds))


class _QueueDepth(Collector):
    def __init__(self, depth: Callable[[], Mapping[str, int]], queue: str) -> None:
        self.depth, self.queue = depth, queue

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "revbridge_queue_depth",
            "Deals' workflows on the queue, by state: ENQUEUED (waiting for a worker), "
            "PENDING (running or waiting on a case).",
            labels=["queue", "state"],
        )
        try:
            counts = dict(self.depth())
        except Exception:  # a scrape never fails because the queue could not be read
            log.warning("queue depth could not be read", exc_info=True)
            return
        for state in ("ENQUEUED", "PENDING"):
            family.add_metric([self.queue, state], counts.get(state, 0))
        yield family


def render(metrics: Metrics) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``metrics`` and its content type.

    The content type is the classic ``text/plain; version=0.0.4``, which every Prometheus
    release and scraper reads (all our names are plain ASCII, so nothing needs escaping).
    """
    return generate_latest(metrics.registry), CONTENT_TYPE_PLAIN_0_0_4
