"""The database a command works on: named with its password hidden, opened with one clear
sentence when it is missing or unreachable.

Commands that read (``exceptions``, ``trace``, ``workers``, ``keys list``…) open an existing
revbridge database and never create one: a mistyped ``REVBRIDGE_DATABASE_URL`` is an error
naming the URL, not an empty listing. Commands that run deals (``worker``, ``serve``) check
that the database answers before they start.
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from revbridge.app import database_url, open_store
from revbridge.config.settings import Settings
from revbridge.store import migrate
from revbridge.store.db import is_sqlite

HINT = "set REVBRIDGE_DATABASE_URL to the database to use, e.g. sqlite:///demo/revbridge.db"


def shown(settings: Settings) -> str:
    """The database URL as printed: the password hidden."""
    return make_url(database_url(settings)).render_as_string(hide_password=True)


def open_existing(settings: Settings) -> Engine:
    """The engine on an existing revbridge database (migrated to the newest schema if it is
    an older one); a missing SQLite file or a database without revbridge's tables is a
    :class:`typer.TyperException` naming the URL."""
    url = database_url(settings)
    if is_sqlite(url):
        path = make_url(url).database
        if not path or path == ":memory:" or not Path(path).expanduser().is_file():
            raise typer.TyperException(
                f"no database at {shown(settings)} (no file {path or '(in memory)'}); {HINT}"
            )
    engine = open_store(settings, upgrade=False)
    revision = _revision(engine, settings)
    if revision is None:
        engine.dispose()
        raise typer.TyperException(
            f"{shown(settings)} holds no revbridge tables; {HINT} "
            "(or run revbridge db upgrade to create them there)"
        )
    if revision != migrate.head():
        migrate.upgrade(engine)
    return engine


def open_reachable(settings: Settings) -> Engine:
    """The engine on revbridge's database, created or migrated as needed, once it answers."""
    engine = open_store(settings, upgrade=False)
    _revision(engine, settings)
    migrate.upgrade(engine)
    return engine


def _revision(engine: Engine, settings: Settings) -> str | None:
    try:
        return migrate.current(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise typer.TyperException(
            f"cannot open the database {shown(settings)}: {_reason(exc, settings)}"
        ) from None


def _reason(exc: DBAPIError, settings: Settings) -> str:
    """The driver's first line, without the password should a driver ever echo it."""
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc.orig).__name__
    password = make_url(database_url(settings)).password
    return reason.replace(str(password), "***") if password else reason
