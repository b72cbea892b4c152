"""Sales orders: validation shared with invoices, totals, approval, status and billing.

Approval is lazy: a new order is *Pending Approval* (``A``) and, ``approval_delay_s``
after creation, becomes *Pending Fulfillment* (``B``), or is rejected (``C`` by default)
when its memo carries the configured marker. :func:`settle` applies that outcome the
next time the order is touched. ``PATCH {"orderStatus": "B"}`` approves at once, ``A``
puts an unbilled order back to pending. Closing is per line (``isClosed: true``), as in
NetSuite: an order whose lines are all closed is *Closed* (``H``). Transforming to an
invoice (:mod:`.invoices`) bills the open lines, in whole or in part; each line keeps
``amountBilled`` and ``quantityBilled``. The order is *Billed* (``G``) once every open
line's amount is billed, *Pending Billing/Partially Fulfilled* (``E``) while some of it
remains (a line of zero amount counts by quantity instead).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import (
    invalid_reference,
    invalid_value,
    missing_values,
    user_error,
)
from revbridge_sandboxes.netsuite.schema import ITEM_TYPES
from revbridge_sandboxes.netsuite.state import Record

DIMENSION_LABELS = {"department": "Department", "class": "Class", "location": "Location"}
BILLABLE = ("B", "D", "E", "F")


def money(value: float | Decimal) -> float:
    """An amount as NetSuite returns it: a JSON number rounded to the cent."""
    return float(cents(Decimal(str(value))))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def decimal(value: Any) -> Decimal:
    """A stored number (float on the wire) as the Decimal it stands for."""
    return Decimal(str(value)) if value is not None else Decimal(0)


# -- validation shared by sales orders and invoices ---------------------------------------


def prepare_transaction(account: Account, rtype: str, rec: Record, old: Record | None) -> None:
    state = account.state
    if not rec.get("entity"):
        raise missing_values(["Customer"], "entity")
    customer = state.get("customer", rec["entity"]["id"])
    if customer is None or customer.get("isInactive"):
        raise invalid_reference("entity", "entity", rec["entity"]["id"])
    lines = rec.get("item") or []
    if not lines:
        raise user_error("You must enter at least one line item for this transaction.", "item")
    rec.setdefault("subsidiary", dict(customer["subsidiary"]))
    if rec["subsidiary"] != customer["subsidiary"]:
        raise invalid_value("subsidiary")
    sub_id = rec["subsidiary"]["id"]
    subsidiary = state.get("subsidiary", sub_id) or {}
    rec.setdefault("currency", dict(customer.get("currency") or subsidiary["currency"]))
    if rec["currency"]["id"] not in subsidiary.get("_currencies", [subsidiary["currency"]["id"]]):
        raise invalid_value("currency")
    if "terms" not in rec and customer.get("terms"):
        rec["terms"] = dict(customer["terms"])
    rec.setdefault("tranDate", state.today())
    _check_location(account, rec.get("location"), sub_id, "location")
    _number_lines(lines)
    for i, line in enumerate(lines):
        _prepare_line(account, rec, line, f"item.items[{i}]", sub_id)
    _check_dimensions(account, rtype, rec, sub_id)
    _totals(rec)
    if not rec.get("tranId"):
        rec["tranId"] = state.next_tran_id(rtype)


def _number_lines(lines: list[Record]) -> None:
    top = max((int(line.get("line") or 0) for line in lines), default=0)
    for line in lines:
        if not line.get("line"):
            top += 1
            line["line"] = top


def _prepare_line(account: Account, rec: Record, line: Record, path: str, sub_id: str) -> None:
    if not line.get("item"):
        raise missing_values(["Item"], f"{path}.item")
    found = account.state.find(ITEM_TYPES, line["item"]["id"])
    item = found[1] if found else None
    if item is None or item.get("isInactive") or not item_in_subsidiary(account, item, sub_id):
        raise invalid_reference(f"{path}.item", "item", line["item"]["id"])
    quantity = line.get("quantity")
    if quantity is None:
        quantity = line["quantity"] = 1.0
    if quantity <= 0:
        raise invalid_value(f"{path}.quantity", "quantity")
    if line.get("rate") is None:
        if line.get("amount") is not None:
            line["rate"] = float(Decimal(str(line["amount"])) / Decimal(str(quantity)))
        else:
            line["rate"] = float(item.get("rate") or 0.0)
    if line.get("amount") is None:
        line["amount"] = money(Decimal(str(quantity)) * Decimal(str(line["rate"])))
    line.setdefault("description", item.get("salesDescription") or item.get("displayName"))
    for name in DIMENSION_LABELS:
        if not line.get(name) and rec.get(name):
            line[name] = dict(rec[name])
    _check_location(account, line.get("location"), sub_id, f"{path}.location")
    if rec.get("taxDetailsOverride"):
        ref = line.get("taxDetailsReference")
        details = [d for d in rec.get("taxDetails") or [] if d.get("taxDetailsReference") == ref]
        engine_tax = sum((Decimal(str(d.get("taxAmount") or 0)) for d in details), Decimal(0))
        line["taxAmount"] = money(engine_tax)
        return
    rate = 0.0
    if line.get("taxCode"):
        tax = account.state.get("salesTaxItem", line["taxCode"]["id"]) or {}
        rate = float(tax.get("rate") or 0.0)
    line["taxAmount"] = money(Decimal(str(line["amount"])) * Decimal(str(rate)) / 100)


def item_in_subsidiary(account: Account, item: Record, sub_id: str) -> bool:
    allowed = {r["id"] for r in (item.get("subsidiary") or {}).get("items", [])}
    if sub_id in allowed:
        return True
    if not item.get("includeChildren"):
        return False
    node = account.state.get("subsidiary", sub_id)
    while node is not None and node.get("parent"):
        if node["parent"]["id"] in allowed:
            return True
        node = account.state.get("subsidiary", node["parent"]["id"])
    return False


def _check_location(account: Account, loc: dict[str, str] | None, sub_id: str, path: str) -> None:
    if not loc:
        return
    location = account.state.get("location", loc["id"]) or {}
    owner = (location.get("subsidiary") or {}).get("id")
    if owner is not None and owner != sub_id:
        raise invalid_reference(path, "location", loc["id"])


def _check_dimensions(account: Account, rtype: str, rec: Record, sub_id: str) -> None:
    rules = [r for r in account.state.estate.required_dimensions if r.applies(rtype, sub_id)]
    header = [r.field for r in rules if r.level == "header" and not rec.get(r.field)]
    if header:
        labels = [DIMENSION_LABELS.get(f, f) for f in header]
        raise missing_values(labels, header[0] if len(header) == 1 else None)
    for i, line in enumerate(rec.get("item") or []):
        if line.get("isClosed"):
            continue
        missing = [r.field for r in rules if r.level == "line" and not line.get(r.field)]
        if missing:
            labels = [DIMENSION_LABELS.get(f, f) for f in missing]
            raise missing_values(labels, f"item.items[{i}].{missing[0]}")


def _totals(rec: Record) -> None:
    lines = rec.get("item") or []
    subtotal = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
    tax = sum((Decimal(str(line.get("taxAmount") or 0)) for line in lines), Decimal(0))
    rec["subtotal"] = money(subtotal)
    rec["taxTotal"] = money(tax)
    rec["total"] = money(subtotal + tax)


# -- sales orders ----------------------------------------------------------------------------


def prepare_order(account: Account, rec: Record, old: Record | None) -> None:
    requested = (rec.pop("orderStatus", None) or {}).get("id")
    if old is not None:
        _carry_lines(old, rec)
    prepare_transaction(account, "salesOrder", rec, old)
    if old is not None:
        _check_billed(old, rec)
    for line in rec["item"]:
        line.setdefault("isClosed", False)
        line.setdefault("quantityBilled", 0.0)
        line.setdefault("amountBilled", 0.0)
    rec.setdefault("_invoices", [])
    if old is None:
        _start_approval(account, rec, requested)
    elif requested is not None:
        _set_approval(rec, requested)


def _start_approval(account: Account, rec: Record, requested: str | None) -> None:
    opts = account.options
    marker = opts.reject_memo_marker
    reject = bool(marker) and marker in (rec.get("memo") or "")
    if requested == "B":
        rec["_approval"] = "approved"
    elif opts.approval_delay_s <= 0:
        rec["_approval"] = "rejected" if reject else "approved"
    else:
        rec["_approval"] = "pending"
        rec["_approvalDueAt"] = account.now() + opts.approval_delay_s
        rec["_rejectOnApproval"] = reject


def _set_approval(rec: Record, requested: str) -> None:
    if rec.get("_approval") == "rejected":
        raise user_error(
            "You cannot change the approval status of a rejected order.", "orderStatus"
        )
    if requested == "B":
        rec["_approval"] = "approved"
    elif any(is_billed(line) for line in rec["item"]):
        raise user_error("You cannot unapprove an order that has been billed.", "orderStatus")
    else:
        rec["_approval"] = "pending"
    rec.pop("_approvalDueAt", None)
    rec.pop("_rejectOnApproval", None)


def _carry_lines(old: Record, rec: Record) -> None:
    """Keep the billing and closing of lines that keep their number."""
    lines = rec.get("item") or []
    _number_lines(lines)
    before = {line["line"]: line for line in old.get("item") or []}
    after = {line["line"]: line for line in lines}
    for number, line in after.items():
        if number in before:
            line.setdefault("quantityBilled", before[number].get("quantityBilled", 0.0))
            line.setdefault("amountBilled", before[number].get("amountBilled", 0.0))
            line.setdefault("isClosed", before[number].get("isClosed", False))


def _check_billed(old: Record, rec: Record) -> None:
    after = {line["line"]: line for line in rec.get("item") or []}
    for line in old.get("item") or []:
        if not is_billed(line):
            continue
        new = after.get(line["line"])
        if new is None or any(new.get(k) != line.get(k) for k in ("item", "rate", "quantity")):
            raise user_error("You cannot change or remove a line that has already been billed.")


def settle(account: Account, rec: Record) -> None:
    """Apply a pending approval whose time has come."""
    due = rec.get("_approvalDueAt")
    if rec.get("_approval") == "pending" and due is not None and account.now() >= due:
        rec["_approval"] = "rejected" if rec.pop("_rejectOnApproval", False) else "approved"
        rec.pop("_approvalDueAt", None)


def order_status(account: Account, rec: Record) -> str:
    """The order's status letter (A-H); :func:`settle` first."""
    approval = rec.get("_approval")
    if approval == "rejected":
        return account.options.rejection_status
    lines = rec.get("item") or []
    if lines and all(line.get("isClosed") for line in lines):
        return "H"
    if approval == "pending":
        return "A"
    billed = any(is_billed(line) for line in lines)
    if not any(line_open(line) for line in lines):
        return "G" if billed else "H"
    return "E" if billed else "B"


def remaining_amount(line: Record) -> Decimal:
    """What is left to bill of an order line's amount."""
    return decimal(line.get("amount")) - decimal(line.get("amountBilled"))


def remaining_quantity(line: Record) -> Decimal:
    """The quantity left to bill: in proportion to the amount left, or by count when the
    line's amount is zero."""
    quantity, amount = decimal(line.get("quantity")), decimal(line.get("amount"))
    if amount == 0:
        return quantity - decimal(line.get("quantityBilled"))
    return quantity * remaining_amount(line) / amount


def line_open(line: Record) -> bool:
    """True while an unclosed order line has something left to bill."""
    if line.get("isClosed"):
        return False
    if decimal(line.get("amount")) == 0:
        return remaining_quantity(line) > 0
    return remaining_amount(line) > 0


def is_billed(line: Record) -> bool:
    return bool(line.get("quantityBilled") or line.get("amountBilled"))
