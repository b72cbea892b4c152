"""Pure functions between the canonical model and AvaTax's transaction models.

Outbound, :func:`transaction_record` builds a ``CreateTransactionModel`` from an order
plan; inbound, :func:`quote_from_transaction` reads a ``TransactionModel`` into a
:class:`~revbridge.ports.TaxQuote`. Amounts travel as JSON numbers that equal the
``Decimal`` exactly (an amount that cannot is refused, never rounded), and come back as
``Decimal``. AvaTax caps codes at 50 characters; a longer canonical key keeps a readable
prefix and a hash (:func:`fit`), so it stays unique and deterministic.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from revbridge.canonical import (
    Address,
    Customer,
    ExternalRef,
    Money,
    OrderLine,
    idempotency_key,
)
from revbridge.connectors import wire
from revbridge.errors import DataError, PermanentError
from revbridge.ports import BilledInvoice, BilledLine, LineMapping, OrderPlan, TaxQuote

Record = dict[str, Any]

CODE_LIMIT = 50  # transaction code, customer code, line number, item code
EXEMPTION_NO_LIMIT = 25
BUSINESS_ID_LIMIT = 25
#: Countries where AvaTax needs more than the country to place an address.
STREET_LEVEL_COUNTRIES = frozenset({"US", "CA"})
#: AvaTax's entity use codes (A-R, and short custom ones) as a tax exemption reason.
_ENTITY_USE_CODE = re.compile(r"^[A-Z0-9]{1,2}$")
_HASH_CHARS = 16


def fit(text: str, limit: int = CODE_LIMIT) -> str:
    """``text`` itself when it fits, else a prefix, ``#`` and 16 hex digits of its SHA-256."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:_HASH_CHARS]
    return f"{text[: limit - _HASH_CHARS - 1]}#{digest}"


def document_code(order_id: str) -> str:
    """The AvaTax document code of an order: ``tax:<order id>``, at most 50 characters."""
    return fit(idempotency_key("tax", order_id))


def json_number(value: Decimal | int) -> int | float:
    """An exact JSON number (:func:`revbridge.connectors.wire.json_number`)."""
    return wire.json_number(value, code="InexactAmount", to="AvaTax")


def address_record(address: Address) -> Record:
    """An ``AddressLocationInfo``; absent parts are left out."""
    record: Record = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postalCode": address.postal_code,
        "country": address.country,
    }
    return {key: value for key, value in record.items() if value}


def destination(customer: Customer) -> Address | None:
    """Where the service is delivered: the shipping address, else the billing address."""
    return customer.shipping_address or customer.billing_address


def origin_record(country: str, origin: Address | None, ship_to: Record | None) -> Record | None:
    """``shipFrom``: the entity's configured origin, else the least AvaTax accepts.

    Outside the US and Canada the seller's country places it. There AvaTax needs a
    street or postal code, so without a configured origin the ship-to address stands in:
    the sale is sourced at the destination, which is where remote sales of software and
    services are taxed (only intrastate sales in origin-sourcing states would differ).
    """
    if origin is not None:
        return address_record(origin)
    if country not in STREET_LEVEL_COUNTRIES:
        return {"country": country}
    return ship_to


def _covers(jurisdictions: tuple[str, ...], place: Address | None) -> bool:
    if not jurisdictions:
        return True
    if place is None:
        return False
    here = {place.country}
    if place.region:
        here.add(f"{place.country}-{place.region.upper()}")
    return bool(here & set(jurisdictions))


def exemption_fields(customer: Customer, place: Address | None, day: date) -> Record:
    """``exemptionNo`` / ``entityUseCode`` when the customer's exemption applies here and now.

    An exemption applies unless it expired before ``day`` or lists jurisdictions that do
    not include the destination. A reason written as an AvaTax entity use code (``E``,
    ``G``...) is sent as one; the certificate id, else the reason, is the exemption number.
    """
    exemption = customer.tax_exemption
    if exemption is None or (exemption.expires_on is not None and exemption.expires_on < day):
        return {}
    if not _covers(exemption.jurisdictions, place):
        return {}
    fields: Record = {}
    if _ENTITY_USE_CODE.match(exemption.reason):
        fields["entityUseCode"] = exemption.reason
    if exemption.certificate_id:
        fields["exemptionNo"] = fit(exemption.certificate_id, EXEMPTION_NO_LIMIT)
    elif "entityUseCode" not in fields:
        fields["exemptionNo"] = fit(exemption.reason, EXEMPTION_NO_LIMIT)
    return fields


def line_mapping(plan: OrderPlan, line: OrderLine) -> LineMapping:
    mapping = plan.lines.get(line.line_id)
    if mapping is None:
        raise DataError(
            f"order {plan.order.order_id} line {line.line_id} ({line.sku}) has no product "
            "mapping, so no tax code",
            code="UNMAPPED_LINE",
        )
    return mapping


def line_number(line: OrderLine) -> str:
    return fit(line.line_id)


def line_record(line: OrderLine, mapping: LineMapping) -> Record:
    """A ``LineItemModel``: the line's net amount (after discount) and its tax code."""
    return {
        "number": line_number(line),
        "quantity": json_number(line.quantity),
        "amount": json_number(line.amount.amount),
        "taxCode": mapping.tax_code,
        "itemCode": fit(mapping.sku),
        "description": line.description or line.sku,
    }


