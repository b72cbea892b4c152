"""Customers, invoices and payments, as far as revbridge knows them.

A customer is its bindings: the canonical id and its id in each system. Invoices and
payments are the canonical records the receivables flow keeps (``rb_invoices``,
``rb_payments``): what billing posted and collected, as carried to the ERP.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from revbridge.service.database import Database
from revbridge.store import bindings, receivables
from revbridge.store.receivables import StoredInvoice, StoredPayment

__all__ = [
    "StoredInvoice",
    "StoredPayment",
    "SystemId",
    "customer_ids",
    "invoice",
    "invoice_payments",
    "payments",
]

#: Billing systems whose customer ids a payments query may name instead of revbridge's.
_SYSTEMS_SCANNED = 20


@dataclass(frozen=True)
class SystemId:
    system: str
    id: str


def _ids(conn: Connection, entity: str, canonical_id: str) -> list[SystemId]:
    return [
        SystemId(system=b.system, id=b.external_id)
        for b in bindings.for_canonical(conn, entity, canonical_id)
    ]


def customer_ids(database: Database, customer_id: str) -> list[SystemId]:
    """The customer's ids in every system (empty: no such customer)."""
    with database.connect() as conn:
        return _ids(conn, "customer", customer_id)


def _canonical_customer(conn: Connection, customer_id: str) -> str:
    """revbridge's id of a customer named by its own id or by its id in a system."""
    if bindings.for_canonical(conn, "customer", customer_id):
        return customer_id
    for system in bindings.systems(conn, "customer")[:_SYSTEMS_SCANNED]:
        found = bindings.canonical_for(conn, "customer", system, customer_id)
        if found is not None:
            return found
    return customer_id


def payments(database: Database, customer_id: str) -> list[StoredPayment]:
    """The customer's payments (named by revbridge's id or a system's), newest first."""
    with database.connect() as conn:
        return receivables.payments_of_customer(conn, _canonical_customer(conn, customer_id))


def invoice(database: Database, invoice_id: str) -> StoredInvoice | None:
    """The invoice by its billing id (``in_…``) or key (``stripe:in_…``); None: unknown."""
    with database.connect() as conn:
        return receivables.invoice(conn, invoice_id)


def invoice_payments(database: Database, invoice: StoredInvoice) -> list[StoredPayment]:
    with database.connect() as conn:
        return receivables.payments_of_invoice(conn, invoice.key)
