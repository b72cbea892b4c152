"""Pure functions between canonical objects and NetSuite REST records.

External ids are the canonical ids themselves: a customer is ``eid:<customer_id>``, a
sales order ``eid:<order_id>``. Canonical ids are at most 100 printable characters,
which is what NetSuite allows an external id, and NetSuite keeps external ids unique
per record type, so no prefix is needed. Amounts, rates and quantities are built from
``Decimal`` and sent as JSON numbers whose text is exactly the decimal's (an integer
when whole); a value that a JSON number cannot carry exactly is refused, not rounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from revbridge.canonical import Address, Customer, ExternalRef, Money, OrderLine
from revbridge.connectors import wire
from revbridge.errors import DataError
from revbridge.ports import (
    ErpInvoice,
    ErpOrderState,
    ErpPayment,
    LineMapping,
    OrderPlan,
    PostedErpInvoice,
    TaxQuote,
)

Record = dict[str, Any]

#: Sales order status letters (``SalesOrd:A`` … ``SalesOrd:H``) and what they mean to us.
STATE_BY_LETTER = {
    "A": ErpOrderState.PENDING_APPROVAL,  # Pending Approval
    "B": ErpOrderState.ACCEPTED,  # Pending Fulfillment
    "C": ErpOrderState.REJECTED,  # Cancelled: refused before it was approved
    "D": ErpOrderState.ACCEPTED,  # Partially Fulfilled
    "E": ErpOrderState.ACCEPTED,  # Pending Billing/Partially Fulfilled
    "F": ErpOrderState.ACCEPTED,  # Pending Billing
    "G": ErpOrderState.BILLED,  # Billed
    "H": ErpOrderState.CLOSED,  # Closed
}
_LETTER_BY_NAME = {
    "pendingapproval": "A",
    "pendingfulfillment": "B",
    "cancelled": "C",
    "partiallyfulfilled": "D",
    "pendingbillingpartiallyfulfilled": "E",
    "pendingbilling": "F",
    "billed": "G",
    "closed": "H",
}
_EXACT_DIGITS = 15  # a double carries any decimal of up to 15 significant digits exactly


def ref(internal_id: str) -> dict[str, str]:
    return {"id": internal_id}


def json_number(value: Decimal) -> int | float:
    """``value`` as a JSON number whose text is exactly the decimal (``12.50`` → ``12.5``)."""
    return wire.json_number(value)


def _exact_quotient(amount: Decimal, quantity: Decimal) -> Decimal | None:
    """``amount / quantity`` when it is a short exact decimal, else None."""
    if quantity == 0:
        return None
    quotient = (amount / quantity).normalize()
    if len(quotient.as_tuple().digits) > _EXACT_DIGITS or quotient * quantity != amount:
        return None
    return quotient


# -- customers -------------------------------------------------------------------------------


def customer_external_id(customer: Customer) -> str:
    return customer.customer_id


def address_record(address: Address, addressee: str) -> Record:
    fields = {
        "addressee": addressee,
        "addr1": address.line1,
        "addr2": address.line2,
        "city": address.city,
        "state": address.region,
        "zip": address.postal_code,
        "country": ref(address.country),
    }
    return {k: v for k, v in fields.items() if v is not None}


def address_book(customer: Customer) -> Record | None:
    """One line per distinct address, flagged default billing and/or default shipping."""
    billing, shipping = customer.billing_address, customer.shipping_address
    if shipping == billing:
        shipping = None
    lines = []
    if billing is not None:
        lines.append(
            {
                "defaultBilling": True,
                "defaultShipping": customer.shipping_address in (None, billing),
                "addressBookAddress": address_record(billing, customer.name),
            }
        )
    if shipping is not None:
        lines.append(
            {
                "defaultBilling": False,
                "defaultShipping": True,
                "addressBookAddress": address_record(shipping, customer.name),
            }
        )
    return {"items": lines} if lines else None


def customer_record(
    customer: Customer, *, parent: str | None, subsidiary: str, currency: str
) -> Record:
    """The body of ``PUT customer/eid:<customer_id>``."""
    record: Record = {
        "externalId": customer_external_id(customer),
        "entityId": customer.customer_id,
        "companyName": customer.name,
        "isPerson": False,
        "subsidiary": ref(subsidiary),
        "currency": ref(currency),
    }
    if (addresses := address_book(customer)) is not None:
        record["addressBook"] = addresses
    if parent is not None:
        record["parent"] = ref(parent)
    if customer.tax_id is not None:
        record["vatRegNumber"] = customer.tax_id
    return record


# -- sales orders ----------------------------------------------------------------------------


def order_external_id(plan: OrderPlan) -> str:
    return plan.order.order_id


def line_mapping(plan: OrderPlan, line: OrderLine) -> LineMapping:
    mapping = plan.lines.get(line.line_id)
    if mapping is None:
        raise DataError(
            f"order {plan.order.order_id} line {line.line_id} ({line.sku}) has no ERP item mapping",
            code="UNMAPPED_LINE",
        )
    return mapping


def order_line_record(
    line: OrderLine, mapping: LineMapping, item: str, tax: Money | None
) -> Record:
    """One ``item`` sublist line: net amount, and the rate it implies after any discount."""
    record: Record = {
        "item": ref(item),
        "quantity": json_number(line.quantity),
        "amount": json_number(line.amount.amount),
    }
    rate = (
        line.unit_price.amount
        if line.discount is None
        else _exact_quotient(line.amount.amount, line.quantity)
    )
    if rate is not None:
        record["rate"] = json_number(rate)
    if line.description is not None:
        record["description"] = line.description
    if mapping.erp_class is not None:
        record["class"] = ref(mapping.erp_class)
    if line.service_start is not None:
        record["revRecStartDate"] = line.service_start.isoformat()
    if line.service_end is not None:
        record["revRecEndDate"] = line.service_end.isoformat()
    if tax is not None:
        record["taxDetailsReference"] = line.line_id
    return record


def tax_detail_record(line: OrderLine, tax: Money) -> Record:
    """One SuiteTax ``taxDetails`` line carrying the tax engine's amount for an order line."""
    rate = (tax.amount * 100 / line.amount.amount) if line.amount.amount else None
    record: Record = {
        "taxDetailsReference": line.line_id,
        "lineName": line.sku,
        "taxBasis": json_number(line.amount.amount),
        "taxAmount": json_number(tax.amount),
    }
    if rate is not None and _exact_quotient(tax.amount * 100, line.amount.amount) is not None:
        record["taxRate"] = json_number(rate)
    return record


