"""Engine and session factory: SQLite tuned for a desktop app, any other SQLAlchemy URL as it is.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and a new database
file is created with mode 0600 before SQLite ever opens it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.errors import DatabaseError

SQLITE_BUSY_TIMEOUT_MS = 5000


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
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


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
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
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise DatabaseError(f"database path {path} is a folder")
        create_private_file(path)
    try:
        engine = create_engine(url, pool_pre_ping=path is None)
    except Exception as error:  # bad URL, missing driver
        raise DatabaseError(f"cannot use database {make_url_safe(url)}: {error}") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def make_url_safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, since results leave as dataclasses."""
    return sessionmaker(engine, expire_on_commit=False)
