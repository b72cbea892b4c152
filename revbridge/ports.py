"""What the flows need from each kind of external system, in business words.

Ports are ``typing.Protocol`` classes; adapters in ``connectors/<product>/`` implement
them. Canonical objects go in and come out; vendor names never cross this line. Every
method that creates something is idempotent by the target's own mechanism, keyed from
canonical ids, so calling it again after a lost answer finds the same object.

``OrderPlan`` is what the validation rules produce from a deal: the canonical order plus
everything the policy decided for it (legal entity, ERP subsidiary and dimensions,
product mappings), so adapters never read the policy themselves.

Capabilities some adapters have beyond their port are ``runtime_checkable`` protocols
too, so the composition root asks ``isinstance(adapter, CallsOut)`` and the type checker
follows: :class:`CallsOut` (its calls go through one HTTP caller, which metrics observe
and a fleet's shared budget limits), :class:`ChangeFeedSource` (a CRM whose changes can
be pulled) and :class:`ChangePushReceiver` (a CRM whose changes are pushed, signed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from revbridge.canonical import Customer, ExternalRef, InvoiceStatus, Money, Order
from revbridge.canonical.events import BusinessEvent
from revbridge.observability.calls import CallRecord


class PortModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DealPackage(PortModel):
    """A deal as read from the CRM: the order and the customer hierarchy, root first."""

    order: Order
    hierarchy: tuple[Customer, ...]
    stage: str
    is_won: bool
    version: str
    closed_at: datetime | None = None
    name: str | None = None  # the deal's name in the CRM


class LineMapping(PortModel):
    """How one order line's product is known downstream (from the policy's product map)."""

    sku: str
    kind: str  # subscription | service | usage
    erp_item: str
    erp_class: str | None = None
    price_lookup_key: str
    interval: str | None = None  # month | year for recurring lines
    usage_type: str = "licensed"  # licensed | metered
    tax_code: str


class EntityContext(PortModel):
    """The legal entity a deal routes to, with its ERP and tax identities."""

    code: str
    name: str
    country: str
    currency: str
    erp_subsidiary: str
    tax_company_code: str
    department: str | None = None
    location: str | None = None


class OrderPlan(PortModel):
    """A validated, enriched deal ready to be booked."""

    order: Order
    hierarchy: tuple[Customer, ...]
    entity: EntityContext
    lines: dict[str, LineMapping]  # by line_id


class TaxQuote(PortModel):
    """Tax for an order as the tax engine computed it, per line and in total."""

    document: ExternalRef
    total_tax: Money
    line_tax: dict[str, Money]


class ErpOrderState(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # submitted, waiting for the ERP to accept
    ACCEPTED = "accepted"  # approved: fulfilment and billing may proceed
    REJECTED = "rejected"  # the ERP refused it
    CLOSED = "closed"  # closed or cancelled in the ERP
    BILLED = "billed"  # invoiced in the ERP


class DealStatus(PortModel):
    """What revbridge writes back onto the deal in the CRM."""

    status: str
    correlation_id: str
    erp_order: ExternalRef | None = None
    billing_customer: ExternalRef | None = None
    billing_subscription: ExternalRef | None = None
    erp_customer: ExternalRef | None = None


# -- receivables: invoices posted by billing, the payments that settle them -----------------


class BilledLine(PortModel):
    """One line of a billing invoice, net of discounts and before tax."""

    line_id: str | None  # the order line it bills (None: a line the deal does not know)
    description: str
    quantity: Decimal
    amount: Money
    tax: Money
    metered: bool = False  # usage billed in arrears
    period_start: date | None = None
    period_end: date | None = None


class BilledPayment(PortModel):
    """Money billing collected for an invoice (one attempt that succeeded)."""

    ref: ExternalRef
    amount: Money
    received_at: datetime


class BilledInvoice(PortModel):
    """An invoice as the billing system has it now: lines, amounts, payments, failures."""

    ref: ExternalRef
    number: str | None
    status: InvoiceStatus
    currency: str
    lines: tuple[BilledLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    amount_due: Money
    amount_paid: Money
    amount_remaining: Money
    issued_at: datetime | None = None
    due_date: date | None = None
    paid_at: datetime | None = None
    correlation_id: str | None = None  # the deal's, as revbridge put it in the metadata
    order_id: str | None = None
    attempts: int = 0  # collection attempts so far
    failure: str | None = None  # why the last collection attempt failed, if it did
    payments: tuple[BilledPayment, ...] = ()


class UsageReport(PortModel):
    """Metered usage of one billing customer, reported once under its record id (billing
    dedupes on it, so a report resent after a lost answer counts once)."""

    record_id: str
    customer: ExternalRef  # the billing customer
    sku: str
    price_lookup_key: str  # the product map's billing price, per currency
    currencies: tuple[str, ...]  # the currencies the product map prices it in
    quantity: Decimal
    occurred_at: datetime


class ErpInvoiceLine(PortModel):
    line_id: str  # the order line billed
    position: int  # that line's place in the order, from 1 (how the sales order lists it)
    #: The ERP item of a line billed beyond the order (usage in arrears); None: the order
    #: line itself is billed.
    item: str | None = None
    quantity: Decimal
    amount: Money
    tax: Money


class ErpInvoice(PortModel):
    """The ERP invoice to post for one billing invoice, from the deal's sales order."""

    external_id: str  # the billing invoice's id: the ERP keeps one invoice per id
    number: str | None
    currency: str
    issued_on: date
    due_on: date | None
    lines: tuple[ErpInvoiceLine, ...]
    memo: str


