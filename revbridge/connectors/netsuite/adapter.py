"""``NetSuiteErp``: the ERP port on NetSuite's REST web services, and its factory.

Customers, sales orders and customer payments are written with upsert by external id
(``PUT …/eid:<canonical id>``), so repeating a call after a lost answer updates the record
it already made. An invoice is the sales order transformed (``!transform/invoice``) with
the billing invoice's id as its external id: NetSuite refuses a second invoice with that
id, so a repeat after a lost answer finds the first one by ``eid:``.

Currency and item internal ids are looked up with SuiteQL once per process and cached;
an unknown one is looked up again next time, not remembered as missing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager

from revbridge.canonical import Customer, ExternalRef
from revbridge.config.systems import NetSuiteSystem, RateLimit
from revbridge.connectors.builder import http_caller, read_credentials
from revbridge.connectors.http import Auth, HttpCaller, LoopLock
from revbridge.connectors.netsuite import mapping
from revbridge.connectors.netsuite.auth import BearerAuth, TbaCredentials, TbaSigningTransport
from revbridge.connectors.netsuite.classify import classify
from revbridge.connectors.netsuite.client import NetSuiteClient, external_key
from revbridge.errors import ConflictError, DataError, NotFoundError
from revbridge.ports import (
    EntityContext,
    ErpInvoice,
    ErpOrderState,
    ErpPayment,
    OrderPlan,
    PostedErpInvoice,
    TaxQuote,
)

_INVOICE_FIELDS = ("id", "tranId", "total", "taxTotal")
TBA_CREDENTIALS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
#: NetSuite's smallest account concurrency limit, used when the policy sets no rate limit.
DEFAULT_RATE_LIMIT = RateLimit(requests_per_s=10.0, burst=10, max_concurrency=5)


class _ReferenceIds:
    """Internal ids of reference records, fetched once and shared by concurrent callers."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self._lock = LoopLock()

    async def resolve(
        self, keys: set[str], fetch: Callable[[set[str]], Awaitable[dict[str, str]]]
    ) -> dict[str, str]:
        """The ids of ``keys`` that exist; ``fetch`` is called for the missing ones only."""
        if keys - self.ids.keys():
            async with self._lock.current():
                if missing := keys - self.ids.keys():
                    self.ids.update(await fetch(missing))
        return {k: self.ids[k] for k in keys if k in self.ids}


