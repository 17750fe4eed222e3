"""Fixtures: a manual clock, cheap argon2, and a portal on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_portal.config import Settings
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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "portal.db"


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
