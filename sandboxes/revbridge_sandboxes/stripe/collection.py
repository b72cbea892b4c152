"""Collecting invoices: finalizing, charging, paying in parts, voiding.

The invoice statuses move as Stripe's "Status transitions and finalization" page
documents (events in brackets)::

    draft         finalize (or /pay, /send, auto-advance) → open   [invoice.finalized]
    open          charge succeeds (/pay, automatic)        → paid   [invoice_payment.paid,
                                                                     invoice.paid,
                                                                     invoice.payment_succeeded]
    open          charge fails                             → open   [invoice.payment_failed]
    open          /pay paid_out_of_band=true               → paid   [invoice.paid]
    open          /void                                    → void   [invoice.voided]
    open          /mark_uncollectible                      → uncollectible
                                                                    [invoice.marked_uncollectible]
    uncollectible /pay succeeds / fails                    → paid / uncollectible
    uncollectible /void                                    → void
    paid, void    terminal

A zero-amount invoice is paid when it is finalized. A charge uses the payment
method :func:`.payment_methods.chosen` picks; with none it fails (``/pay`` and
subscription creation answer Stripe's 400 "no attached payment source or default
payment method"; automatic collection records a failed attempt). A customer's
``metadata[sandbox_payment]=succeed|fail`` overrides everything, and the sandbox
option ``fail_payments`` declines every charge that would otherwise succeed.

When automatic collection charges: a subscription's first invoice at creation; a
draft with ``auto_advance`` when it is finalized (about an hour after creation); an
invoice finalized through the API with ``auto_advance=true`` right after the finalize
call (``next_payment_attempt`` is the finalization time: Stripe collects it
asynchronously, so the finalize answer still says ``open``); failed attempts are
retried 3, 5 and 7 days later while ``auto_advance`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from revbridge_sandboxes.stripe import invoice_payments, invoicing, payment_intents, payment_methods
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.state import DAY, StripeState
from revbridge_sandboxes.stripe.tables import Record

#: Delays between automatic payment attempts (Smart Retries: 4 attempts in ~2 weeks).
RETRY_DELAYS_S = (3 * DAY, 5 * DAY, 7 * DAY)
#: The failure of a charge that has no payment method to use.
NO_PAYMENT_METHOD = "no_payment_method"


@dataclass(frozen=True)
class Outcome:
    """What charging an invoice does: the method used, and why it failed (None: it paid)."""

    method: str | None
    failure: str | None

    @property
    def paid(self) -> bool:
        return self.failure is None


def outcome(state: StripeState, invoice: Record, explicit: str | None = None) -> Outcome:
    """The outcome of charging ``invoice`` now, without charging it."""
    customer = state.customers.rows.get(invoice["customer"]) or {}
    sub = invoicing.subscription_of(state, invoice) if invoice.get("parent") else None
    method = payment_methods.chosen(state, invoice, sub, explicit)
    choice = (customer.get("metadata") or {}).get("sandbox_payment")
    if choice in ("fail", "succeed"):
        return Outcome(method, "generic_decline" if choice == "fail" else None)
    if method is None:
        return Outcome(None, NO_PAYMENT_METHOD)
    code = payment_methods.decline_code(state, method)
    if code is None and state.options.fail_payments:
        code = "generic_decline"
    return Outcome(method, code)


def finalize(state: StripeState, invoice: Record, at: int) -> None:
    """Draft → open, with the default InvoicePayment for the amount due."""
    invoicing.finalize(state, invoice, at)
    if invoice["status"] != "open":
        return
    intent = payment_intents.new_intent(
        state,
        invoice["amount_remaining"],
        invoice["currency"],
        invoice["customer"],
        at,
        description=f"Invoice {invoice['number']}",
    )
    invoice_payments.new_payment(state, invoice, intent, at, is_default=True)


def collects(invoice: Record) -> bool:
    """Whether Stripe charges this open invoice by itself."""
    return bool(
        invoice["status"] == "open"
        and invoice["auto_advance"]
        and invoice["collection_method"] == "charge_automatically"
    )


def schedule_collection(state: StripeState, invoice: Record, at: int) -> None:
    """Finalized through the API with ``auto_advance``: charge it right after this call."""
    if collects(invoice):
        invoice["next_payment_attempt"] = at
        state.schedule(at, invoice["test_clock"])


def attempt(state: StripeState, invoice: Record, at: int, explicit: str | None = None) -> Outcome:
    """Charge the amount remaining of an open or uncollectible invoice once."""
    result = outcome(state, invoice, explicit)
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    intent = _default_intent(state, invoice)
    if intent is not None and result.failure != NO_PAYMENT_METHOD:
        payment_intents.charge(intent, result.method, result.failure)
    if result.paid:
        settle(state, invoice, at)
    else:
        _failed(state, invoice, at)
    return result


def settle(state: StripeState, invoice: Record, at: int) -> None:
    """The default payment collected the amount remaining: the invoice is paid."""
    default = invoice_payments.default_of(state, invoice)
    if default is not None:
        invoice_payments.mark_paid(state, default, invoice["amount_remaining"], at)
    invoicing.mark_paid(state, invoice, at)


def pay_out_of_band(state: StripeState, invoice: Record, at: int) -> None:
    """``/pay`` with ``paid_out_of_band``: paid, no money through Stripe, no charge."""
    _release(state, invoice, at, "requested_by_customer")
    invoicing.mark_paid(state, invoice, at, out_of_band=True)


def void(state: StripeState, invoice: Record, at: int) -> None:
    _release(state, invoice, at, "void_invoice")
    invoicing.void(state, invoice, at)


def attach(state: StripeState, invoice: Record, intent: Record, at: int) -> None:
    """``attach_payment``: the intent becomes one of the invoice's payments."""
    payment = invoice_payments.new_payment(state, invoice, intent, at, is_default=False)
    if intent["status"] == "succeeded":
        _credit(state, invoice, payment, intent, at)


