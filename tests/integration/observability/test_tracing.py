"""OpenTelemetry traces of a real deal: a `revbridge worker` process exports over OTLP/HTTP to a
real receiver; ingress → flow → step → connector call share the deal's trace id and carry
its correlation id, and nothing secret."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge.app import open_store
from revbridge.canonical import ExternalRef, correlation_id_for
from revbridge.cli.sandbox import catalog_from_policy
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.observability import context, tracing
from revbridge.store import deals
from revbridge.testing.estate import SANDBOX_ENV, local_estate
from revbridge.testing.servers import serve
from revbridge_sandboxes.seed import close_deals, seed_estate

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    attributes: dict[str, Any]
    service: str


@dataclass
class Collector:
    """An OTLP/HTTP traces endpoint: decodes each protobuf export and keeps the spans."""

    spans: list[ReceivedSpan] = field(default_factory=list)

    def app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            export = ExportTraceServiceRequest()
            export.ParseFromString(body)
            for resource_spans in export.resource_spans:
                service = _attributes(resource_spans.resource.attributes)["service.name"]
                for scope in resource_spans.scope_spans:
                    self.spans.extend(_span(s, service) for s in scope.spans)
            return Response(
                ExportTraceServiceResponse().SerializeToString(),
                media_type="application/x-protobuf",
            )

        return Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])


def _value(value: AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value") or "string_value")


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _span(span: Any, service: str) -> ReceivedSpan:
    return ReceivedSpan(
        span.trace_id.hex(),
        span.span_id.hex(),
        span.parent_span_id.hex(),
        span.name,
        span.kind,
        _attributes(span.attributes),
        service,
    )


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    running = Collector()
    with serve(running.app()) as url:
        yield running, url


def wait(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_deals_spans_form_one_trace_from_ingress_to_connector_calls(
    tmp_path: Path, collector: tuple[Collector, str]
) -> None:
    received, endpoint = collector
    database_url = f"sqlite:///{tmp_path / 'revbridge.db'}"
    with local_estate(options={"netsuite": {"approval_delay_s": 0.2}}) as estate:
        policy = estate.write_policy(tmp_path / "revbridge.yaml")
        catalog = catalog_from_policy(load_policy(EXAMPLE_POLICY))
        manifest = seed_estate(estate.endpoints(), catalog, 1, 7, 0.0)
        (opportunity,) = manifest.deals
        env = {
            **os.environ,
            **SANDBOX_ENV,
            "REVBRIDGE_DATABASE_URL": database_url,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [REVBRIDGE, "worker", "--policy", str(policy), "--poll", "0.1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            close_deals(estate.endpoints(), [opportunity])
            engine = open_store(Settings(database_url=database_url))  # type: ignore[arg-type]
            deal_key = f"salesforce:{opportunity}"

            def activated() -> bool:
                with engine.connect() as conn:
                    deal = deals.get(conn, deal_key)
                return deal is not None and deal.status.value == "activated"

            wait(f"{deal_key} activated", activated)
            wait("the write-back call's span", lambda: _named(received, "step write_back"))
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            log.close()

    correlation = correlation_id_for(ExternalRef.parse(deal_key))
    trace_id = f"{tracing.trace_id_for(correlation):032x}"
    mine = [s for s in received.spans if s.attributes.get(tracing.CORRELATION) == correlation]
    by_id = {s.span_id: s for s in mine}

    (ingress,) = _named(received, "ingress closed_won")
    flows = _named(received, "flow quote_to_cash")
    step = _named(received, "step submit_sales_order")[0]
    calls = [s for s in mine if s.parent_id == step.span_id]
    (call,) = [s for s in calls if s.attributes[tracing.OPERATION] == "salesOrder.upsert"]
    assert ingress.attributes[tracing.DEAL] == deal_key
    assert ingress.attributes["revbridge.inbox"] == "new"
    assert by_id[step.parent_id] in flows  # the step runs under its flow's span
    assert call.kind == ProtoSpan.SPAN_KIND_CLIENT
    assert call.attributes[tracing.SYSTEM] == "netsuite"
    assert call.attributes[tracing.STEP] == "submit_sales_order"
    assert call.attributes["http.request.method"] == "PUT"
    assert 200 <= call.attributes["http.response.status_code"] < 300
    assert {s.trace_id for s in mine} == {trace_id}
    assert {s.trace_id for s in (ingress, *flows, step, call)} == {trace_id}
    assert all(s.service == "revbridge" for s in mine)
    steps = {s.attributes.get(tracing.STEP) for s in mine if s.name.startswith("step ")}
    assert {"fetch_deal", "upsert_erp_customer", "quote_tax", "write_back"} <= steps
    secrets = [v for v in SANDBOX_ENV.values() if len(v) >= 6]
    for span in received.spans:
        for value in span.attributes.values():
            assert not any(secret in str(value) for secret in secrets), span
            assert "http://" not in str(value), span  # no URLs


def _named(received: Collector, name: str) -> list[ReceivedSpan]:
    return [s for s in received.spans if s.name == name]


def test_spans_of_one_deal_share_its_trace_id_in_any_process() -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing(env={}, exporter=exporter)
    try:
        with context.bound(correlation="corr-42", deal_key="salesforce:006X"):
            with tracing.span("ingress closed_won"):
                pass
            with tracing.span("flow quote_to_cash"), tracing.span("step quote_tax"):
                call = tracing.start_call("avalara", "create_transaction", "POST", 1)
                tracing.end_call(call, 503, "retryable")
        with tracing.span("unrelated"):
            pass
        tracing.shutdown_tracing()
    finally:
        tracing.shutdown_tracing()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    derived = tracing.trace_id_for("corr-42")
    names = ["ingress closed_won", "flow quote_to_cash", "step quote_tax"]
    assert {spans[n].context.trace_id for n in [*names, "avalara create_transaction"]} == {derived}
    assert spans["unrelated"].context.trace_id != derived
    assert spans["ingress closed_won"].parent is None  # a root in the deal's trace
    call = spans["avalara create_transaction"]
    assert call.parent is not None
    assert call.parent.span_id == spans["step quote_tax"].context.span_id
    assert call.attributes is not None
    assert call.attributes["http.response.status_code"] == 503
    assert call.attributes[tracing.CORRELATION] == "corr-42"
    assert not call.status.is_ok


def test_without_an_endpoint_tracing_stays_off() -> None:
    assert not tracing.configure_tracing(Settings(), env={})
    with context.bound(correlation="corr-off"), tracing.span("flow quote_to_cash") as span:
        assert not span.is_recording()
