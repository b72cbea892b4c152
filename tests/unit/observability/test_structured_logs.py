"""Structured logs: one JSON object per line, the context ids on each, secrets never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from revbridge.observability import context, redaction
from revbridge.observability.logging import CAPTURED_LOGGERS, configure_logging

SECRET = "sk_live_51HxSECRETvalue"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A log stream; the logging configuration is restored afterwards."""
    names = ["", *CAPTURED_LOGGERS]
    saved = {
        n: (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    }
    yield io.StringIO()
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers[:]:
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def secret() -> Iterator[str]:
    redaction.register_secret(SECRET)
    yield SECRET
    redaction._known.discard(SECRET)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_is_json_with_the_context_ids(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    log = logging.getLogger("revbridge.flows")
    with context.bound(correlation="corr-1", deal_key="deal-9", step_name="ensure_customer"):
        log.info("customer %s ready", "C-1", extra={"system": "netsuite", "attempt": 2})
    log.warning("outside any deal")

    inside, outside = lines(stream)
    assert inside["msg"] == "customer C-1 ready"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "revbridge.flows"
    assert inside["ts"].endswith("Z")
    assert (inside["correlation_id"], inside["deal"], inside["step"]) == (
        "corr-1",
        "deal-9",
        "ensure_customer",
    )
    assert (inside["system"], inside["attempt"]) == ("netsuite", 2)
    assert (outside["correlation_id"], outside["deal"], outside["step"]) == (None, None, None)


def test_registered_secrets_never_reach_the_output(stream: io.StringIO, secret: str) -> None:
    configure_logging(stream=stream)
    log = logging.getLogger("revbridge.connectors")
    log.info("calling with key %s", secret)
    log.info(
        "request",
        extra={
            "headers": {"Authorization": "Bearer abc"},
            "body": f"key={secret}",
            "err": ValueError(secret),
        },
    )
    try:
        raise RuntimeError(f"vendor refused {secret}")
    except RuntimeError:
        log.exception("call failed")

    output = stream.getvalue()
    assert secret not in output
    message, request, failure = lines(stream)
    assert message["msg"] == f"calling with key {redaction.MASK}"
    assert request["headers"] == {"Authorization": redaction.MASK}
    assert request["body"] == f"key={redaction.MASK}"
    assert "RuntimeError: vendor refused ***" in failure["exc"]


def test_configuring_twice_writes_each_line_once(stream: io.StringIO) -> None:
    configure_logging(stream=stream)
    configure_logging(stream=stream)
    logging.getLogger("revbridge").warning("once")
    logging.getLogger("httpx").warning("vendor warning")
    logging.getLogger("httpx").info("vendor chatter")

    assert [line["msg"] for line in lines(stream)] == ["once", "vendor warning"]
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_revbridge_handler", False)]
    assert len(ours) == 1


def test_text_mode_is_one_readable_line(stream: io.StringIO, secret: str) -> None:
    configure_logging(stream=stream, json=False)
    with context.bound(correlation="corr-2"):
        try:
            raise ValueError(secret)
        except ValueError:
            logging.getLogger("revbridge.cli").error("failed", extra={"deal_name": "Acme renewal"})

    output = stream.getvalue()
    assert output.count("\n") == 1
    assert secret not in output
    assert "ERROR" in output
    assert "revbridge.cli: failed" in output
    assert "correlation_id=corr-2" in output
    assert "deal=-" in output
    assert 'deal_name="Acme renewal"' in output
