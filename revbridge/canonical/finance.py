"""Receivables: invoices issued for an order and the payments that settle them.

Every amount on an invoice is in the invoice's currency, and ``total`` is ``subtotal + tax``:
those are the definitions of the fields, so the model enforces them. Whether an amount is
*right* (tax rate, due date from the payment terms) is for ``rules/`` and reconciliation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, model_validator

from revbridge.canonical.ids import CanonicalId, ExternalRef, ExternalRefs, find_ref
from revbridge.canonical.model import CanonicalModel, Instant
from revbridge.canonical.money import Currency, CurrencyMismatchError, Money

__all__ = ["Invoice", "InvoiceStatus", "Payment", "PaymentMethod", "PaymentStatus"]


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life."""

    DRAFT = "draft"  # prepared, not yet issued; may still change
    POSTED = "posted"  # issued to the customer and posted to receivables; awaiting payment
    PARTIALLY_PAID = "partially_paid"  # some payment applied, a balance remains
    PAID = "paid"  # settled in full
    VOID = "void"  # cancelled after posting (reversed by a credit), nothing is owed
    UNCOLLECTIBLE = "uncollectible"  # written off as bad debt


class PaymentStatus(StrEnum):
    """Where a payment is in its life."""

    PENDING = "pending"  # initiated, funds not yet confirmed
    SUCCEEDED = "succeeded"  # funds received
    FAILED = "failed"  # declined or returned; nothing received
    REFUNDED = "refunded"  # received, then paid back to the customer


class PaymentMethod(StrEnum):
    """How the customer paid."""

    CARD = "card"  # credit or debit card
    BANK_TRANSFER = "bank_transfer"  # wire, ACH credit, SEPA credit transfer, BACS
    DIRECT_DEBIT = "direct_debit"  # pulled from the customer's account under a mandate
    CHECK = "check"  # paper cheque
    WALLET = "wallet"  # digital wallet
    OTHER = "other"  # anything else, described in the source system


class Invoice(CanonicalModel):
    """An invoice for (part of) an order."""

    invoice_id: CanonicalId
    order_id: CanonicalId
    customer_id: CanonicalId
    status: InvoiceStatus
    number: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    currency: Currency
    subtotal: Money
    tax: Money
    total: Money
    amount_due: Money
    amount_paid: Money
    due_date: date | None = None
    issued_at: Instant | None = None
    external_refs: ExternalRefs = ()

    @model_validator(mode="after")
    def _amounts_consistent(self) -> Invoice:
        for name in ("subtotal", "tax", "total", "amount_due", "amount_paid"):
            amount: Money = getattr(self, name)
            if amount.currency != self.currency:
                raise CurrencyMismatchError(
                    f"invoice {self.invoice_id}: {name} is in {amount.currency}, "
                    f"the invoice in {self.currency}"
                )
        if self.total != self.subtotal + self.tax:
            raise ValueError(
                f"invoice {self.invoice_id}: total {self.total} is not "
                f"subtotal {self.subtotal} + tax {self.tax}"
            )
        return self

    def ref_for(self, system: str) -> ExternalRef | None:
        """This invoice's id in ``system``, or None."""
        return find_ref(self.external_refs, system)


class Payment(CanonicalModel):
    """Money received from a customer, applied to an invoice when ``invoice_id`` is set."""

    payment_id: CanonicalId
    invoice_id: CanonicalId | None = None
    customer_id: CanonicalId
    amount: Money
    status: PaymentStatus
    received_at: Instant | None = None
    method: PaymentMethod | None = None
    external_refs: ExternalRefs = ()

    def ref_for(self, system: str) -> ExternalRef | None:
        """This payment's id in ``system``, or None."""
        return find_ref(self.external_refs, system)