def sales_order_record(
    plan: OrderPlan,
    *,
    customer: str,
    currency: str,
    items: Mapping[str, str],
    tax: TaxQuote | None,
) -> Record:
    """The body of ``PUT salesOrder/eid:<order_id>``; ``items`` maps item external → internal id.

    ``tranDate`` is left to NetSuite (the day of creation) so that submitting the same
    order again on a later day does not move it.
    """
    order, entity = plan.order, plan.entity
    lines, details = [], []
    for line in order.lines:
        mapping = line_mapping(plan, line)
        line_tax = tax.line_tax.get(line.line_id) if tax is not None else None
        lines.append(order_line_record(line, mapping, items[mapping.erp_item], line_tax))
        if line_tax is not None:
            details.append(tax_detail_record(line, line_tax))
    record: Record = {
        "externalId": order_external_id(plan),
        "entity": ref(customer),
        "subsidiary": ref(entity.erp_subsidiary),
        "currency": ref(currency),
        "otherRefNum": order.source.id,
        "memo": f"revbridge correlation {order.correlation_id}",
        "item": {"items": lines},
    }
    if details:
        record["taxDetailsOverride"] = True
        record["taxDetails"] = {"items": details}
    if entity.department is not None:
        record["department"] = ref(entity.department)
    if entity.location is not None:
        record["location"] = ref(entity.location)
    if order.contract is not None:
        record["startDate"] = order.contract.start_date.isoformat()
        record["endDate"] = order.contract.end_date.isoformat()
    return record


def close_lines_patch(order: Record) -> Record | None:
    """The PATCH closing every open line of an expanded order; None when all are closed."""
    lines = (order.get("item") or {}).get("items") or []
    numbers = [line["line"] for line in lines if not line.get("isClosed")]
    if not numbers:
        return None
    return {"item": {"items": [{"line": n, "isClosed": True} for n in numbers]}}


def _status_letter(value: Any) -> str | None:
    texts = [value.get("id"), value.get("refName")] if isinstance(value, dict) else [value]
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        code = text.rsplit(":", 1)[-1]  # SuiteQL spells it SalesOrd:B
        if code in STATE_BY_LETTER:
            return code
        letter = _LETTER_BY_NAME.get(re.sub(r"[^a-z]", "", text.lower()))
        if letter is not None:
            return letter
    return None


def order_state_from_record(order: Record) -> ErpOrderState:
    """The order's state from its ``status`` (or, failing that, ``orderStatus``)."""
    letter = _status_letter(order.get("status")) or _status_letter(order.get("orderStatus"))
    if letter is None:
        raise DataError(
            f"sales order {order.get('id')} has a status revbridge does not know: "
            f"{order.get('status')!r}",
            code="UNKNOWN_STATUS",
        )
    return STATE_BY_LETTER[letter]


# -- reference data (SuiteQL) ----------------------------------------------------------------

