"""Bindings: which external object in each system is a given canonical object.

A binding links ``(entity, canonical_id)`` to ``(system, external_id)``; both sides are
unique, so one canonical customer can never point at two ERP customers, nor two
canonical customers at one. Binding again with the same pair is a no-op; binding a
different pair raises :class:`BindingConflictError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from revbridge.errors import StoreError
from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import bindings


class BindingConflictError(StoreError):
    """The canonical object or the external object is already bound elsewhere."""


@dataclass(frozen=True)
class Binding:
    entity: str
    canonical_id: str
    system: str
    external_id: str


def bind(
    conn: Connection,
    entity: str,
    canonical_id: str,
    system: str,
    external_id: str,
    correlation_id: str | None = None,
) -> Binding:
    """Record the link; idempotent for the same pair, an error for a different one."""
    wanted = Binding(entity, canonical_id, system, external_id)
    insert_ignore(
        conn,
        bindings,
        {
            "entity": entity,
            "canonical_id": canonical_id,
            "system": system,
            "external_id": external_id,
            "correlation_id": correlation_id,
            "created_at": datetime.now(UTC),
        },
    )
    by_canonical = external_for(conn, entity, canonical_id, system)
    by_external = canonical_for(conn, entity, system, external_id)
    if by_canonical != external_id or by_external != canonical_id:
        raise BindingConflictError(
            f"{entity} {canonical_id} ↔ {system}:{external_id} conflicts with "
            f"{system}:{by_canonical} / {by_external}"
        )
    return wanted


def external_for(conn: Connection, entity: str, canonical_id: str, system: str) -> str | None:
    return conn.execute(
        select(bindings.c.external_id).where(
            bindings.c.entity == entity,
            bindings.c.canonical_id == canonical_id,
            bindings.c.system == system,
        )
    ).scalar_one_or_none()


def canonical_for(conn: Connection, entity: str, system: str, external_id: str) -> str | None:
    return conn.execute(
        select(bindings.c.canonical_id).where(
            bindings.c.entity == entity,
            bindings.c.system == system,
            bindings.c.external_id == external_id,
        )
    ).scalar_one_or_none()


def for_canonical(conn: Connection, entity: str, canonical_id: str) -> list[Binding]:
    rows = conn.execute(
        select(bindings.c.system, bindings.c.external_id)
        .where(bindings.c.entity == entity, bindings.c.canonical_id == canonical_id)
        .order_by(bindings.c.system)
    ).all()
    return [Binding(entity, canonical_id, r.system, r.external_id) for r in rows]


def systems(conn: Connection, entity: str) -> list[str]:
    """The systems holding ``entity`` bindings, by name."""
    rows = conn.execute(
        select(bindings.c.system).where(bindings.c.entity == entity).distinct()
    ).all()
    return sorted(str(row.system) for row in rows)
