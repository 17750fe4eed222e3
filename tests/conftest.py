"""Fixtures shared by the UI and snapshot tests: the portal world on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.world import World, build_world
from tui_portal.security import totp


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A fresh portal world for one test, on a temporary SQLite file."""
    built = build_world(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path)
    yield built
    built.portal.close()


@pytest.fixture
def fixed_secret(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Make new TOTP secrets predictable (snapshots of the QR code need one)."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    monkeypatch.setattr(totp, "new_secret", lambda: secret)
    return lambda: secret
