"""The Stripe sandbox's in-memory account: every object, the clocks, events and keys.

One :class:`StripeState` is one Stripe account in test mode. Handlers mutate it
under ``lock`` (they are synchronous, so a request's changes are atomic); every
change emits its event through :meth:`StripeState.emit`, which also queues the
webhook deliveries the app sends once the request is answered.

Time: objects without a test clock live on the global :class:`Clock` (wall time
plus an offset that only grows, moved by ``POST /_sandbox/clock/advance``); objects
of customers created with ``test_clock=clock_…`` live at that test clock's
``frozen_time`` instead (:meth:`StripeState.now`).
"""

from __future__ import annotations

import calendar
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from revbridge_sandboxes.stripe import views
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.idempotency import IdempotencyStore
from revbridge_sandboxes.stripe.tables import Record, Table, new_id, new_secret

DEFAULT_API_VERSION = "2026-06-24.dahlia"
DAY = 86_400

#: snapshot group → (object noun used in "No such …" errors, id prefix)
TABLES: dict[str, tuple[str, str]] = {
    "customers": ("customer", "cus"),
    "products": ("product", "prod"),
    "prices": ("price", "price"),
    "subscriptions": ("subscription", "sub"),
    "subscription_items": ("subscription_item", "si"),
    "invoices": ("invoice", "in"),
    "invoiceitems": ("invoiceitem", "ii"),
    "events": ("event", "evt"),
    "webhook_endpoints": ("webhook_endpoint", "we"),
    "test_clocks": ("test_helpers.test_clock", "clock"),
    "billing_meters": ("billing.meter", "mtr"),
    "payment_methods": ("PaymentMethod", "pm"),
    "payment_intents": ("payment_intent", "pi"),
    "invoice_payments": ("invoice_payment", "inpay"),
    "tax_rates": ("tax rate", "txr"),
}