CURRENCY_QUERY = "SELECT id, symbol FROM currency"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def item_query(external_ids: Iterable[str]) -> str:
    """SuiteQL over REST takes no bind parameters: the values are quoted by :func:`sql_text`."""
    listed = ", ".join(sql_text(e) for e in sorted(external_ids))
    return f"SELECT id, externalid FROM item WHERE externalid IN ({listed})"  # noqa: S608


def currency_ids_from_rows(rows: Iterable[Record]) -> dict[str, str]:
    """ISO code (NetSuite's ``symbol``) → currency internal id."""
    return {str(r["symbol"]).upper(): str(r["id"]) for r in rows if r.get("symbol")}


def item_ids_from_rows(rows: Iterable[Record]) -> dict[str, str]:
    """Item external id → internal id."""
    return {str(r["externalid"]): str(r["id"]) for r in rows if r.get("externalid")}


# -- invoices and payments --------------------------------------------------------------------


def order_line_numbers(order: Record) -> list[str]:
    """The ``line`` number of each item line of an expanded sales order, in order."""
    lines = (order.get("item") or {}).get("items") or []
    return [str(line.get("line") or index) for index, line in enumerate(lines, start=1)]


def invoice_lines(
    invoice: ErpInvoice, order_lines: list[str], items: Mapping[str, str]
) -> tuple[list[Record], list[Record]]:
    """The ``item`` and ``taxDetails`` lines of the ERP invoice: order lines by their
    ``orderLine`` number, lines beyond the order (usage) by their item's internal id."""
    lines, details = [], []
    for line in invoice.lines:
        record: Record = {
            "quantity": json_number(line.quantity),
            "amount": json_number(line.amount.amount),
            "taxDetailsReference": line.line_id,
        }
        if line.item is not None:
            record["item"] = ref(items[line.item])
        elif 1 <= line.position <= len(order_lines):
            record["orderLine"] = int(order_lines[line.position - 1])
        else:
            raise DataError(
                f"the sales order has no line {line.position} (order line {line.line_id})",
                code="UNKNOWN_ORDER_LINE",
            )
        lines.append(record)
        # every line, untaxed ones too: the invoice's tax is billing's, never the order's
        details.append(
            {
                "taxDetailsReference": line.line_id,
                "taxBasis": json_number(line.amount.amount),
                "taxAmount": json_number(line.tax.amount),
            }
        )
    return lines, details


def invoice_body(
    invoice: ErpInvoice,
    order_lines: list[str],
    items: Mapping[str, str],
    order: Record | None = None,
) -> Record:
    """The body of ``salesOrder/{id}/!transform/invoice`` billing ``invoice.lines``; with
    ``order``, of ``PUT invoice/eid:<id>``: a standalone invoice in the order's customer,
    subsidiary and currency (usage billed after the order is fully billed)."""
    lines, details = invoice_lines(invoice, order_lines, items)
    body: Record = {
        "externalId": invoice.external_id,
        "tranDate": invoice.issued_on.isoformat(),
        "memo": invoice.memo,
        "item": {"items": lines},
    }
    if order is not None:
        for name in ("entity", "subsidiary", "currency", "department", "location"):
            if isinstance(order.get(name), dict) and order[name].get("id"):
                body[name] = ref(str(order[name]["id"]))
    if invoice.number:
        body["otherRefNum"] = invoice.number
    if invoice.due_on is not None:
        body["dueDate"] = invoice.due_on.isoformat()
    body["taxDetailsOverride"] = True
    body["taxDetails"] = {"items": details}
    return body


def _decimal(value: Any) -> Decimal:
    return (
        Decimal(str(value)) if isinstance(value, (int, float, str)) and value != "" else Decimal(0)
    )


def posted_invoice(system: str, record: Record, currency: str) -> PostedErpInvoice:
    """An ERP invoice as NetSuite answered it."""
    return PostedErpInvoice(
        ref=ExternalRef(system=system, id=str(record["id"])),
        number=str(record["tranId"]) if record.get("tranId") else None,
        total=Money.of(_decimal(record.get("total")), currency),
        tax=Money.of(_decimal(record.get("taxTotal")), currency),
    )


def customer_payment_body(
    payment: ErpPayment, invoice: ExternalRef, customer: str, currency: str
) -> Record:
    """The body of ``PUT customerPayment/eid:<payment id>`` applying it to ``invoice``."""
    amount = json_number(payment.amount.amount)
    return {
        "externalId": payment.external_id,
        "customer": ref(customer),
        "currency": ref(currency),
        "payment": amount,
        "tranDate": payment.received_on.isoformat(),
        "memo": payment.memo,
        "apply": {
            "items": [
                {
                    "doc": ref(invoice.id),
                    "apply": True,
                    "amount": json_number(payment.amount.amount),
                }
            ]
        },
    }
