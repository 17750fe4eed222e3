"""Fixtures: a manual clock, cheap argon2, and a portal on a temporary SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_portal.config import Settings
from tui_portal.data.engine import make_engine
from tui_portal.data.schema import ensure_schema
from tui_portal.security.passwords import Passwords
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal

from .support import START, cheap_passwords, make_settings, new_key


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def passwords() -> Passwords:
    return cheap_passwords()


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An empty database at the newest schema, migrated once for the whole session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path.read_bytes()


@pytest.fixture
def db_path(tmp_path: Path, schema_template: bytes) -> Path:
    """A private SQLite file already at the newest schema (copied, so no test migrates).

    Creating and migrating a new file is tested on its own, in test_schema and test_secrets.
    """
    path = tmp_path / "portal.db"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(schema_template)
    return path


@pytest.fixture
def settings(db_path: Path, key: str) -> Settings:
    return make_settings(db_path, key)


@pytest.fixture
def portal(settings: Settings, clock: ManualClock, passwords: Passwords) -> Iterator[Portal]:
    opened = open_portal(settings, clock=clock, passwords=passwords)
    try:
        yield opened
    finally:
        opened.close()
