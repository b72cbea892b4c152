"""The catalog: what can be sold, how it is billed, and how its revenue is recognised.

A product's ids in the ERP (item) and the billing platform (price) are ``external_refs``; its
``tax_code`` is the product tax code the tax engine classifies it by.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from revbridge.canonical.ids import ExternalRef, ExternalRefs, find_ref
from revbridge.canonical.model import CanonicalModel, Name

__all__ = ["Product", "ProductKind", "RevenueTreatment", "Sku", "TaxCode"]

Sku = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
]
"""A stock-keeping unit, the catalog's key: ``PLAT-ANNUAL``, ``svc.impl``."""

TaxCode = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
"""A product tax code as the tax engine knows it, e.g. ``SW054000``."""


class ProductKind(StrEnum):
    """How a product is sold and billed."""

    SUBSCRIPTION = "subscription"  # recurring charge for a term, billed each billing period
    SERVICE = "service"  # one-off work (implementation, training), billed on order or delivery
    USAGE = "usage"  # metered consumption, rated and billed in arrears


class RevenueTreatment(StrEnum):
    """When the revenue of a sale is recognised (the ERP posts it this way)."""

    RATABLE = "ratable"  # evenly over the service period (subscriptions, support)
    POINT_IN_TIME = "point_in_time"  # all at once, when control passes (licences, goods)
    AS_CONSUMED = "as_consumed"  # as the customer consumes it (usage, prepaid drawdown)
    PERCENT_COMPLETE = "percent_complete"  # as the work progresses (milestone services)


class Product(CanonicalModel):
    """A sellable item of the shared catalog."""

    sku: Sku
    name: Name
    kind: ProductKind
    revenue_treatment: RevenueTreatment
    tax_code: TaxCode | None = None
    external_refs: ExternalRefs = ()

    def ref_for(self, system: str) -> ExternalRef | None:
        """This product's id in ``system`` (ERP item, billing price ...), or None."""
        return find_ref(self.external_refs, system)