def credit_intent(state: StripeState, intent: Record, at: int) -> None:
    """An intent attached to an invoice succeeded after it was attached: credit it."""
    payment = invoice_payments.of_intent(state, intent)
    invoice = state.invoices.get(intent.get("_invoice") or "")
    if payment is not None and invoice is not None and payment["status"] == "open":
        _credit(state, invoice, payment, intent, at)


def _credit(state: StripeState, invoice: Record, payment: Record, intent: Record, at: int) -> None:
    """Part (or the rest) of the invoice was paid by an attached payment."""
    amount = min(intent["amount_received"], invoice["amount_remaining"])
    invoice_payments.mark_paid(state, payment, amount, at)
    if amount >= invoice["amount_remaining"]:
        _release(state, invoice, at, "automatic")
        invoicing.mark_paid(state, invoice, at)
        return
    before = state.before(invoice)
    invoice["amount_paid"] += amount
    invoice["amount_remaining"] -= amount
    default = _default_intent(state, invoice)
    if default is not None:
        default["amount"] = invoice["amount_remaining"]
        owner = invoice_payments.default_of(state, invoice)
        if owner is not None:
            owner["amount_requested"] = invoice["amount_remaining"]
    state.emit_update("invoice.updated", invoice, before, at=at)


def _failed(state: StripeState, invoice: Record, at: int) -> None:
    retries_left = invoice["attempt_count"] <= len(RETRY_DELAYS_S)
    if collects(invoice) and retries_left:
        invoice["next_payment_attempt"] = at + RETRY_DELAYS_S[invoice["attempt_count"] - 1]
        state.schedule(invoice["next_payment_attempt"], invoice["test_clock"])
    else:
        invoice["next_payment_attempt"] = None
    state.emit("invoice.payment_failed", invoice, at=at)
    if invoice["status"] == "open":
        final = invoice["next_payment_attempt"] is None and invoice["auto_advance"]
        invoicing.after_failure(state, invoice, at, final=final)


def _release(state: StripeState, invoice: Record, at: int, reason: str) -> None:
    """The default payment will never be collected: cancel it and its intent."""
    default = invoice_payments.default_of(state, invoice)
    if default is None:
        return
    invoice_payments.cancel(default, at)
    intent = state.payment_intents.get(default["payment"]["payment_intent"])
    if intent is not None:
        payment_intents.cancel(intent, at, reason)


def _default_intent(state: StripeState, invoice: Record) -> Record | None:
    default = invoice_payments.default_of(state, invoice)
    return (
        None if default is None else state.payment_intents.get(default["payment"]["payment_intent"])
    )


def require_payment_method(result: Outcome) -> None:
    """``/pay`` refuses a charge with no payment method before touching the invoice."""
    if result.failure == NO_PAYMENT_METHOD:
        raise StripeError.no_payment_method()
