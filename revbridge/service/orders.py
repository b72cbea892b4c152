"""Order packages submitted directly (CPQ tools, partner portals): stored and audited
together; the deal's flow then reads the package instead of the CRM."""

from __future__ import annotations

import json

from revbridge.ports import DealPackage
from revbridge.service.database import Database
from revbridge.store import audit, packages

__all__ = ["SOURCE", "submit"]

#: The system name of a directly submitted order's key (``api:<order id>``).
SOURCE = packages.SOURCE


def submit(database: Database, key: str, package: DealPackage, actor: str) -> bool:
    """Store (or replace) the package of deal ``key``, audited as ``order.submitted`` or
    ``order.resubmitted``; True when the order is new."""
    data = json.loads(package.model_dump_json())
    with database.begin() as conn:
        new = packages.save(conn, key, data, actor)
        audit.append(
            conn,
            actor=actor,
            action="order.submitted" if new else "order.resubmitted",
            subject=key,
            after={"total": data["order"]["total"], "version": package.version},
            correlation_id=package.order.correlation_id,
        )
    return new
