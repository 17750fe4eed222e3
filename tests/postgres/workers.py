"""Separate OS processes that act on one PostgreSQL database at the same moment as their twin.

Kept apart from the test modules so that a spawned process imports only what it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_portal.services.clock import ManualClock

from .support import open_on

BARRIER_TIMEOUT = 60


def open_new_database(url: str, key: str, folder: str, barrier: Any, results: Any) -> None:
    """Open the portal on a database that has no schema yet, when the others do."""
    barrier.wait(timeout=BARRIER_TIMEOUT)
    try:
        portal = open_on(url, key, ManualClock(datetime.now(UTC)), Path(folder))
    except Exception as error:
        results.put(f"{error.__class__.__name__}: {error}")
        return
    try:
        portal.directory.organisations()
        results.put("opened")
    finally:
        portal.close()
