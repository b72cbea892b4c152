"""Customer payments: money received from a customer, applied to its open invoices.

A payment names its ``customer``; ``subsidiary`` and ``currency`` default to the
customer's, ``tranDate`` to today, ``payment`` (the amount received) to the total
applied. The ``apply`` sublist holds ``{"doc": {"id": <invoice>}, "apply": true,
"amount"?}`` lines; a line without an amount applies the invoice's whole amount due, a
line with ``"apply": false`` applies nothing.

Refused with ``USER_ERROR`` (nothing is stored): an invoice that does not exist or
belongs to another customer (it is not on the payment's apply list), an invoice in
another currency, more than an invoice's amount due, the same invoice twice, and a
total applied above ``payment``. Storing a payment moves each applied invoice's
``amountPaid`` and ``amountRemaining`` (it is *Paid In Full* when nothing remains);
changing or deleting the payment moves them back.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import (
    invalid_reference,
    invalid_value,
    missing_values,
    user_error,
)
from revbridge_sandboxes.netsuite.orders import cents, decimal, money
from revbridge_sandboxes.netsuite.state import NetSuiteState, Record


def prepare_payment(account: Account, rec: Record, old: Record | None) -> None:
    """Validate ``rec`` (the merged payment) and fill its defaults and totals, in place."""
    state = account.state
    customer_ref = rec.get("customer")
    if not customer_ref:
        raise missing_values(["Customer"], "customer")
    customer = state.get("customer", customer_ref["id"])
    if customer is None or customer.get("isInactive"):
        raise invalid_reference("customer", "customer", customer_ref["id"])
    rec.setdefault("subsidiary", dict(customer["subsidiary"]))
    if rec["subsidiary"] != customer["subsidiary"]:
        raise invalid_value("subsidiary")
    subsidiary = state.get("subsidiary", rec["subsidiary"]["id"]) or {}
    rec.setdefault("currency", dict(customer.get("currency") or subsidiary["currency"]))
    rec.setdefault("tranDate", state.today())
    applied = _check_apply_lines(state, rec, applied_amounts(old))
    payment = decimal(rec["payment"]) if rec.get("payment") is not None else applied
    if payment < 0:
        raise invalid_value("payment")
    if payment == 0 and applied == 0:
        raise missing_values(["Payment Amount"], "payment")
    if applied > payment:
        raise user_error(
            f"The total amount applied ({money(applied)}) is more than the payment "
            f"amount ({money(payment)}).",
            "payment",
        )
    rec["payment"] = rec["total"] = money(payment)
    rec["applied"] = money(applied)
    rec["unapplied"] = money(payment - applied)
    if not rec.get("tranId"):
        rec["tranId"] = state.next_tran_id("customerPayment")


def _check_apply_lines(state: NetSuiteState, rec: Record, before: dict[str, Decimal]) -> Decimal:
    """Check and complete the ``apply`` lines; the total they apply."""
    total = Decimal(0)
    seen: set[str] = set()
    for i, line in enumerate(rec.get("apply") or []):
        path = f"apply.items[{i}]"
        line["line"] = i + 1
        if not line.get("doc"):
            raise missing_values(["Applied To"], f"{path}.doc")
        if line.get("apply") is False:
            line["amount"] = 0.0
            continue
        line["apply"] = True
        invoice = _open_invoice(state, rec, _doc_id(state, line["doc"]), f"{path}.doc")
        line["doc"] = {"id": invoice["id"]}
        if invoice["id"] in seen:
            raise invalid_value(f"{path}.doc", "doc")
        seen.add(invoice["id"])
        due = decimal(invoice.get("amountRemaining")) + before.get(invoice["id"], Decimal(0))
        amount = decimal(line["amount"]) if line.get("amount") is not None else due
        if amount <= 0:
            raise invalid_value(f"{path}.amount", "amount")
        if amount > due:
            raise user_error(
                f"The amount applied to invoice {invoice['tranId']} ({money(amount)}) is more "
                f"than its amount due ({money(due)}).",
                f"{path}.amount",
            )
        line.update(
            amount=money(amount),
            due=money(due),
            total=invoice["total"],
            refNum=invoice["tranId"],
            type="Invoice",
            applyDate=invoice.get("tranDate"),
        )
        total += cents(amount)
    return total


def resolve_docs(state: NetSuiteState, lines: list[Record]) -> None:
    """Name each apply line's invoice by internal id (so updates match lines by invoice)."""
    for line in lines:
        doc = line.get("doc")
        if doc and "id" not in doc:
            found = state.by_external_id("invoice", doc.get("externalId", ""))
            if found is not None:
                line["doc"] = {"id": found["id"]}


def _doc_id(state: NetSuiteState, doc: dict[str, str]) -> str:
    if "id" in doc:
        return doc["id"]
    found = state.by_external_id("invoice", doc.get("externalId", ""))
    return found["id"] if found is not None else f"eid:{doc.get('externalId', '')}"


def _open_invoice(state: NetSuiteState, rec: Record, invoice_id: str, path: str) -> Record:
    invoice = state.get("invoice", invoice_id)
    customer = rec["customer"]["id"]
    if invoice is None or (invoice.get("entity") or {}).get("id") != customer:
        raise user_error(
            f"The transaction {invoice_id} is not an open invoice of customer {customer}; "
            "it cannot be applied to this payment.",
            path,
        )
    if invoice.get("currency") != rec["currency"]:
        raise user_error(
            f"Invoice {invoice['tranId']} is in another currency than the payment; a payment "
            "applies only to transactions in its own currency.",
            path,
        )
    return invoice


def applied_amounts(payment: Record | None) -> dict[str, Decimal]:
    """The amount a stored payment applies, by invoice id."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for line in (payment or {}).get("apply") or []:
        if line.get("apply") and line.get("doc"):
            out[line["doc"]["id"]] += decimal(line.get("amount"))
    return dict(out)


def settle_invoices(state: NetSuiteState, new: Record | None, old: Record | None) -> None:
    """Move the applied invoices' balances from ``old`` (the payment as it was) to ``new``."""
    after, before = applied_amounts(new), applied_amounts(old)
    payment_id = (new or old or {}).get("id")
    for invoice_id in sorted(set(after) | set(before)):
        invoice = state.get("invoice", invoice_id)
        if invoice is None:
            continue
        change = after.get(invoice_id, Decimal(0)) - before.get(invoice_id, Decimal(0))
        paid = decimal(invoice.get("amountPaid")) + change
        invoice["amountPaid"] = money(paid)
        invoice["amountRemaining"] = money(decimal(invoice.get("total")) - paid)
        payments = [p for p in invoice.get("_payments") or [] if p != payment_id]
        if invoice_id in after and payment_id is not None:
            payments.append(payment_id)
        invoice["_payments"] = payments
        state.save("invoice", invoice)