class PostedErpInvoice(PortModel):
    """An ERP invoice as the ERP answered: its id and the amounts it holds."""

    ref: ExternalRef
    number: str | None
    total: Money
    tax: Money


class ErpPayment(PortModel):
    """A customer payment to apply to one ERP invoice."""

    external_id: str  # the billing payment's id: one ERP payment per id
    amount: Money
    received_on: date
    memo: str


class InvoiceView(PortModel):
    """What the CRM shows of one invoice on the deal (the account team's view)."""

    invoice: ExternalRef
    number: str | None
    status: InvoiceStatus
    total: Money
    tax: Money
    amount_paid: Money
    amount_remaining: Money
    due_date: date | None
    issued_on: date | None
    paid_on: date | None = None
    failure: str | None = None
    erp_invoice: ExternalRef | None = None
    erp_payment: ExternalRef | None = None


class Activation(PortModel):
    """What a provisioning endpoint is told once billing is live for a deal: the booked plan
    (customer, products, quantities, term), sent under one id per deal and endpoint."""

    endpoint: str  # the policy's name of the endpoint (``entitlements.endpoints[].name``)
    webhook_id: str  # equal on every delivery of this deal to this endpoint: receivers dedupe
    deal: str  # the deal's key (``salesforce:006...``)
    correlation_id: str
    plan: OrderPlan


class EntitlementsPort(Protocol):
    """Provisioning systems told that a customer's products are live."""

    async def activate(self, activation: Activation) -> None:
        """Deliver the activation to its endpoint (retried while the endpoint is down);
        a refusal raises a ``PermanentError``."""
        ...


class ClosedWonChange(PortModel):
    """A CRM change saying a deal was won, as the change feed reported it."""

    event_id: str  # the source's unique event id (not a replay position)
    deal: ExternalRef
    version: str  # identifies the change itself: equal for redeliveries of one change
    position: int | None = None  # replay position in the feed, when it has one
    occurred_at: datetime | None = None


class ChangeFeedPort(Protocol):
    """The CRM's stream of changes, read after a durable position."""

    system: str

    async def read_changes(
        self, after: int | None, limit: int
    ) -> tuple[list[ClosedWonChange], int | None]:
        """Closed-won changes after position ``after`` and the new position to store."""
        ...


class CrmPort(Protocol):
    system: str

    async def fetch_deal(self, deal: ExternalRef) -> DealPackage:
        """Read the opportunity, its account and parents, lines, products and terms."""
        ...

    async def write_back(self, deal: ExternalRef, status: DealStatus) -> None:
        """Write the integration status and financial ids onto the deal and its account."""
        ...

    async def show_invoice(self, deal: ExternalRef, view: InvoiceView) -> None:
        """Show the invoice, its amounts and its payment status on the deal."""
        ...

    async def stamp_exception(self, deal: ExternalRef, text: str | None) -> None:
        """Show why the deal is held (``None``: clear it) where the sales rep looks."""
        ...


class ErpPort(Protocol):
    system: str

    async def upsert_customer(
        self, customer: Customer, parent: ExternalRef | None, entity: EntityContext
    ) -> ExternalRef: ...

    async def submit_sales_order(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None
    ) -> ExternalRef: ...

    async def get_order_state(self, order: ExternalRef) -> ErpOrderState: ...

    async def close_sales_order(self, order: ExternalRef) -> None:
        """Compensation: close every line of the order so nothing is fulfilled or billed."""
        ...

    async def post_invoice(self, order: ExternalRef, invoice: ErpInvoice) -> PostedErpInvoice:
        """Bill ``invoice.lines`` of the sales order as one ERP invoice (found, not posted
        again, when one with ``invoice.external_id`` exists)."""
        ...

    async def record_payment(self, invoice: ExternalRef, payment: ErpPayment) -> ExternalRef:
        """A customer payment applied to the ERP invoice (found when it exists)."""
        ...


