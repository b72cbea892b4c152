"""``StripeBilling``: the billing port on Stripe Billing, and its factory.

Every create is a POST with an ``Idempotency-Key`` derived from canonical ids, so a retry
after a lost answer gets Stripe's saved answer, the same object, for the 24 hours Stripe
keeps keys. The parameters of a create are a function of the plan alone (no clock reading
except the contract's start against today's date), as a replay requires.

Past those 24 hours the key no longer protects, so the long-lived objects are looked up
first by the canonical id in their metadata, with Stripe's search: a customer by
``revbridge_customer_id`` (and brought up to date if its details drifted), a subscription
by ``revbridge_order_id``. Search can lag writes by up to a minute, which the key covers.
Stripe has no search for invoice items: they rely on the key alone.

Prices are reference data: looked up by lookup key, ten per call, and cached for the life
of the adapter; a key Stripe does not know is asked again after ``MISSING_PRICE_TTL_S``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from revbridge.canonical import Customer, ExternalRef, OrderLine, idempotency_key
from revbridge.config.systems import StripeOptions, StripeSystem
from revbridge.connectors.builder import http_caller, read_credentials
from revbridge.connectors.http import HttpCaller, LoopLock
from revbridge.connectors.stripe import events, invoices, mapping, tax_rates
from revbridge.connectors.stripe import usage as stripe_usage
from revbridge.connectors.stripe.classify import classify
from revbridge.connectors.stripe.client import StripeClient
from revbridge.errors import ConflictError, DataError, NotFoundError
from revbridge.ports import (
    BilledInvoice,
    BillingEvent,
    EntityContext,
    LineMapping,
    OrderPlan,
    TaxQuote,
    UsageReport,
)

Record = dict[str, Any]
MISSING_PRICE_TTL_S = 60.0
#: Subscriptions whose items an adapter keeps (the oldest read is dropped beyond).
ITEMS_CACHED = 10_000
#: Share of one second's rate kept as burst: Stripe's limiter allows about one second of
#: requests at once, and requests bunch up on their way to it.
BURST_SHARE = 0.5


class _PriceBook:
    """Prices by lookup key, fetched once and shared by concurrent callers."""

    def __init__(self) -> None:
        self.prices: dict[str, Record] = {}
        self._missing: dict[str, float] = {}
        self._lock = LoopLock()

    def _unknown(self, keys: set[str]) -> set[str]:
        now = time.monotonic()
        recent = {k for k, at in self._missing.items() if now - at < MISSING_PRICE_TTL_S}
        return keys - self.prices.keys() - recent

    async def resolve(
        self, keys: set[str], fetch: Callable[[set[str]], Awaitable[list[Record]]]
    ) -> dict[str, Record]:
        """The prices of ``keys`` Stripe has; ``fetch`` is called for the unknown ones only."""
        if self._unknown(keys):
            async with self._lock.current():
                if unknown := self._unknown(keys):
                    found = {p["lookup_key"]: p for p in await fetch(unknown)}
                    self.prices.update(found)
                    now = time.monotonic()
                    self._missing.update(dict.fromkeys(unknown - found.keys(), now))
        return {k: self.prices[k] for k in keys if k in self.prices}


class StripeBilling:
    """The billing port on Stripe (``ExternalRef.system`` is the policy's system name)."""

    def __init__(self, system: str, client: StripeClient, options: StripeOptions) -> None:
        self.system = system
        self.client = client
        self.options = options
        self._prices = _PriceBook()
        self._meters: dict[str, Record] = {}  # billing meters by id, read once
        self._rates: dict[str, str] = {}  # Stripe Tax Rate ids by rate key
        #: Subscription items by subscription (the order line id in their metadata never
        #: changes); read again when an invoice names an item not seen yet.
        self._items: dict[str, dict[str, Record]] = {}

    @property
    def http(self) -> HttpCaller:
        """The caller every request of this adapter goes through (``ports.CallsOut``)."""
        return self.client.http

    async def ensure_customer(self, customer: Customer, entity: EntityContext) -> ExternalRef:
        """The Stripe customer of ``customer``: found by its id, updated or created."""
        params = mapping.customer_params(customer, entity)
        query = mapping.search_by_metadata(mapping.CUSTOMER_ID_KEY, customer.customer_id)
        found = await self.client.search("customers", query)
        if not found:
            key = idempotency_key("billing-customer", customer.customer_id)
            record = await self.client.create(
                "/v1/customers", params, operation="customers.create", idempotency_key=key
            )
            return self._ref(record)
        record = min(found, key=lambda r: (r.get("created") or 0, r["id"]))
        changes = mapping.customer_changes(record, params)
        if changes:
            key = idempotency_key(
                "billing-customer-update", customer.customer_id, mapping.fingerprint(changes)
            )
            await self.client.update("customers", record["id"], changes, idempotency_key=key)
        return self._ref(record)

    async def start_subscription(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
    ) -> ExternalRef | None:
        """One subscription for the plan's subscription and usage lines; None without any.
        Each taxed line's item charges its quoted rate (:mod:`.tax_rates`)."""
        with self._local_errors():
            lines = mapping.plan_lines(plan, mapping.RECURRING_KINDS)
        if not lines:
            return None
        order_id = plan.order.order_id
        query = mapping.search_by_metadata(mapping.ORDER_ID_KEY, order_id)
        found = await self.client.search("subscriptions", query)
        if found:
            return self._live_subscription(min(found, key=lambda r: r.get("created") or 0), plan)
        prices = await self._prices_for(plan, lines, required=True)
        rates = await self._tax_rates(plan, tax)
        with self._local_errors():
            params = mapping.subscription_params(
                plan,
                customer.id,
                [(line, prices[mapping.lookup_key(m, plan.order.currency)]) for line, m in lines],
                collection_method=self.options.collection_method,
                days_until_due=self.options.days_until_due,
                today=datetime.now(UTC).date(),
                api_version=self.client.api_version,
                tax_rates=rates,
            )
        record = await self.client.create(
            "/v1/subscriptions",
            params,
            operation="subscriptions.create",
            idempotency_key=idempotency_key("subscription", order_id),
        )
        return self._live_subscription(record, plan)

    async def add_invoice_items(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
    ) -> tuple[ExternalRef, ...]:
        """One pending invoice item per service line, in line order, each charging its
        line's quoted tax rate."""
        with self._local_errors():
            lines = mapping.plan_lines(plan, mapping.ONE_TIME_KINDS)
        if not lines:
            return ()
        prices = await self._prices_for(plan, lines, required=False)
        rates = await self._tax_rates(plan, tax)
        refs = []
        for line, line_mapping in lines:
            price = prices.get(mapping.lookup_key(line_mapping, plan.order.currency))
            with self._local_errors():
                params = mapping.invoice_item_params(
                    plan, line, customer.id, price, self.client.api_version
                )
            if line.line_id in rates:
                params["tax_rates"] = [rates[line.line_id]]
            record = await self.client.create(
                "/v1/invoiceitems",
                params,
                operation="invoiceitems.create",
                idempotency_key=idempotency_key("invoice-item", plan.order.order_id, line.line_id),
            )
            refs.append(self._ref(record))
        return tuple(refs)

    async def cancel_subscription(self, subscription: ExternalRef) -> None:
        """Cancel now; a subscription that has already ended is left as it is.

        Stripe refuses to cancel an ended subscription; when it refuses, the subscription
        is read back and the refusal stands only if it is still live (or does not exist).
        """
        try:
            await self.client.cancel_subscription(subscription.id)
        except (DataError, NotFoundError):
            record = await self.client.retrieve("subscriptions", subscription.id)
            if record.get("status") not in mapping.ENDED_STATUSES:
                raise

    async def read_invoice(self, invoice: ExternalRef) -> BilledInvoice:
        """The invoice with all its lines, its subscription's items (which name the order
        lines) and the payments collected for it."""
        record = await self.client.retrieve("invoices", invoice.id)
        lines = record.get("lines")
        if isinstance(lines, dict) and lines.get("has_more"):
            record["lines"] = {
                "data": await self.client.every(
                    f"/v1/invoices/{invoice.id}/lines", operation="invoices.lines"
                )
            }
        items: dict[str, Record] = {}
        subscription = _subscription_of(record)
        wanted = {invoices.subscription_item_of(line) for line in invoices.lines_of(record)}
        wanted.discard(None)
        if subscription is not None and wanted:
            items = self._items.get(subscription, {})
            if not wanted <= items.keys():  # new items since last read (or never read)
                items = {
                    str(item["id"]): item
                    for item in await self.client.every(
                        "/v1/subscription_items",
                        operation="subscription_items.list",
                        query=[("subscription", subscription)],
                    )
                }
                self._items[subscription] = items
                if len(self._items) > ITEMS_CACHED:
                    del self._items[next(iter(self._items))]  # the oldest read
        payments: list[Record] = []
        if record.get("amount_paid") or record.get("attempt_count"):
            payments = await self.client.every(
                "/v1/invoice_payments",
                operation="invoice_payments.list",
                query=[("invoice", invoice.id)],
            )
        error = None
        if record.get("attempt_count") and record.get("status") == "open":
            error = await self._last_payment_error(payments)
        return invoices.billed_invoice(self.system, record, items, payments, error)

    async def _last_payment_error(self, payments: list[Record]) -> Record | None:
        """Why the invoice's own payment last failed: its PaymentIntent's error."""
        default = next((p for p in payments if p.get("is_default")), None)
        intent = ((default or {}).get("payment") or {}).get("payment_intent")
        if not isinstance(intent, str):
            return None
        found = await self.client.retrieve("payment_intents", intent)
        error = found.get("last_payment_error")
        return error if isinstance(error, dict) else None

    async def invoice_events(self, most: int) -> list[BillingEvent]:
        """The newest invoice events (``GET /v1/events``), read as pushed ones are."""
        found = await self.client.every(
            "/v1/events",
            operation="events.list",
            query=[("types[]", kind) for kind in events.STRIPE_EVENTS],
            most=most,
        )
        return [
            events.billing_event(event) for event in found if events.is_event_id(event.get("id"))
        ]

    async def aclose(self) -> None:
        """Close this event loop's HTTP connections."""
        await self.client.aclose()

    async def report_usage(self, usage: UsageReport) -> ExternalRef:
        """One meter event for the record (``identifier`` = record id, so Stripe counts it
        once); the product's meter is found through its prices and read once."""
        prices = await self._prices.resolve(
            stripe_usage.price_keys(usage), self.client.prices_by_lookup_key
        )
        with self._local_errors():
            meter_id = stripe_usage.meter_of(usage, prices)
        if meter_id not in self._meters:
            self._meters[meter_id] = await self.client.retrieve("billing/meters", meter_id)
        with self._local_errors():
            params = stripe_usage.meter_event_params(usage, self._meters[meter_id])
        try:
            await self.client.create(
                "/v1/billing/meter_events",
                params,
                operation="billing.meter_events.create",
                idempotency_key=idempotency_key("meter-event", usage.record_id),
            )
        except DataError as error:
            if not stripe_usage.is_duplicate(error):
                raise
        return ExternalRef(system=self.system, id=usage.record_id)

    # -- internals ---------------------------------------------------------------------------

    def _ref(self, record: Record) -> ExternalRef:
        return ExternalRef(system=self.system, id=str(record["id"]))

    def _live_subscription(self, record: Record, plan: OrderPlan) -> ExternalRef:
        """The subscription's ref, unless it has ended: then the order cannot start it again."""
        if record.get("status") in mapping.ENDED_STATUSES:
            raise ConflictError(
                f"{self.system}: subscription {record['id']} of order {plan.order.order_id} "
                f"has ended ({record['status']}); it is not started again",
                system=self.system,
                code="subscription_ended",
            )
        return self._ref(record)

    async def _tax_rates(self, plan: OrderPlan, tax: TaxQuote | None) -> dict[str, str]:
        """The Stripe Tax Rate id each taxed line charges, by line id."""
        wanted = tax_rates.wanted_rates(plan, tax)
        if not wanted:
            return {}
        keys = set(wanted.values())
        if keys - self._rates.keys():
            listed = await self.client.every(
                "/v1/tax_rates", operation="tax_rates.list", query=[("active", "true")]
            )
            self._rates.update(tax_rates.rates_by_key(listed))
        for key in sorted(keys - self._rates.keys()):
            record = await self.client.create(
                "/v1/tax_rates",
                tax_rates.rate_params(key),
                operation="tax_rates.create",
                idempotency_key=tax_rates.create_key(key),
            )
            self._rates[key] = str(record["id"])
        return {line: self._rates[key] for line, key in wanted.items()}

    async def _prices_for(
        self, plan: OrderPlan, lines: list[tuple[OrderLine, LineMapping]], *, required: bool
    ) -> dict[str, Record]:
        """Prices of the plan's lines in its currency (all of them, to fill the cache once)."""
        currency = plan.order.currency
        wanted = {mapping.lookup_key(m, currency) for m in plan.lines.values()}
        found = await self._prices.resolve(wanted, self.client.prices_by_lookup_key)
        needed = {mapping.lookup_key(m, currency): line.sku for line, m in lines}
        if required and (missing := sorted(needed.keys() - found.keys())):
            raise DataError(
                f"{self.system}: no price with lookup key "
                + ", ".join(f"{key} (product {needed[key]})" for key in missing),
                system=self.system,
                code="unknown_price",
            )
        return found

    @contextmanager
    def _local_errors(self) -> Iterator[None]:
        """Errors the mapping raises name this system, like the ones Stripe answers."""
        try:
            yield
        except DataError as error:
            error.system = self.system
            error.args = (f"{self.system}: {error}",)
            raise


def _subscription_of(invoice: Record) -> str | None:
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    found = details.get("subscription") if isinstance(details, dict) else None
    found = found or invoice.get("subscription")
    return found if isinstance(found, str) else None


# -- factory ----------------------------------------------------------------------------------


def build(system_name: str, system: StripeSystem, env: Mapping[str, str]) -> StripeBilling:
    """The adapter for one ``kind: stripe`` system of the policy.

    ``credentials.api_key`` names the variable holding the secret key (``sk_…``).
    ``rate_limit.requests_per_s`` should stay at or under the account's limit (25 in a
    sandbox, 100 live); the burst is kept to half a second's worth so requests never
    arrive faster than Stripe's one-second bucket refills. Fields the system leaves unset
    take the policy's built-in defaults.
    """
    secrets = read_credentials(system_name, system, env, required=("api_key",))
    http = http_caller(system_name, system, classify, burst_share=BURST_SHARE)
    client = StripeClient(http, secrets["api_key"], system.options.api_version)
    return StripeBilling(system_name, client, system.options)
