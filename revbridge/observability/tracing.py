"""OpenTelemetry tracing: one trace per deal, across processes, keyed by its correlation id.

This module owns the tracer set-up (:func:`configure_tracing`) and the spans revbridge
makes. Tracing is off — every span a no-op — until ``configure_tracing`` finds an OTLP
endpoint (``REVBRIDGE_OTLP_ENDPOINT``, or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and installs an SDK ``TracerProvider``
(``service.name=revbridge``) exporting in batches over OTLP/HTTP.

The spans of one deal:

- ``ingress closed_won`` — a closed-won signal accepted (poll, push webhook or API);
- ``flow quote_to_cash`` — one execution of the deal's workflow (a recovered workflow
  executes, and is traced, again);
- ``step <name>`` — one step's effect, under the flow;
- ``<system> <operation>`` — one HTTP attempt of a connector, under the step.

The ingress runs in one process and the flow in another, so no span can be the parent
of all. Instead the trace id is derived from the correlation id — the first 16 bytes of
its SHA-256 (:func:`trace_id_for`) — whenever a span starts without a parent of that
trace, so every span of a deal, whichever process makes it, lands in the same trace.
Every span carries ``revbridge.correlation_id`` and, when known, ``revbridge.deal``,
``revbridge.step``, ``revbridge.system``, ``revbridge.operation`` and the HTTP status.
Never a URL, a header or a body: nothing secret.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import Link, Span, SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue

from revbridge import __version__
from revbridge.observability import context, redaction

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from revbridge.config.settings import Settings

__all__ = [
    "CORRELATION",
    "DEAL",
    "OPERATION",
    "STEP",
    "SYSTEM",
    "configure_tracing",
    "end_call",
    "failed",
    "flow_span",
    "shutdown_tracing",
    "span",
    "start_call",
    "trace_id_for",
]

CORRELATION = "revbridge.correlation_id"
DEAL = "revbridge.deal"
STEP = "revbridge.step"
SYSTEM = "revbridge.system"
OPERATION = "revbridge.operation"
SERVICE = "revbridge"

_provider: TracerProvider | None = None
_Flow = TypeVar("_Flow", bound=Callable[..., Awaitable[Any]])


def trace_id_for(correlation_id: str) -> int:
    """The trace id of every span of the deal with this correlation id."""
    return int.from_bytes(hashlib.sha256(correlation_id.encode()).digest()[:16], "big") or 1


class CorrelationIdGenerator(IdGenerator):
    """A span started without a parent takes its deal's trace id (random without one)."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        correlation = context.correlation_id.get()
        return trace_id_for(correlation) if correlation else self._random.generate_trace_id()


def configure_tracing(
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> bool:
    """Install revbridge's tracer provider when an OTLP endpoint is configured (or an
    ``exporter`` is given, for tests); True when spans are now exported. Calling it again
    replaces the previous provider (flushed and shut down)."""
    global _provider
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    endpoint = settings.otlp_endpoint if settings is not None else None
    standard = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if exporter is None and not endpoint and not standard:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # our setting wins; otherwise the exporter reads the standard variables itself
        traces = f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None
        exporter = OTLPSpanExporter(endpoint=traces)
    attributes: dict[str, AttributeValue] = {"service.version": __version__}
    if not env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = SERVICE
    provider = TracerProvider(
        resource=Resource.create(attributes), id_generator=CorrelationIdGenerator()
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    shutdown_tracing()
    _provider = provider  # revbridge's own: the process-global provider is left alone
    return True


def shutdown_tracing() -> None:
    """Export what is buffered and stop revbridge's provider (a no-op when there is none)."""
    global _provider
    if _provider is not None:
        _provider.force_flush()
        _provider.shutdown()
        _provider = None


def _tracer() -> trace.Tracer:
    provider = _provider if _provider is not None else trace.get_tracer_provider()
    return provider.get_tracer("revbridge", __version__)


def _attributes(extra: Mapping[str, AttributeValue | None]) -> dict[str, AttributeValue]:
    bound = {
        CORRELATION: context.correlation_id.get(),
        DEAL: context.deal.get(),
        STEP: context.step.get(),
    }
    return {k: v for k, v in {**bound, **extra}.items() if v is not None}


def _parent() -> tuple[otel_context.Context | None, list[Link]]:
    """Under the current span when it belongs to this deal's trace; otherwise start the
    deal's own trace (the id generator derives it), linked to whatever was current."""
    correlation = context.correlation_id.get()
    current = trace.get_current_span().get_span_context()
    if correlation is None or not current.is_valid:
        return None, []
    if current.trace_id == trace_id_for(correlation):
        return None, []
    return otel_context.Context(), [Link(current)]


@contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue | None] | None = None,
) -> Iterator[Span]:
    """A current span for a block, carrying the bound correlation context; an exception
    leaving the block marks it failed (type and redacted message only)."""
    parent, links = _parent()
    with _tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=_attributes(attributes or {}),
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            failed(current, type(exc).__name__, str(exc))
            raise


def flow_span(process: str) -> Callable[[_Flow], _Flow]:
    """Run a deal's workflow, called as ``(deal_ref, correlation_id, ...)``, under a
    ``flow <process>`` span with the deal's correlation context bound; put it under the
    workflow decorator so that each execution (a recovery too) is one span."""

    def decorate(workflow: _Flow) -> _Flow:
        @functools.wraps(workflow)
        async def traced(deal_ref: str, correlation_id: str, *args: Any) -> Any:
            with (
                context.bound(correlation=correlation_id, deal_key=deal_ref),
                span(f"flow {process}", attributes={"revbridge.process": process}) as current,
            ):
                outcome = await workflow(deal_ref, correlation_id, *args)
                current.set_attribute("revbridge.outcome", str(outcome))
                return outcome

        return cast(_Flow, traced)

    return decorate


def failed(current: Span, error_type: str, message: str) -> None:
    """Mark a span failed without recording anything secret."""
    current.set_attribute("error.type", error_type)
    current.set_status(StatusCode.ERROR, redaction.scrub_text(message)[:300])


def start_call(system: str, operation: str, method: str, attempt: int) -> Span:
    """The span of one connector HTTP attempt (a child of the step's); end it with
    :func:`end_call`."""
    parent, links = _parent()
    return _tracer().start_span(
        f"{system} {operation}",
        context=parent,
        kind=SpanKind.CLIENT,
        attributes=_attributes(
            {
                SYSTEM: system,
                OPERATION: operation,
                "http.request.method": method,
                "revbridge.attempt": attempt,
            }
        ),
        links=links,
    )


def end_call(current: Span, status: int | None, outcome: str) -> None:
    """Close a connector span: the HTTP status and revbridge's outcome (ok | retryable |
    permanent)."""
    if status is not None:
        current.set_attribute("http.response.status_code", status)
    current.set_attribute("revbridge.outcome", outcome)
    if outcome != "ok":
        current.set_attribute("error.type", str(status) if status is not None else outcome)
        current.set_status(StatusCode.ERROR)
    current.end()
