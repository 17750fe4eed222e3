"""Engine and session factory: SQLite tuned for a desktop app, any other SQLAlchemy URL as it is.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and a new database
file is created with mode 0600 before SQLite ever opens it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.errors import DatabaseError

# Writers take turns for SQLite's one write lock. With many sign-ins at once and argon2
# keeping every core busy, a turn can come late; waiting is better than refusing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
UNPARSEABLE_URL = (
    "cannot use the database URL: it does not parse (percent-encode special characters "
    "in the user name and password)"
)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for other databases and in-memory SQLite.

    SQLite's own ``file:`` URI form (``sqlite:///file:PATH?uri=true``) names a file too, so
    that file is created privately like any other.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        uri = urlsplit(database)
        if "mode=memory" in uri.query or "mode=memory" in str(parsed.query.get("mode", "")):
            return None
        path = unquote(uri.path or uri.netloc)
        return Path(path) if path and path != ":memory:" else None
    return Path(database)


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by its owner only, unless it already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise DatabaseError(f"cannot create database file {path}: {error.strerror}") from error
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise DatabaseError(f"cannot create database file {path}: {error.strerror}") from error
    os.close(descriptor)


WRITES = "tui_portal_writes"  # execution option: this connection's transactions write


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The portal begins transactions itself (see _begin_sqlite), so that a transaction that
    # will write takes SQLite's write lock at its start, waiting its turn, instead of failing
    # with "database is locked" when it first writes after another process did.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # Deleted rows (spent recovery codes, old secrets, counters) are overwritten with zeros,
    # not left readable in the file's free pages.
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Turn on WAL. When several processes open a new file at once, SQLite may refuse the
    switch with "database is locked" without waiting; so wait here as busy_timeout would."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    """Build the engine for ``url``; for a SQLite file, create it privately first."""
    try:
        path = sqlite_path(url)
    except (ValueError, ArgumentError):
        raise DatabaseError(UNPARSEABLE_URL) from None
    if path is not None:
        if path.is_dir():
            raise DatabaseError(f"database path {path} is a folder")
        create_private_file(path)
    try:
        engine = create_engine(url, pool_pre_ping=path is None)
    except (ValueError, ArgumentError):  # the URL does not parse; its text may hold a password
        raise DatabaseError(UNPARSEABLE_URL) from None
    except Exception as error:  # a missing driver, an unknown dialect
        raise DatabaseError(f"cannot use database {make_url_safe(url)}: {error}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _begin_sqlite(connection: Connection) -> None:
    """BEGIN IMMEDIATE for writing transactions, a plain (deferred) BEGIN for reading ones."""
    writes = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def make_url_safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, since results leave as dataclasses."""
    return sessionmaker(engine, expire_on_commit=False)


def writing(engine: Engine) -> Engine:
    """The same engine (and pool), with transactions that take the write lock at once."""
    return engine.execution_options(**{WRITES: True})


@dataclass(frozen=True)
class Database:
    """One database: ``read()`` for a session that only reads, ``write()`` for a transaction.

    A write transaction holds SQLite's write lock from its first statement, so writers from
    any number of processes take turns (waiting up to the busy timeout) rather than fail.
    On PostgreSQL both are ordinary transactions.
    """

    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]

    @classmethod
    def over(cls, engine: Engine) -> Database:
        """Session factories for ``engine``."""
        return cls(engine, make_session_factory(engine), make_session_factory(writing(engine)))

    def read(self) -> Session:
        """A session for reading; use it as a context manager."""
        return self.reads()

    def write(self) -> AbstractContextManager[Session]:
        """A transaction that commits when the block ends and rolls back on an error."""
        return self.writes.begin()

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql``, …"""
        return self.engine.dialect.name
