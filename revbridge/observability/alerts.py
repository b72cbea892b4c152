"""The policy's alert rules: evaluated against the store, announced once per change.

This module owns the evaluation: each rule's condition value, computed with the same
queries as the business metrics (:mod:`revbridge.observability.business_metrics`), compared
with its threshold (a rule fires while the value is *above* it), recorded in the store
(:mod:`revbridge.store.alerts`) and announced on the rule's webhook — one Slack-compatible
POST when it starts firing, one when it resolves, never on every evaluation in between.

Conditions:

- ``exception_age_s``: age of the oldest open exception case (of ``owner``, when given);
- ``open_exceptions``: open exception cases (of ``owner``, when given);
- ``sync_lag_s``: age of the oldest deal still running;
- ``order_to_invoice_p95_s``: p95 of accepted → first invoice over the deals invoiced (no
  value, so no firing, until a deal has been invoiced).

The webhook URL is read from the environment variable the rule names and registered as a
secret; it is never logged or stored. A failed send (no answer, or not 2xx) is retried on
the next evaluation; :func:`run_alerts` evaluates on a schedule in ``revbridge worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Connection, Engine

from revbridge.config.policy import Alert, Policy
from revbridge.observability import business_metrics, redaction
from revbridge.store import alerts as store
from revbridge.store.alerts import FIRING, Observation

log = logging.getLogger(__name__)

#: How long a claimed announcement stays claimed if its sender never reports (it crashed).
CLAIM_LEASE = timedelta(seconds=60)
WEBHOOK_TIMEOUT_S = 10.0


def _exception_age(conn: Connection, now: datetime, owner: str | None) -> Decimal | None:
    ages = business_metrics.oldest_open_case_seconds(conn, now)
    if owner is not None:
        ages = {owner: ages[owner]} if owner in ages else {}
    return _seconds(max(ages.values(), default=0.0))


def _open_exceptions(conn: Connection, now: datetime, owner: str | None) -> Decimal | None:
    counts = business_metrics.open_cases_by_owner(conn)
    return Decimal(counts.get(owner, 0) if owner is not None else sum(counts.values()))


def _sync_lag(conn: Connection, now: datetime, owner: str | None) -> Decimal | None:
    return _seconds(business_metrics.deal_sync_lag_seconds(conn, now))


def _order_to_invoice_p95(conn: Connection, now: datetime, owner: str | None) -> Decimal | None:
    p95 = business_metrics.percentile(list(business_metrics.order_to_invoice_seconds(conn)), 95)
    return None if p95 is None else _seconds(p95)


#: condition → its current value (None: no data, never fires).
CONDITIONS: dict[str, Callable[[Connection, datetime, str | None], Decimal | None]] = {
    "exception_age_s": _exception_age,
    "open_exceptions": _open_exceptions,
    "sync_lag_s": _sync_lag,
    "order_to_invoice_p95_s": _order_to_invoice_p95,
}
_PER_OWNER = ("exception_age_s", "open_exceptions")


def _seconds(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def condition_value(conn: Connection, alert: Alert, now: datetime) -> Decimal | None:
    owner = alert.owner if alert.condition in _PER_OWNER else None
    return CONDITIONS[alert.condition](conn, now, owner)


@dataclass(frozen=True)
class Outcome:
    """One rule after one evaluation, and what was sent for it."""

    name: str
    state: str
    value: str | None
    threshold: float
    since: datetime | None
    notified: bool  # the current state has been announced
    sent: str | None = None  # "firing" | "resolved" when this evaluation announced it
    error: str | None = None  # why the announcement failed (retried next time)


def evaluate(
    engine: Engine,
    policy: Policy,
    env: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
    evaluator: str | None = None,
    client: httpx.Client | None = None,
) -> list[Outcome]:
    """One pass over the policy's alert rules: record each state, send owed announcements
    (the states of rules no longer in the policy are dropped)."""
    env = os.environ if env is None else env
    evaluator = evaluator or f"{socket.gethostname()}:{os.getpid()}"
    with engine.begin() as conn:
        store.forget_others(conn, [alert.name for alert in policy.alerts])
    outcomes = []
    with contextlib.ExitStack() as stack:
        http = client or stack.enter_context(httpx.Client(timeout=WEBHOOK_TIMEOUT_S))
        for alert in policy.alerts:
            outcomes.append(_evaluate_one(engine, alert, env, now, evaluator, http))
    return outcomes


def _evaluate_one(
    engine: Engine,
    alert: Alert,
    env: Mapping[str, str],
    now: datetime | None,
    evaluator: str,
    http: httpx.Client,
) -> Outcome:
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        value = condition_value(conn, alert, at)
        firing = value is not None and value > Decimal(str(alert.threshold))
        seen = Observation(
            alert.name,
            firing,
            None if value is None else str(value),
            {"condition": alert.condition, "threshold": alert.threshold, "owner": alert.owner},
        )
        row, claimed = store.observe(conn, seen, at, evaluator, CLAIM_LEASE)
    outcome = Outcome(row.name, row.state, row.value, alert.threshold, row.since, not row.owed)
    if not claimed:
        return outcome
    assert row.since is not None
    kind = "firing" if row.state == FIRING else "resolved"
    error = _send(http, alert, env, payload(alert, row.state, row.value, row.since))
    with engine.begin() as conn:
        if error is None:
            store.delivered(conn, row.name, row.state, row.since, datetime.now(UTC))
        else:
            store.failed(conn, row.name, row.state, row.since, error)
    if error is not None:
        log.warning("alert %s: %s announcement failed: %s", alert.name, kind, error)
        return replace(outcome, error=error)
    log.info("alert %s: %s announced", alert.name, kind)
    return replace(outcome, notified=True, sent=kind)


def _send(
    http: httpx.Client, alert: Alert, env: Mapping[str, str], body: dict[str, Any]
) -> str | None:
    """POST the announcement; None on a 2xx, otherwise why not (never the URL)."""
    url = env.get(alert.webhook.env)
    if not url:
        return f"environment variable {alert.webhook.env} is not set"
    redaction.register_secret(url)
    try:
        response = http.post(url, json=body)
    except httpx.HTTPError as exc:
        return redaction.scrub_text(f"{type(exc).__name__}: {exc}")[:300]
    if not response.is_success:
        return f"the webhook answered {response.status_code}"
    return None


def payload(alert: Alert, state: str, value: str | None, since: datetime) -> dict[str, Any]:
    """The Slack-compatible body: ``text`` and ``attachments`` for people, ``revbridge`` for
    programs (Slack ignores it)."""
    firing = state == FIRING
    who = f" for {alert.owner}" if alert.owner else ""
    head = "FIRING" if firing else "RESOLVED"
    when = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = (
        f"[revbridge] {head}: {alert.name}{who} — {alert.condition} is {value} "
        f"({'above' if firing else 'back within'} the threshold {_number(alert.threshold)}) "
        f"since {when}"
    )
    hint = _hint(alert)
    fields = {
        "alert": alert.name,
        "event": "firing" if firing else "resolved",
        "state": state,
        "condition": alert.condition,
        "value": value,
        "threshold": _number(alert.threshold),
        "owner": alert.owner,
        "since": when,
        "hint": hint,
    }
    return {
        "text": text,
        "attachments": [
            {
                "color": "danger" if firing else "good",
                "fallback": text,
                "fields": [
                    {"title": k, "value": str(v), "short": k not in ("hint",)}
                    for k, v in fields.items()
                    if v is not None
                ],
            }
        ],
        "revbridge": fields,
    }


def _number(threshold: float) -> str:
    return str(int(threshold)) if float(threshold).is_integer() else str(threshold)


def _hint(alert: Alert) -> str:
    if alert.condition in _PER_OWNER:
        owner = f" --owner {alert.owner}" if alert.owner else ""
        query = f"?owner={alert.owner}" if alert.owner else ""
        return f"revbridge exceptions list{owner} · GET /v1/exceptions{query}"
    if alert.condition == "sync_lag_s":
        return "GET /v1/deals?status=running · revbridge trace DEAL"
    return "revbridge alerts list · GET /metrics"


async def run_alerts(
    engine: Engine,
    policy: Policy,
    stop: asyncio.Event,
    interval_s: float,
    env: Mapping[str, str] | None = None,
    evaluator: str | None = None,
) -> None:
    """Evaluate every ``interval_s`` until ``stop``; a failed pass is logged and retried."""
    if not policy.alerts or interval_s <= 0:
        return
    while not stop.is_set():
        try:
            await asyncio.to_thread(evaluate, engine, policy, env, evaluator=evaluator)
        except Exception:
            log.exception("alert evaluation failed; retrying in %s s", interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
