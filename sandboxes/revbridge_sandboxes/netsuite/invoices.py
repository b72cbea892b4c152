"""Invoices: defaults, tax, the sales order to invoice transform and its billing.

``POST salesOrder/{id}/!transform/invoice`` bills the order's open lines. Its body may
carry header fields (``externalId``, ``tranDate``, ``dueDate``, ``memo``,
``otherRefNum``...) and an ``item.items`` list choosing lines: each ``{"orderLine": n,
"quantity"?, "amount"?}`` (and optionally ``description``, ``taxCode``, segments or
``taxDetailsReference``). Without a list every open line is billed in full. A line named
by ``item`` instead of ``orderLine`` is added to the invoice beyond the order (as a user
adds a line to an invoice being created from an order): usage billed in arrears. A line
named with only a quantity bills ``quantity x rate`` and may not exceed the line's
remaining quantity; a line named with an amount (a part of a subscription period, say)
bills that amount, which may not exceed the line's remaining amount, with the quantity
given (at most the ordered quantity) or, by default, the remaining one. Each order line
keeps ``amountBilled`` and ``quantityBilled`` (see :mod:`.orders` for the order status).

SuiteTax: with ``taxDetailsOverride: true`` the ``taxDetails`` lines (matched to item
lines by ``taxDetailsReference``) set each line's tax, hence ``taxTotal`` and ``total``.
A transform body may send its own; otherwise an invoice of an overriding order takes the
order's details in proportion to the amount billed. Without the override, tax comes from
the lines' tax codes.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import invalid_value, user_error
from revbridge_sandboxes.netsuite.orders import (
    BILLABLE,
    cents,
    decimal,
    line_open,
    money,
    order_status,
    prepare_transaction,
    remaining_amount,
    remaining_quantity,
    settle,
)
from revbridge_sandboxes.netsuite.state import Record

QUANTITY_STEP = Decimal("0.00001")


def prepare_invoice(account: Account, rec: Record, old: Record | None) -> None:
    if old is not None and old.get("createdFrom") and rec.get("item") != old.get("item"):
        raise user_error("You cannot change the lines of an invoice created from a sales order.")
    if old is not None and old.get("_payments"):
        for name in ("entity", "currency", "subsidiary"):
            if rec.get(name) != old.get(name):
                raise user_error(
                    f"You cannot change the {name} of an invoice that has payments applied.",
                    name,
                )
    prepare_transaction(account, "invoice", rec, old)
    if not rec.get("dueDate"):
        term = account.state.get("term", (rec.get("terms") or {}).get("id", "")) or {}
        days = int(term.get("daysUntilNetDue") or 0)
        rec["dueDate"] = (date.fromisoformat(rec["tranDate"]) + timedelta(days=days)).isoformat()
    paid = decimal(rec.setdefault("amountPaid", 0.0))
    if decimal(rec["total"]) < paid:
        raise user_error("The invoice total cannot be less than the payments applied to it.")
    rec["amountRemaining"] = money(decimal(rec["total"]) - paid)


def invoice_status(rec: Record) -> str:
    """``A`` Open while an amount remains, ``B`` Paid In Full."""
    return "A" if decimal(rec.get("amountRemaining")) > 0 else "B"


_COPIED = (
    "entity",
    "subsidiary",
    "currency",
    "terms",
    "department",
    "class",
    "location",
    "memo",
    "otherRefNum",
    "startDate",
    "endDate",
)
_LINE_COPIED = (
    "item",
    "description",
    "taxCode",
    "department",
    "class",
    "location",
    "taxDetailsReference",
)

#: Line fields a transform body may set on a billed line (besides quantity and amount).
_LINE_SET = frozenset(_LINE_COPIED) - {"item"}


def invoice_from_order(account: Account, order: Record, body: dict[str, Any]) -> Record:
    """The invoice a transform would create from ``order`` (not stored yet)."""
    settle(account, order)
    refused = user_error(f"You can not initialize invoice: invalid reference {order['id']}.")
    if order_status(account, order) not in BILLABLE:
        raise refused
    requested = body.pop("item", None) or []
    wanted = _wanted(order, requested)
    lines = []
    for line in order["item"]:
        if wanted and line["line"] not in wanted:
            continue
        request, path = wanted.get(line["line"], ({}, ""))
        if not line_open(line):
            if wanted:
                raise _over_billed(line, path, "amount" if "amount" in request else "quantity")
            continue
        lines.append(_billed_line(line, request, path))
    lines += _added_lines(requested)
    if not lines:
        raise refused
    invoice = {k: order[k] for k in _COPIED if order.get(k) is not None}
    details = body.pop("taxDetails", None)
    invoice.update({k: v for k, v in body.items() if v is not None})
    invoice.update(item=lines, createdFrom={"id": order["id"]})
    if details is None and order.get("taxDetailsOverride"):
        invoice.setdefault("taxDetailsOverride", True)
        details = _inherited_details(order, lines)
    if details is not None:
        invoice["taxDetails"] = details
    prepare_invoice(account, invoice, None)
    return invoice


def _wanted(order: Record, items: list[Record]) -> dict[int, tuple[Record, str]]:
    """The requested lines by order line number, with their JSON paths."""
    numbers = {line["line"] for line in order["item"]}
    wanted: dict[int, tuple[Record, str]] = {}
    for i, request in enumerate(items):
        path = f"item.items[{i}]"
        number = request.get("orderLine")
        if number is None:
            continue
        if number not in numbers or number in wanted:
            raise invalid_value(f"{path}.orderLine", "orderLine")
        wanted[number] = (request, path)
    return wanted


def _added_lines(items: list[Record]) -> list[Record]:
    """Lines the invoice adds beyond the order (usage billed in arrears, say): named by
    ``item`` instead of ``orderLine``, with a quantity and an amount or rate."""
    added = []
    for i, request in enumerate(items):
        if request.get("orderLine") is not None:
            continue
        path = f"item.items[{i}]"
        if not isinstance(request.get("item"), dict) or not request["item"].get("id"):
            raise invalid_value(f"{path}.item", "item")
        quantity = decimal(request.get("quantity") if request.get("quantity") is not None else 1)
        if quantity <= 0:
            raise invalid_value(f"{path}.quantity", "quantity")
        if request.get("amount") is not None:
            amount = decimal(request["amount"])
        else:
            amount = cents(quantity * decimal(request.get("rate")))
        if amount < 0:
            raise invalid_value(f"{path}.amount", "amount")
        line = {k: v for k, v in request.items() if k in _LINE_COPIED and v is not None}
        line.update(
            quantity=float(quantity.quantize(QUANTITY_STEP)),
            rate=float(amount / quantity),
            amount=money(amount),
        )
        added.append(line)
    return added


def _billed_line(line: Record, request: Record, path: str) -> Record:
    left_amount, left_quantity = remaining_amount(line), remaining_quantity(line)
    quantity, amount = request.get("quantity"), request.get("amount")
    if quantity is not None and quantity <= 0:
        raise invalid_value(f"{path}.quantity", "quantity")
    if amount is not None and amount < 0:
        raise invalid_value(f"{path}.amount", "amount")
    rate = decimal(line.get("rate"))
    if amount is None and quantity is None:
        billed_quantity, billed_amount = left_quantity, left_amount
    elif amount is None:
        billed_quantity = decimal(quantity)
        if billed_quantity > left_quantity:
            raise _over_billed(line, path, "quantity")
        full = billed_quantity == left_quantity
        billed_amount = left_amount if full else min(cents(billed_quantity * rate), left_amount)
    else:
        billed_amount = decimal(amount)
        if billed_amount > left_amount:
            raise _over_billed(line, path, "amount")
        billed_quantity = left_quantity if quantity is None else decimal(quantity)
        if billed_quantity > decimal(line.get("quantity")):
            raise _over_billed(line, path, "quantity")
    new = {k: line[k] for k in _LINE_COPIED if line.get(k) is not None}
    new.update({k: v for k, v in request.items() if k in _LINE_SET and v is not None})
    if billed_quantity and cents(billed_quantity * rate) != billed_amount:
        rate = billed_amount / billed_quantity
    new.update(
        orderLine=line["line"],
        quantity=float(billed_quantity.quantize(QUANTITY_STEP)),
        rate=float(rate),
        amount=money(billed_amount),
    )
    return new


def _over_billed(line: Record, path: str, what: str) -> Exception:
    if what == "amount":
        left = money(remaining_amount(line))
        detail = (
            f"The amount billed is more than the amount remaining to be billed ({left}) "
            f"on line {line['line']} of the sales order."
        )
    else:
        left = float(remaining_quantity(line).quantize(QUANTITY_STEP))
        detail = (
            f"You cannot bill more than the remaining quantity ({left}) of line "
            f"{line['line']} of the sales order."
        )
    return user_error(detail, f"{path}.{what}" if path else "item")


def _inherited_details(order: Record, lines: list[Record]) -> list[Record]:
    """The order's tax details for the billed lines, in proportion to the amount billed."""
    order_lines = {line["line"]: line for line in order["item"]}
    out = []
    for line in lines:
        if line.get("orderLine") is None:
            continue  # a line beyond the order carries no tax of the order's
        ref = line.get("taxDetailsReference")
        ordered = decimal(order_lines[line["orderLine"]].get("amount"))
        share = decimal(line["amount"]) / ordered if ordered else Decimal(0)
        for detail in order.get("taxDetails") or []:
            if ref is None or detail.get("taxDetailsReference") != ref:
                continue
            copied = dict(detail)
            copied["taxBasis"] = line["amount"]
            copied["taxAmount"] = money(decimal(detail.get("taxAmount")) * share)
            out.append(copied)
    return out


def record_billing(order: Record, invoice: Record, sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take back) the invoice's amounts on the order's lines."""
    billed = {line.get("orderLine"): line for line in invoice.get("item") or []}
    for line in order["item"]:
        invoiced = billed.get(line["line"])
        if invoiced is None:
            continue
        amount = decimal(line.get("amountBilled")) + sign * decimal(invoiced["amount"])
        line["amountBilled"] = money(max(Decimal(0), amount))
        ordered = decimal(line.get("amount"))
        if ordered == 0:
            quantity = decimal(line.get("quantityBilled")) + sign * decimal(invoiced["quantity"])
        else:
            quantity = decimal(line.get("quantity")) * decimal(line["amountBilled"]) / ordered
        line["quantityBilled"] = float(max(Decimal(0), quantity).quantize(QUANTITY_STEP))
    invoices = order.setdefault("_invoices", [])
    if sign > 0:
        invoices.append(invoice["id"])
    elif invoice["id"] in invoices:
        invoices.remove(invoice["id"])