class NetSuiteErp:
    """The ERP port on NetSuite (``ExternalRef.system`` is the policy's system name)."""

    def __init__(self, system: str, client: NetSuiteClient) -> None:
        self.system = system
        self.client = client
        self._currencies = _ReferenceIds()
        self._items = _ReferenceIds()

    @property
    def http(self) -> HttpCaller:
        """The caller every request of this adapter goes through (``ports.CallsOut``)."""
        return self.client.http

    async def upsert_customer(
        self, customer: Customer, parent: ExternalRef | None, entity: EntityContext
    ) -> ExternalRef:
        """Create or update the customer under ``eid:<customer_id>`` in the entity's subsidiary."""
        currency = await self._currency_id(customer.currency)
        body = mapping.customer_record(
            customer,
            parent=parent.id if parent is not None else None,
            subsidiary=entity.erp_subsidiary,
            currency=currency,
        )
        return await self._upsert("customer", mapping.customer_external_id(customer), body)

    async def submit_sales_order(
        self, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None
    ) -> ExternalRef:
        """Create or update the sales order under ``eid:<order_id>``, one line per order line."""
        with self._local_errors():
            wanted = {mapping.line_mapping(plan, line).erp_item for line in plan.order.lines}
        currency = await self._currency_id(plan.order.currency)
        items = await self._item_ids(wanted)
        with self._local_errors():
            body = mapping.sales_order_record(
                plan, customer=customer.id, currency=currency, items=items, tax=tax
            )
        return await self._upsert("salesOrder", mapping.order_external_id(plan), body)

    async def get_order_state(self, order: ExternalRef) -> ErpOrderState:
        record = await self.client.get("salesOrder", order.id, fields=("status", "orderStatus"))
        with self._local_errors():
            return mapping.order_state_from_record(record)

    async def close_sales_order(self, order: ExternalRef) -> None:
        """Close every open line (the order then reads *Closed*); closed lines stay as they are."""
        record = await self.client.get("salesOrder", order.id, expand=True)
        patch = mapping.close_lines_patch(record)
        if patch is not None:
            await self.client.patch("salesOrder", order.id, patch, idempotent=True)

    async def post_invoice(self, order: ExternalRef, invoice: ErpInvoice) -> PostedErpInvoice:
        """The sales order's invoice for ``invoice``: found by external id, else the order
        transformed (with usage lines added), or an invoice of its own for usage alone."""
        found = await self._invoice_by_external_id(invoice)
        if found is not None:
            return found
        record = await self.client.get("salesOrder", order.id, expand=True)
        items = await self._item_ids({line.item for line in invoice.lines if line.item})
        numbers = mapping.order_line_numbers(record)
        if all(line.item is not None for line in invoice.lines):
            # only usage, billed after the order: an invoice of its own, upserted
            with self._local_errors():
                body = mapping.invoice_body(invoice, numbers, items, order=record)
            ref = await self._upsert("invoice", invoice.external_id, body)
            posted = await self.client.get("invoice", ref.id, fields=_INVOICE_FIELDS)
            return mapping.posted_invoice(self.system, posted, invoice.currency)
        with self._local_errors():
            body = mapping.invoice_body(invoice, numbers, items)
        try:
            internal_id = await self.client.transform("salesOrder", order.id, "invoice", body)
        except (ConflictError, DataError):
            # a lost answer retried: NetSuite refused the second invoice with this external id
            found = await self._invoice_by_external_id(invoice)
            if found is None:
                raise
            return found
        key = internal_id or external_key(invoice.external_id)
        posted = await self.client.get("invoice", key, fields=_INVOICE_FIELDS)
        return mapping.posted_invoice(self.system, posted, invoice.currency)

    async def record_payment(self, invoice: ExternalRef, payment: ErpPayment) -> ExternalRef:
        """A customer payment under ``eid:<payment id>`` applied to the invoice, in the
        invoice's customer and currency."""
        record = await self.client.get("invoice", invoice.id, fields=("entity", "currency"))
        customer = (record.get("entity") or {}).get("id")
        currency = (record.get("currency") or {}).get("id")
        if not customer or not currency:
            raise DataError(
                f"netsuite: invoice {invoice.id} has no customer or currency",
                code="INVOICE_SHAPE",
                system=self.system,
            )
        body = mapping.customer_payment_body(payment, invoice, str(customer), str(currency))
        return await self._upsert("customerPayment", payment.external_id, body)

    async def aclose(self) -> None:
        """Close this event loop's HTTP connections."""
        await self.client.aclose()

    # -- internals ---------------------------------------------------------------------------

    async def _upsert(
        self, record_type: str, external_id: str, body: mapping.Record
    ) -> ExternalRef:
        internal_id = await self.client.upsert(record_type, external_id, body)
        if internal_id is None:  # no Location: read the id back by external id
            record = await self.client.get(record_type, external_key(external_id), fields=("id",))
            internal_id = str(record["id"])
        return ExternalRef(system=self.system, id=internal_id)

    async def _currency_id(self, code: str) -> str:
        async def fetch(_: set[str]) -> dict[str, str]:
            rows = await self.client.suiteql(mapping.CURRENCY_QUERY)
            return mapping.currency_ids_from_rows(rows)

        found = await self._currencies.resolve({code.upper()}, fetch)
        if not found:
            raise DataError(
                f"netsuite: no currency with ISO code {code}",
                code="UNKNOWN_CURRENCY",
                system=self.system,
            )
        return found[code.upper()]

    async def _item_ids(self, external_ids: set[str]) -> dict[str, str]:
        async def fetch(missing: set[str]) -> dict[str, str]:
            rows = await self.client.suiteql(mapping.item_query(missing))
            return mapping.item_ids_from_rows(rows)

        found = await self._items.resolve(external_ids, fetch)
        if unknown := sorted(external_ids - found.keys()):
            raise DataError(
                f"netsuite: no item with external id {', '.join(unknown)}",
                code="UNKNOWN_ITEM",
                system=self.system,
            )
        return found

    async def _invoice_by_external_id(self, invoice: ErpInvoice) -> PostedErpInvoice | None:
        try:
            record = await self.client.get(
                "invoice", external_key(invoice.external_id), fields=_INVOICE_FIELDS
            )
        except NotFoundError:
            return None
        return mapping.posted_invoice(self.system, record, invoice.currency)

    @contextmanager
    def _local_errors(self) -> Iterator[None]:
        """Errors the mapping raises name this system, like the ones NetSuite answers."""
        try:
            yield
        except DataError as error:
            error.system = self.system
            raise


# -- factory ----------------------------------------------------------------------------------


def _authentication(
    system_name: str, system: NetSuiteSystem, env: Mapping[str, str]
) -> tuple[Auth | None, TbaSigningTransport | None]:
    """OAuth 2.0 when the credentials give ``access_token``, else TBA (all four parts)."""
    if "access_token" in system.credentials:
        token = read_credentials(system_name, system, env, names=["access_token"])
        return BearerAuth(token["access_token"]), None
    parts = read_credentials(
        system_name, system, env, names=TBA_CREDENTIALS, required=TBA_CREDENTIALS
    )
    credentials = TbaCredentials(account_id=system.options.account_id, **parts)
    return None, TbaSigningTransport(credentials)


def build(system_name: str, system: NetSuiteSystem, env: Mapping[str, str]) -> NetSuiteErp:
    """The adapter for one NetSuite system of the policy, credentials read from ``env``.

    ``rate_limit.max_concurrency`` caps this process's requests in flight; keep it at or
    below the account's concurrency limit (5 on the smallest service tier), which
    NetSuite enforces by refusing, not queueing, the request over it. Without a
    ``rate_limit`` the system gets :data:`DEFAULT_RATE_LIMIT`; other unset fields take the
    policy's built-in defaults.
    """
    auth, transport = _authentication(system_name, system, env)
    http = http_caller(
        system_name,
        system,
        classify,
        auth=auth,
        transport=transport,
        default_rate_limit=DEFAULT_RATE_LIMIT,
    )
    return NetSuiteErp(system_name, NetSuiteClient(http))
