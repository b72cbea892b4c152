"""What one run of quote-to-cash has created so far in the other systems.

The workflow fills it step by step; compensation reads it newest first, the case's
context shows it (``bindings``) and the activated deal records it (``refs``), each under
the name of its field.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from revbridge.canonical import ExternalRef

__all__ = ["Effects"]


@dataclass
class Effects:
    """The ids a deal created, by what they are; None until the step that creates it ran."""

    erp_customer: ExternalRef | None = None
    tax_document: ExternalRef | None = None
    erp_order: ExternalRef | None = None
    billing_customer: ExternalRef | None = None
    subscription: ExternalRef | None = None
    invoice_items: tuple[ExternalRef, ...] | None = None

    def _created(self) -> dict[str, ExternalRef | tuple[ExternalRef, ...]]:
        found = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in found if value is not None}

    @property
    def compensable(self) -> bool:
        """Something was booked that compensation would undo (customers are reused)."""
        return any(e is not None for e in (self.erp_order, self.subscription, self.tax_document))

    def refs(self) -> dict[str, str | list[str]]:
        """The ids in the other systems, by what they are (the deal's record and audit)."""
        return {
            name: value.id if isinstance(value, ExternalRef) else [r.id for r in value]
            for name, value in self._created().items()
        }

    def bindings(self) -> dict[str, str | list[str]]:
        """``system:id`` of each, by what it is (a case's context)."""
        return {
            name: str(value) if isinstance(value, ExternalRef) else [str(r) for r in value]
            for name, value in self._created().items()
        }