class TaxPort(Protocol):
    system: str

    async def quote_tax(self, plan: OrderPlan) -> TaxQuote:
        """Compute and record tax under a document code derived from the order id."""
        ...

    async def void_tax(self, document: ExternalRef, entity: EntityContext) -> None: ...

    async def invoice_tax(self, plan: OrderPlan, invoice: BilledInvoice) -> TaxQuote:
        """Record the tax of a posted invoice under a document code derived from its id,
        committed when the policy commits documents; per line by ``BilledLine.line_id``."""
        ...


class BillingPort(Protocol):
    system: str

    async def ensure_customer(self, customer: Customer, entity: EntityContext) -> ExternalRef: ...

    async def start_subscription(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
    ) -> ExternalRef | None:
        """Recurring and metered lines as one subscription; None when the order has none.
        With ``tax``, each line charges the tax the tax engine quoted for it."""
        ...

    async def add_invoice_items(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
    ) -> tuple[ExternalRef, ...]:
        """One-time service lines as invoice items on the customer's next invoice, each
        charging its quoted tax (with ``tax``)."""
        ...

    async def cancel_subscription(self, subscription: ExternalRef) -> None: ...

    async def read_invoice(self, invoice: ExternalRef) -> BilledInvoice:
        """The invoice as billing has it now, with its lines and the payments collected."""
        ...

    async def report_usage(self, usage: UsageReport) -> ExternalRef:
        """Report metered usage to the product's meter; the ref names the reported event."""
        ...


class BillingEvent(PortModel):
    """One event a billing system pushed, verified and read."""

    source: str  # where it came from, as the inbox records it (the product: ``stripe``)
    event_id: str  # the source's unique event id
    event_type: str  # the source's own name for what happened
    payload: dict[str, Any]  # the event as received
    canonical: BusinessEvent | None = None  # what it means to revbridge, when anything


class BillingEventsPort(Protocol):
    """The events a billing system pushes (invoices posted, payments received)."""

    system: str

    def read_event(self, headers: Mapping[str, str], body: bytes, now: float) -> BillingEvent:
        """The event of one pushed body, after checking its signature.

        Raises ``AuthError`` when the body is unsigned, forged or signed too long ago,
        :class:`~revbridge.ingress.payloads.PayloadError` (a ``ValueError``) when it is not
        JSON revbridge reads, and ``ValueError`` when it is not an event.
        """
        ...


# -- capabilities ------------------------------------------------------------------------------

#: Told about every attempt of every call a connector makes (the metrics count them).
CallObserver = Callable[[CallRecord], None]


class SharedBudget(Protocol):
    """Limits held across every worker of the fleet (``revbridge.store.budgets``)."""

    async def enter(
        self,
        system: str,
        max_concurrency: int | None,
        requests_per_s: float | None,
        burst: int,
        ttl_s: float,
    ) -> int: ...
    async def leave(self, system: str, slot: int) -> None: ...


class CallSite(Protocol):
    """An adapter's HTTP caller as the composition root sees it (``HttpCaller``)."""

    system: str
    observers: list[CallObserver]
    shared_budget: SharedBudget | None


@runtime_checkable
class CallsOut(Protocol):
    """An adapter whose every call goes through one HTTP caller."""

    @property
    def http(self) -> CallSite: ...


@runtime_checkable
class ChangeFeedSource(Protocol):
    """A CRM whose changes can be read after a durable position."""

    def change_feed(self) -> ChangeFeedPort: ...


@runtime_checkable
class BillingEventFeed(Protocol):
    """A billing system whose recent events can be listed (to find lost webhooks)."""

    system: str

    async def invoice_events(self, most: int) -> list[BillingEvent]:
        """The newest ``most`` invoice events (posted, paid, payment failed), newest first."""
        ...


@runtime_checkable
class ChangePushReceiver(Protocol):
    """A CRM that pushes signed change events to revbridge."""

    system: str

    def pushed_changes(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[ClosedWonChange]:
        """Closed-won changes of one pushed body, after checking its signature
        (``AuthError`` when forged, stale or unsigned; ``ValueError`` when malformed)."""
        ...
