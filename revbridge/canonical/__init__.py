"""The canonical model: the one vocabulary every flow, rule, port and event speaks.

This package owns the shape and the structural validity of the business objects that cross
between systems: money and currencies, identifiers and references into other systems,
customers and legal entities, the catalog, contracts and orders, invoices and payments, and
the CloudEvents envelope that carries them. It performs no I/O (except writing JSON Schema
files when asked), names no vendor, and imports nothing else of revbridge.

Business rules that need an owner (a contract that ends before it starts, a customer without
a tax id) are *not* enforced here: ``rules/`` reports them, so these models can hold them.
"""

from __future__ import annotations

from revbridge.canonical.catalog import Product, ProductKind, RevenueTreatment
from revbridge.canonical.commerce import (
    Amendment,
    AmendmentKind,
    BillingFrequency,
    Contract,
    Order,
    OrderLine,
)
from revbridge.canonical.events import (
    BusinessEvent,
    EventType,
    from_binary,
    from_structured,
    to_binary,
    to_structured,
)
from revbridge.canonical.finance import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from revbridge.canonical.ids import (
    CorrelationId,
    ExternalRef,
    correlation_id_for,
    idempotency_key,
    new_correlation_id,
    new_id,
    workflow_id_for,
)
from revbridge.canonical.model import CanonicalModel, Instant
from revbridge.canonical.money import Currency, CurrencyMismatchError, Money
from revbridge.canonical.party import (
    Address,
    Customer,
    LegalEntity,
    PaymentTerms,
    TaxExemption,
)
from revbridge.canonical.schema import export_schemas

__all__ = [
    "Address",
    "Amendment",
    "AmendmentKind",
    "BillingFrequency",
    "BusinessEvent",
    "CanonicalModel",
    "Contract",
    "CorrelationId",
    "Currency",
    "CurrencyMismatchError",
    "Customer",
    "EventType",
    "ExternalRef",
    "Instant",
    "Invoice",
    "InvoiceStatus",
    "LegalEntity",
    "Money",
    "Order",
    "OrderLine",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentTerms",
    "Product",
    "ProductKind",
    "RevenueTreatment",
    "TaxExemption",
    "correlation_id_for",
    "export_schemas",
    "from_binary",
    "from_structured",
    "idempotency_key",
    "new_correlation_id",
    "new_id",
    "to_binary",
    "to_structured",
    "workflow_id_for",
]
