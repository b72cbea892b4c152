"""Which provisioning endpoints were told that a deal's billing is live.

A row is written, in the transaction that records the step, once the endpoint accepted
the activation; a deal and endpoint with a row are never sent another.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import entitlements

__all__ = ["activated_endpoints", "record_activation"]


def activated_endpoints(conn: Connection, deal_key: str) -> set[str]:
    """The endpoints already told about ``deal_key``."""
    rows = conn.execute(
        select(entitlements.c.endpoint).where(entitlements.c.deal_key == deal_key)
    ).scalars()
    return set(rows)


def record_activation(conn: Connection, deal_key: str, endpoint: str, webhook_id: str) -> bool:
    """Record that ``endpoint`` accepted the deal's activation; False when it was already."""
    values = {
        "deal_key": deal_key,
        "endpoint": endpoint,
        "activated_at": datetime.now(UTC),
        "webhook_id": webhook_id,
    }
    return insert_ignore(conn, entitlements, values)
