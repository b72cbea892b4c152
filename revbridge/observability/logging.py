"""Structured logs: one JSON object per line, the correlation context on every line.

:func:`configure_logging` installs one handler on the root logger. Every record it writes
carries ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``msg``, the ``correlation_id``,
``deal`` and ``step`` of :mod:`revbridge.observability.context` (null when unset), the
exception text when there is one, and the record's ``extra=`` fields. Everything passes
through :mod:`revbridge.observability.redaction` first: registered secrets are masked in
the message and the exception, and extras are scrubbed by key and by value.

The ``dbos``, ``uvicorn``, ``httpx`` and ``alembic`` loggers are captured at WARNING and
above through the same handler (and stop propagating, so nothing is written twice). ``json=False``
renders the same fields as one readable line for terminals.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from revbridge.observability import context, redaction

#: Third-party loggers routed through our handler at WARNING and above.
CAPTURED_LOGGERS = ("dbos", "uvicorn", "httpx", "alembic")
CONTEXT_FIELDS = ("correlation_id", "deal", "step")
_FIXED_FIELDS = frozenset({"ts", "level", "logger", "msg", "exc", *CONTEXT_FIELDS})
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_MARK = "_revbridge_handler"


def _safe_str(value: object) -> str:
    """How values JSON cannot encode are written: their ``str``, with secrets masked."""
    return redaction.scrub_text(str(value))


def _timestamp(created: float) -> str:
    instant = datetime.fromtimestamp(created, UTC)
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StructuredFormatter(logging.Formatter):
    """Turns a record into the redacted field map, rendered as JSON or as one text line."""

    def __init__(self, *, json: bool = True) -> None:
        super().__init__()
        self.json = json

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": redaction.scrub_text(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            given = record.__dict__.get(name)
            out[name] = given if given is not None else getattr(context, name).get()
        exc = self._exception_text(record)
        if exc:
            out["exc"] = redaction.scrub_text(exc)
        extras = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and key not in CONTEXT_FIELDS
        }
        for key, value in redaction.scrub(extras).items():
            out[f"{key}_" if key in _FIXED_FIELDS else key] = value
        return out

    def _exception_text(self, record: logging.LogRecord) -> str:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        if self.json:
            line = jsonlib.dumps(fields, default=_safe_str, ensure_ascii=False)
        else:
            line = _text_line(fields)
        return redaction.scrub_text(line)


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else jsonlib.dumps(value, default=_safe_str)
    if not text or any(c in text for c in ' ="\n\t'):
        return jsonlib.dumps(text, ensure_ascii=False)
    return text


def _text_line(fields: dict[str, Any]) -> str:
    """``ts LEVEL logger msg key=value …``: one line, tracebacks escaped."""
    head = f"{fields['ts']} {fields['level']:<8} {fields['logger']}: {fields['msg']}"
    head = head.replace("\n", "\\n")
    rest = [
        f"{key}={'-' if value is None else _text_value(value)}"
        for key, value in fields.items()
        if key not in ("ts", "level", "logger", "msg")
    ]
    return " ".join([head, *rest])


def _is_ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, _MARK, False))


def _replace_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    for old in [h for h in logger.handlers if _is_ours(h)]:
        logger.removeHandler(old)
        if old is not handler:
            old.close()
    logger.addHandler(handler)


def configure_logging(
    level: str | int = "INFO", stream: IO[str] | None = None, json: bool = True
) -> logging.Handler:
    """Install revbridge's log handler (again: it replaces the previous one, never adds).

    ``stream`` defaults to standard error. Returns the installed handler.
    """
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level: {level!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _MARK, True)
    handler.setFormatter(StructuredFormatter(json=json))
    root = logging.getLogger()
    _replace_handler(root, handler)
    root.setLevel(numeric)
    for name in CAPTURED_LOGGERS:
        captured = logging.getLogger(name)
        _replace_handler(captured, handler)
        captured.setLevel(max(logging.WARNING, numeric))
        captured.propagate = False
    return handler
