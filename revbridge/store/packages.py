"""Order packages submitted through the API: stored, then read by the flow like a CRM deal.

Submitting the same order again replaces its package, so ``resume`` after a correction
re-reads the corrected version, exactly as a deal is re-read from the CRM.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import order_packages

#: The system name of orders submitted directly (``api:<order id>``).
SOURCE = "api"


def save(conn: Connection, order_key: str, package: dict[str, Any], submitted_by: str) -> bool:
    """Store (or replace) the package; True when the order is new."""
    now = datetime.now(UTC)
    values = {"package": package, "submitted_by": submitted_by, "updated_at": now}
    if insert_ignore(conn, order_packages, {"order_key": order_key, "received_at": now, **values}):
        return True
    conn.execute(
        update(order_packages).where(order_packages.c.order_key == order_key).values(**values)
    )
    return False


def load(conn: Connection, order_key: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(order_packages.c.package).where(order_packages.c.order_key == order_key)
    ).scalar_one_or_none()
    return None if row is None else dict(row)
