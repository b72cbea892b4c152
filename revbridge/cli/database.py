"""The database a command works on: named with its password hidden, opened with one clear
sentence when it is missing or unreachable.

Commands that read (``exceptions``, ``trace``, ``workers``, ``keys list``…) open an existing
revbridge database and never create one: a mistyped ``REVBRIDGE_DATABASE_URL`` is an error
naming the URL, not an empty listing. Commands that run deals (``worker``, ``serve``) check
that the database answers before they start. The checks are the application layer's
(:mod:`revbridge.service.database`); this module turns their refusals into the command's.
"""

from __future__ import annotations

import typer

from revbridge.app import database_url, open_store
from revbridge.config.settings import Settings
from revbridge.service import database
from revbridge.service.database import Database, DatabaseUnavailableError

HINT = database.HINT


def shown(settings: Settings) -> str:
    """The database URL as printed: the password hidden."""
    return database.shown(database_url(settings))


def open_existing(settings: Settings) -> Database:
    """The database handle on an existing revbridge database (migrated to the newest schema
    if it is an older one); a missing SQLite file or a database without revbridge's tables
    is a :class:`typer.TyperException` naming the URL."""
    url = database_url(settings)
    try:
        database.check_file(url)
        engine = open_store(settings, upgrade=False)
        database.upgrade_existing(engine, url)
    except DatabaseUnavailableError as exc:
        raise typer.TyperException(str(exc)) from None
    return engine


def open_reachable(settings: Settings) -> Database:
    """The database handle on revbridge's database, created or migrated as needed, once it
    answers."""
    engine = open_store(settings, upgrade=False)
    try:
        database.upgrade_reachable(engine, database_url(settings))
    except DatabaseUnavailableError as exc:
        raise typer.TyperException(str(exc)) from None
    return engine
