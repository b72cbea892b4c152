"""Config versions: every policy loaded, by hash, with who loaded it and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from revbridge.store.tables import config_versions


@dataclass(frozen=True)
class ConfigVersion:
    id: int
    policy_hash: str
    content: str
    source: str
    loaded_by: str
    loaded_at: datetime


def record(
    conn: Connection, policy_hash: str, content: str, source: str, loaded_by: str
) -> ConfigVersion:
    """Store a loaded policy; loading the active version again adds nothing."""
    current = active(conn)
    if current is not None and current.policy_hash == policy_hash:
        return current
    now = datetime.now(UTC)
    new_id = conn.execute(
        config_versions.insert()
        .values(
            policy_hash=policy_hash,
            content=content,
            source=source,
            loaded_by=loaded_by,
            loaded_at=now,
        )
        .returning(config_versions.c.id)
    ).scalar_one()
    return ConfigVersion(new_id, policy_hash, content, source, loaded_by, now)


def history(conn: Connection, limit: int = 20) -> list[ConfigVersion]:
    """Newest first."""
    rows = conn.execute(
        select(config_versions).order_by(config_versions.c.id.desc()).limit(limit)
    ).all()
    return [ConfigVersion(**r._asdict()) for r in rows]


def active(conn: Connection) -> ConfigVersion | None:
    versions = history(conn, 1)
    return versions[0] if versions else None
