"""``AvalaraTax``: the tax port on Avalara AvaTax REST v2, and its factory.

**Idempotency.** A quote is recorded with ``createoradjust`` under a document code
derived from the canonical order id (``tax:<order id>``, see
:func:`~revbridge.connectors.avalara.mapping.document_code`). Sending it again, after a
lost answer or for a changed order, adjusts that document: AvaTax keeps one current
version per code, so a retry never records a second document. Voiding is idempotent
too: a document that is already cancelled counts as voided.

**Commit.** A quote is never committed. The order may still be refused by the ERP,
and a committed document is reported on the tax return and, once the period is filed,
can no longer be voided. The policy's ``commit_documents`` means "commit the document
when the invoice posts": each posted invoice is recorded as its own document,
``inv:<billing invoice id>`` (:meth:`AvalaraTax.invoice_tax`), committed when the policy
commits documents and left saved otherwise (for the tax team to commit in AvaTax).

**Document type.** ``SalesInvoice`` (the default) is recorded; ``SalesOrder`` is an
estimate AvaTax does not keep, so voiding or committing it has nothing to act on.

**Origin.** ``origins`` maps a legal entity code to the address its sales ship from.
Without one, the entity's country is the origin, except in the US and Canada, where
the customer's address stands in (see :func:`~revbridge.connectors.avalara.mapping.origin_record`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime

from revbridge.canonical import Address, ExternalRef
from revbridge.config.systems import AvalaraSystem
from revbridge.connectors.avalara import mapping
from revbridge.connectors.avalara.classify import classify
from revbridge.connectors.avalara.client import AvalaraClient, HeaderAuth, basic_token
from revbridge.connectors.builder import http_caller, read_credentials
from revbridge.connectors.http import HttpCaller
from revbridge.errors import ConfigError, ConnectorError, DataError
from revbridge.observability import redaction
from revbridge.ports import BilledInvoice, EntityContext, OrderPlan, TaxQuote

#: What voiding an already voided document answers.
ALREADY_CANCELLED = "TransactionAlreadyCancelled"
#: Accepted credential sets, in order of preference.
CREDENTIAL_SETS: tuple[tuple[str, ...], ...] = (
    ("bearer_token",),
    ("account_id", "license_key"),
    ("username", "password"),
)


def utc_today() -> date:
    return datetime.now(UTC).date()


class AvalaraTax:
    """The tax port on AvaTax (``ExternalRef.system`` is the policy's system name)."""

    def __init__(
        self,
        system: str,
        client: AvalaraClient,
        *,
        document_type: str = "SalesInvoice",
        commit_documents: bool = True,
        origins: Mapping[str, Address] | None = None,
    ) -> None:
        self.system = system
        self.client = client
        self.document_type = document_type
        self.commit_documents = commit_documents
        self.origins = dict(origins or {})

    @property
    def http(self) -> HttpCaller:
        """The caller every request of this adapter goes through (``ports.CallsOut``)."""
        return self.client.http

    @property
    def records_documents(self) -> bool:
        """Invoice types are recorded by AvaTax; order types are estimates it forgets."""
        return self.document_type.endswith("Invoice")

    async def quote_tax(self, plan: OrderPlan) -> TaxQuote:
        """Calculate and record (uncommitted) the order's tax under ``tax:<order id>``."""
        with self._local_errors():
            transaction = mapping.transaction_record(
                plan,
                document_type=self.document_type,
                commit=False,
                origin=self.origins.get(plan.entity.code),
                today=utc_today(),
            )
            body = mapping.create_or_adjust_record(plan, transaction)
        record = await self.client.create_or_adjust(body)
        with self._local_errors():
            return mapping.quote_from_transaction(self.system, record, plan, transaction["code"])

    async def void_tax(self, document: ExternalRef, entity: EntityContext) -> None:
        """Compensation: void the document (reason ``DocVoided``); voided already is fine."""
        if not self.records_documents:
            return
        try:
            await self.client.void(entity.tax_company_code, document.id, self.document_type)
        except DataError as error:
            if error.code != ALREADY_CANCELLED:
                raise

    async def invoice_tax(self, plan: OrderPlan, invoice: BilledInvoice) -> TaxQuote:
        """Record the posted invoice's tax under ``inv:<invoice id>`` (``createoradjust``,
        so a repeat adjusts the one document), committed when the policy commits documents.
        The order's quote stays an uncommitted estimate: what is reported is what was
        invoiced."""
        with self._local_errors():
            order_record = mapping.transaction_record(
                plan,
                document_type=self.document_type,
                commit=False,
                origin=self.origins.get(plan.entity.code),
                today=utc_today(),
            )
            transaction = mapping.invoice_transaction_record(
                plan,
                invoice,
                order_record,
                commit=self.commit_documents and self.records_documents,
            )
            body = {
                "createTransactionModel": transaction,
                "adjustmentReason": "Other",
                "adjustmentDescription": f"revbridge invoice {invoice.ref.id}",
            }
        record = await self.client.create_or_adjust(body)
        with self._local_errors():
            return mapping.invoice_tax_from_transaction(
                self.system, record, invoice, transaction["code"]
            )

    async def aclose(self) -> None:
        """Close this event loop's HTTP connections."""
        await self.client.aclose()

    @contextmanager
    def _local_errors(self) -> Iterator[None]:
        """Errors the mapping raises name this system, like the ones AvaTax answers."""
        try:
            yield
        except ConnectorError as error:
            error.system = self.system
            raise


# -- factory ----------------------------------------------------------------------------------


def authentication(system_name: str, system: AvalaraSystem, env: Mapping[str, str]) -> HeaderAuth:
    """Bearer when ``bearer_token`` is given, else Basic with an account id and license
    key, else Basic with a user name and password."""
    for names in CREDENTIAL_SETS:
        if set(names) <= system.credentials.keys():
            secrets = read_credentials(system_name, system, env, names=names)
            values = [secrets[name] for name in names]
            if len(values) == 1:
                return HeaderAuth.bearer(values[0])
            redaction.register_secret(basic_token(values[0], values[1]))
            return HeaderAuth.basic(values[0], values[1])
    raise ConfigError(
        f"systems.{system_name}.credentials: give account_id and license_key, "
        "username and password, or bearer_token"
    )


def build(
    system_name: str,
    system: AvalaraSystem,
    env: Mapping[str, str],
    *,
    origins: Mapping[str, Address] | None = None,
) -> AvalaraTax:
    """The adapter for one AvaTax system of the policy, credentials read from ``env``.

    ``origins`` (legal entity code → address) says where each entity's sales ship from.
    """
    http = http_caller(system_name, system, classify, auth=authentication(system_name, system, env))
    return AvalaraTax(
        system_name,
        AvalaraClient(http),
        document_type=system.options.document_type,
        commit_documents=system.options.commit_documents,
        origins=origins,
    )
