"""Billing's part of a chaos run (and of the demo): invoices post as billing's clock passes
every contract's start, and customers pay them, some after a declined card first.

Customers are not the integration: their calls retry through the faults injected on
billing's routes (a 5xx, a 429 or an answer lost after it took effect is tried again; an
invoice found already paid is paid).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, select

from revbridge.store import cases
from revbridge.store.tables import invoices

#: After every seeded contract's start (they start within 60 days of 1 December 2026).
BILLING_DAY = datetime(2027, 2, 2, 6, tzinfo=UTC)
DECLINED = "pm_card_chargeDeclinedInsufficientFunds"
GOOD = "pm_card_visa"
ATTEMPTS = 30
#: How long declined invoices stay unpaid before their customers pay with a good card.
DECLINED_FOR_S = 5.0


@dataclass
class Collected:
    invoices: int = 0  # open invoices with something to pay
    paid: int = 0
    declined_first: int = 0
    paid_ids: list[str] = field(default_factory=list)
    unpaid_ids: list[str] = field(default_factory=list)  # declined, left unpaid


def pending(engine: Engine, collected: Collected) -> list[str]:
    """The invoices revbridge has not carried yet, read from its store alone: a paid one
    until it is kept as paid, an unpaid (declined) one until its case is open; either is
    done once a case of its own holds it."""
    with engine.connect() as conn:
        rows = conn.execute(select(invoices.c.invoice_id, invoices.c.status)).all()
        held = {c.deal_key for c in cases.search(conn, limit=10_000_000)}
    carried = {str(row.invoice_id): str(row.status) for row in rows}
    waiting = [i for i in collected.paid_ids if carried.get(i) != "paid"]
    waiting += collected.unpaid_ids
    return [i for i in waiting if f"stripe:{i}" not in held]


def _call(http: httpx.Client, method: str, path: str, **data: Any) -> httpx.Response:
    for _ in range(ATTEMPTS):
        try:
            response = http.request(method, path, data=data or None)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code < 500 and response.status_code != 429:
            return response
        time.sleep(0.2)
    raise RuntimeError(f"billing kept failing {method} {path}")


def _open_invoices(http: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = "/v1/invoices?status=open&limit=100" + (f"&starting_after={after}" if after else "")
        page = _call(http, "GET", query).json()
        found += page["data"]
        if not page.get("has_more") or not page["data"]:
            return [i for i in found if i["amount_remaining"] > 0]
        after = page["data"][-1]["id"]


def bill_and_collect(
    stripe_url: str,
    api_key: str,
    rng: random.Random,
    declines: float,
    *,
    pay_declined: bool = True,
) -> Collected:
    """Advance billing to :data:`BILLING_DAY`, then pay every open invoice; a share
    ``declines`` of them is first charged to a card that is declined (and paid later with
    a good one only when ``pay_declined``)."""
    httpx.post(
        f"{stripe_url}/_sandbox/clock/advance",
        json={"to": int(BILLING_DAY.timestamp())},
        timeout=600,
    ).raise_for_status()
    collected = Collected()
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=stripe_url, headers=headers, timeout=60) as http:
        invoices = _open_invoices(http)
        collected.invoices = len(invoices)
        declined = [i for i in invoices if rng.random() < declines]
        for invoice in declined:
            _call(http, "POST", f"/v1/invoices/{invoice['id']}/pay", payment_method=DECLINED)
        collected.declined_first = len(declined)
        later = declined if pay_declined else []
        if later:
            time.sleep(DECLINED_FOR_S)  # their failures are seen (cases open) before paid
        for invoice in [i for i in invoices if i not in declined] + later:
            answer = _call(http, "POST", f"/v1/invoices/{invoice['id']}/pay", payment_method=GOOD)
            if answer.status_code == 200 or "already paid" in answer.text:
                collected.paid += 1
                collected.paid_ids.append(invoice["id"])
        collected.unpaid_ids = [i["id"] for i in declined if i not in later]
    return collected