def transaction_record(
    plan: OrderPlan,
    *,
    document_type: str,
    commit: bool,
    origin: Address | None,
    today: date,
) -> Record:
    """The ``CreateTransactionModel`` for ``plan``, coded from its order id.

    The document is dated at the contract start (else ``today``); the customer's tax id
    goes as ``businessIdentificationNo``, which AvaTax uses for VAT business-to-business
    rules (reverse charge) and ignores for US sales tax.
    """
    order, customer = plan.order, plan.order.customer
    day = order.contract.start_date if order.contract is not None else today
    place = destination(customer)
    ship_to = address_record(place) if place is not None else None
    ship_from = origin_record(plan.entity.country, origin, ship_to)
    addresses = {"shipFrom": ship_from, "shipTo": ship_to}
    record: Record = {
        "type": document_type,
        "code": document_code(order.order_id),
        "companyCode": plan.entity.tax_company_code,
        "date": day.isoformat(),
        "customerCode": fit(customer.customer_id),
        "currencyCode": str(order.currency),
        "commit": commit,
        "referenceCode": str(order.source),
        "addresses": {kind: value for kind, value in addresses.items() if value},
        "lines": [line_record(line, line_mapping(plan, line)) for line in order.lines],
        **exemption_fields(customer, place, day),
    }
    if customer.tax_id and len(customer.tax_id) <= BUSINESS_ID_LIMIT:
        record["businessIdentificationNo"] = customer.tax_id
    return record


def create_or_adjust_record(plan: OrderPlan, transaction: Record) -> Record:
    """The ``CreateOrAdjustTransactionModel`` wrapping ``transaction``."""
    order = plan.order
    return {
        "createTransactionModel": transaction,
        "adjustmentReason": "Other",
        "adjustmentDescription": f"revbridge order {order.order_id} version {order.version}",
    }


def _amount(record: Mapping[str, Any], key: str, currency: str) -> Money:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PermanentError(f"AvaTax answered without a numeric {key}", code="UnexpectedAnswer")
    return Money.of(value, currency)


def _answered_lines(record: Mapping[str, Any], currency: str, what: str) -> dict[str, Any]:
    """The lines AvaTax answered, by line number, once its currency is checked."""
    answered = str(record.get("currencyCode") or currency)
    if answered != currency:
        raise PermanentError(
            f"AvaTax computed in {answered}, {what} is in {currency}", code="CurrencyMismatch"
        )
    lines = record.get("lines")
    return {
        str(line.get("lineNumber")): line
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, dict)
    }


def quote_from_transaction(
    system: str, record: Mapping[str, Any], plan: OrderPlan, code: str
) -> TaxQuote:
    """The tax AvaTax computed for document ``code``, per order line and in total."""
    currency = str(plan.order.currency)
    by_number = _answered_lines(record, currency, "the order")
    line_tax: dict[str, Money] = {}
    for line in plan.order.lines:
        taxed = by_number.get(line_number(line))
        if taxed is None:
            raise PermanentError(
                f"AvaTax answered without line {line.line_id}", code="UnexpectedAnswer"
            )
        line_tax[line.line_id] = _amount(taxed, "tax", currency)
    return TaxQuote(
        document=ExternalRef(system=system, id=code),
        total_tax=_amount(record, "totalTax", currency),
        line_tax=line_tax,
    )


# -- invoices ---------------------------------------------------------------------------------


def invoice_document_code(invoice_id: str) -> str:
    """The AvaTax document code of a posted invoice: ``inv:<billing invoice id>``."""
    return fit(idempotency_key("inv", invoice_id))


def invoice_line_number(line: BilledLine, index: int) -> str:
    """Unique per invoice (two lines may bill one order line, such as a proration)."""
    return fit(f"{index}-{line.line_id or 'line'}")


def invoice_transaction_record(
    plan: OrderPlan, invoice: BilledInvoice, order_record: Record, *, commit: bool
) -> Record:
    """The ``CreateTransactionModel`` of a posted invoice: the order's parties and
    addresses (``order_record``), the invoice's date and lines, committed if ``commit``."""
    lines = []
    for index, line in enumerate(invoice.lines, start=1):
        mapping = plan.lines.get(line.line_id or "")
        if mapping is None:
            raise DataError(
                f"invoice {invoice.ref.id} line {index} ({line.description}) bills no line "
                f"of order {plan.order.order_id}, so it has no tax code",
                code="UNMAPPED_LINE",
            )
        lines.append(
            {
                "number": invoice_line_number(line, index),
                "quantity": json_number(line.quantity) if line.quantity else 1,
                "amount": json_number(line.amount.amount),
                "taxCode": mapping.tax_code,
                "itemCode": fit(mapping.sku),
                "description": line.description,
            }
        )
    day = invoice.issued_at.date() if invoice.issued_at is not None else None
    return {
        **order_record,
        "code": invoice_document_code(invoice.ref.id),
        "date": (day or date.fromisoformat(order_record["date"])).isoformat(),
        "currencyCode": invoice.currency,
        "commit": commit,
        "referenceCode": fit(invoice.number or invoice.ref.id),
        "purchaseOrderNo": fit(str(plan.order.source)),
        "lines": lines,
    }


def invoice_tax_from_transaction(
    system: str, record: Mapping[str, Any], invoice: BilledInvoice, code: str
) -> TaxQuote:
    """The tax AvaTax recorded for the invoice, per billed line (by order line id)."""
    currency = invoice.currency
    by_number = _answered_lines(record, currency, "the invoice")
    line_tax: dict[str, Money] = {}
    for index, line in enumerate(invoice.lines, start=1):
        taxed = by_number.get(invoice_line_number(line, index))
        if taxed is None:
            raise PermanentError(f"AvaTax answered without line {index}", code="UnexpectedAnswer")
        key = line.line_id or f"line-{index}"
        line_tax[key] = line_tax.get(key, Money.zero(currency)) + _amount(taxed, "tax", currency)
    return TaxQuote(
        document=ExternalRef(system=system, id=code),
        total_tax=_amount(record, "totalTax", currency),
        line_tax=line_tax,
    )
