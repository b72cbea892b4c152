"""An activation as the JSON body a provisioning endpoint receives.

::

    {"type": "entitlement.activated", "deal": "salesforce:006...", "correlation_id": "...",
     "order_id": "...", "customer": {"id", "name", "parent_id", "refs"},
     "products": [{"sku", "quantity", "kind"}], "term": {"start", "end"},
     "legal_entity": "ACME-UK"}

Quantities are decimal strings; the term is the contract's, else the span of the lines'
service dates (``null`` when the order has neither).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from revbridge.canonical import Order
from revbridge.ports import Activation

EVENT_TYPE = "entitlement.activated"


def activation_body(activation: Activation) -> dict[str, Any]:
    """The JSON document sent for ``activation``."""
    plan = activation.plan
    order = plan.order
    customer = order.customer
    start, end = term_of(order)
    return {
        "type": EVENT_TYPE,
        "deal": activation.deal,
        "correlation_id": activation.correlation_id,
        "order_id": order.order_id,
        "customer": {
            "id": customer.customer_id,
            "name": customer.name,
            "parent_id": customer.parent_id,
            "refs": [str(ref) for ref in customer.external_refs],
        },
        "products": [
            {"sku": line.sku, "quantity": str(line.quantity), "kind": str(line.kind)}
            for line in order.lines
        ],
        "term": {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        "legal_entity": plan.entity.code,
    }


def term_of(order: Order) -> tuple[date | None, date | None]:
    """The contract's term, else the span of the lines' service dates."""
    if order.contract is not None:
        return order.contract.start_date, order.contract.end_date
    starts = [line.service_start for line in order.lines if line.service_start is not None]
    ends = [line.service_end for line in order.lines if line.service_end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)
