"""The database a face works on: the handle it holds, whether it answers, and opening an
existing revbridge database for a command.

Faces hold a :data:`Database` and pass it to the application layer; they never query it.
Commands that read (``exceptions``, ``trace``, ``workers``, ``keys list``…) open an existing
database and never create one: a mistyped URL is a :class:`DatabaseUnavailableError` naming
it, not an empty listing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from revbridge.errors import RevbridgeError
from revbridge.store import migrate
from revbridge.store.db import is_sqlite

#: The handle on revbridge's database that the composition root opens and faces pass on.
Database = Engine

HINT = "set REVBRIDGE_DATABASE_URL to the database to use, e.g. sqlite:///demo/revbridge.db"


class DatabaseUnavailableError(RevbridgeError):
    """The database is missing, holds no revbridge tables, or does not answer."""


def answers(database: Database) -> bool:
    """Whether the database answers a trivial query now."""
    try:
        with database.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def shown(url: str) -> str:
    """The database URL as printed: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def check_file(url: str) -> None:
    """A SQLite URL must name an existing file (read commands never create one)."""
    if is_sqlite(url):
        path = make_url(url).database
        if not path or path == ":memory:" or not Path(path).expanduser().is_file():
            raise DatabaseUnavailableError(
                f"no database at {shown(url)} (no file {path or '(in memory)'}); {HINT}"
            )


def upgrade_existing(database: Database, url: str) -> None:
    """Migrate an existing revbridge database to the newest schema; one that holds no
    revbridge tables (or does not answer) is a :class:`DatabaseUnavailableError`."""
    revision = _revision(database, url)
    if revision is None:
        database.dispose()
        raise DatabaseUnavailableError(
            f"{shown(url)} holds no revbridge tables; {HINT} "
            "(or run revbridge db upgrade to create them there)"
        )
    if revision != migrate.head():
        migrate.upgrade(database)


def upgrade(database: Database) -> str | None:
    """Create or migrate revbridge's tables to the newest version; the revision reached."""
    return migrate.upgrade(database)


def shown_of(database: Database) -> str:
    """The database's URL as printed: the password hidden."""
    return database.url.render_as_string(hide_password=True)


def upgrade_reachable(database: Database, url: str) -> None:
    """Create or migrate revbridge's tables once the database answers."""
    _revision(database, url)
    migrate.upgrade(database)


def _revision(database: Database, url: str) -> str | None:
    try:
        return migrate.current(database)
    except DBAPIError as exc:
        database.dispose()
        raise DatabaseUnavailableError(
            f"cannot open the database {shown(url)}: {_reason(exc, url)}"
        ) from None


def _reason(exc: DBAPIError, url: str) -> str:
    """The driver's first line, without the password should a driver ever echo it."""
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc.orig).__name__
    password = make_url(url).password
    return reason.replace(str(password), "***") if password else reason
