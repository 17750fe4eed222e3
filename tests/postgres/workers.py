"""Separate OS processes that act on one PostgreSQL database at the same moment as their twin.

Kept apart from the test modules so that a spawned process imports only what it needs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_portal.data.engine import make_engine, make_session_factory
from tui_portal.services.clock import ManualClock
from tui_portal.services.throttling import ThrottleStore

from .support import open_on

BARRIER_TIMEOUT = 60


def record_failures(
    url: str, subject: str, moment: float, count: int, barrier: Any, results: Any
) -> None:
    """Record ``count`` failures for ``subject``, starting when the twin does."""
    engine = make_engine(url)
    try:
        store = ThrottleStore(
            make_session_factory(engine), ManualClock(datetime.fromtimestamp(moment, UTC))
        )
        with engine.connect():  # connect before the start, so both begin at once
            pass
        barrier.wait(timeout=BARRIER_TIMEOUT)
        recorded, began = 0, time.monotonic()
        try:
            for _ in range(count):
                store.record_failure(subject)
                recorded += 1
        finally:
            results.put((recorded, began, time.monotonic()))
    finally:
        engine.dispose()


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