class Clock:
    """Wall-clock seconds plus an offset; never runs backwards."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += max(0, seconds)
        return self.now()


def add_interval(start: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """``start`` moved by ``count`` intervals; months keep the anchor's day, clamped.

    Stripe bills monthly subscriptions anchored on the 31st on the last day of
    shorter months, and returns to the 31st afterwards: ``anchor_day`` carries it.
    """
    if interval == "day":
        return start + count * DAY
    if interval == "week":
        return start + count * 7 * DAY
    moment = datetime.fromtimestamp(start, UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    moved = moment.replace(year=year, month=month, day=day)
    return int(moved.timestamp())


@dataclass
class Outbound:
    """One webhook delivery waiting to be handed to the sender."""

    url: str
    secret: str
    body: bytes


@dataclass
class Options:
    api_version: str = DEFAULT_API_VERSION
    fail_payments: bool = False
    webhook_endpoints: list[tuple[str, str]] = field(default_factory=list)


class StripeState:
    """All records of the emulated account; implements the sandbox state protocol."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.lock = threading.RLock()
        self.tables = {name: Table(name, noun) for name, (noun, _) in TABLES.items()}
        self._by_prefix = {prefix: self.tables[name] for name, (_, prefix) in TABLES.items()}
        self.customers = self.tables["customers"]
        self.products = self.tables["products"]
        self.prices = self.tables["prices"]
        self.subscriptions = self.tables["subscriptions"]
        self.subscription_items = self.tables["subscription_items"]
        self.invoices = self.tables["invoices"]
        self.invoiceitems = self.tables["invoiceitems"]
        self.events = self.tables["events"]
        self.webhook_endpoints = self.tables["webhook_endpoints"]
        self.test_clocks = self.tables["test_clocks"]
        self.meters = self.tables["billing_meters"]
        self.payment_methods = self.tables["payment_methods"]
        self.payment_intents = self.tables["payment_intents"]
        self.invoice_payments = self.tables["invoice_payments"]
        self.tax_rates = self.tables["tax_rates"]
        self.meter_events = Table("billing_meter_events", "billing.meter_event")
        self.lookup_keys: dict[str, str] = {}
        #: (meter id, customer id) → [(timestamp, value)] of accepted meter events
        self.usage: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.clock = Clock()
        self.idempotency = IdempotencyStore()
        self.outbox: list[Outbound] = []
        #: the request whose handler is running: shown as ``request`` on its events
        self.request: dict[str, str | None] = {"id": None, "idempotency_key": None}
        #: earliest global-clock moment at which billing work is due (None: nothing)
        self.next_due: int | None = None
        self._seed()

    # -- tables ----------------------------------------------------------------

    def find(self, object_id: str) -> Record | None:
        """Any object by id, through its prefix (used by ``expand``)."""
        table = self._by_prefix.get(object_id.partition("_")[0])
        return None if table is None else table.get(object_id)

    # -- time ------------------------------------------------------------------

    def now(self, clock_id: str | None = None) -> int:
        """The current time of a test clock, or of the global sandbox clock."""
        if clock_id:
            clock = self.test_clocks.get(clock_id)
            if clock is not None:
                return int(clock["frozen_time"])
        return self.clock.now()

    def schedule(self, at: int, clock_id: str | None) -> None:
        """Note billing work due at ``at`` on the global clock (test clocks wait)."""
        if clock_id is None and (self.next_due is None or at < self.next_due):
            self.next_due = at

    # -- events ----------------------------------------------------------------

    def emit(
        self,
        type_: str,
        record: Record,
        previous: dict[str, Any] | None = None,
        at: int | None = None,
    ) -> Record:
        """Record the event for a change of ``record`` and queue its webhooks."""
        snapshot = json.loads(json.dumps(views.view(self, record)))
        data: dict[str, Any] = {"object": snapshot}
        if previous is not None:
            data["previous_attributes"] = previous
        targets = [
            e
            for e in self.webhook_endpoints.rows.values()
            if e["status"] == "enabled"
            and ("*" in e["enabled_events"] or type_ in e["enabled_events"])
        ]
        created = at if at is not None else self.now(record.get("test_clock"))
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.options.api_version,
            "created": created,
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": dict(self.request),
            "type": type_,
        }
        self.events.add(event)
        if targets:
            body = json.dumps(event, indent=2).encode()
            self.outbox.extend(Outbound(e["url"], e["_secret"], body) for e in targets)
        return event

    def emit_update(
        self, type_: str, record: Record, before: dict[str, Any], at: int | None = None
    ) -> None:
        """Emit ``*.updated`` with ``previous_attributes`` if anything visible changed."""
        after = json.loads(json.dumps(views.view(self, record)))
        previous = {k: v for k, v in before.items() if after.get(k) != v}
        previous.update({k: None for k in after if k not in before})
        if previous:
            self.emit(type_, record, previous, at=at)

    def before(self, record: Record) -> dict[str, Any]:
        """A deep copy of the public view, to diff against after a change."""
        result: dict[str, Any] = json.loads(json.dumps(views.view(self, record)))
        return result

    def take_outbox(self) -> list[Outbound]:
        out, self.outbox = self.outbox, []
        return out

    # -- webhook endpoints -----------------------------------------------------

    def add_webhook_endpoint(
        self, url: str, enabled_events: list[str], secret: str | None = None, **fields: Any
    ) -> Record:
        endpoint = {
            "id": new_id("we"),
            "object": "webhook_endpoint",
            "api_version": fields.pop("api_version", None),
            "application": None,
            "created": self.clock.now(),
            "description": fields.pop("description", None),
            "enabled_events": enabled_events,
            "livemode": False,
            "metadata": fields.pop("metadata", None) or {},
            "status": "enabled",
            "url": url,
            "_secret": secret or new_secret(),
        }
        return self.webhook_endpoints.add(endpoint)

    def _seed(self) -> None:
        """Add the endpoints configured at start (unless a restored state has them)."""
        present = {(e["url"], e["_secret"]) for e in self.webhook_endpoints.rows.values()}
        for url, secret in self.options.webhook_endpoints:
            if (url, secret) not in present:
                self.add_webhook_endpoint(url, ["*"], secret, description="configured at start")

    # -- sandbox state protocol --------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            for table in self.tables.values():
                table.clear()
            self.meter_events.clear()
            self.lookup_keys.clear()
            self.usage.clear()
            self.clock = Clock()
            self.idempotency = IdempotencyStore()
            self.outbox.clear()
            self.next_due = None
            self._seed()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {name: t.dump() for name, t in self.tables.items()}
            data["billing_meter_events"] = self.meter_events.dump()
            data["idempotency_keys"] = self.idempotency.snapshot()
            data["clock"] = {"offset": self.clock.offset, "now": self.clock.now()}
            return data

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            for name, table in self.tables.items():
                table.load(list(data.get(name, [])))
            self.meter_events.load(list(data.get("billing_meter_events", [])), "identifier")
            self.idempotency.restore(list(data.get("idempotency_keys", [])))
            self.clock = Clock(int(data.get("clock", {}).get("offset", 0)))
            self.lookup_keys = {
                p["lookup_key"]: p["id"] for p in self.prices.rows.values() if p.get("lookup_key")
            }
            self.usage.clear()
            for event in self.meter_events.oldest_first():
                self.record_usage(event)
            self.next_due = self.clock.now()  # let the billing pass recompute it
            self._seed()

    def record_usage(self, event: Record) -> None:
        key = (event["_meter"], event["_customer"])
        self.usage.setdefault(key, []).append((event["timestamp"], event["_value"]))


def require_customer(state: StripeState, customer_id: Any, param: str = "customer") -> Record:
    customer = state.customers.require(customer_id, param)
    if customer.get("deleted"):
        raise StripeError.no_such("customer", str(customer_id), param)
    return customer
