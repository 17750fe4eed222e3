"""A separate OS process that signs in and submits a code when its twin does (replay races).

Kept apart from the test module so that a spawned process imports only what it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_portal.services.portal import open_portal

from .support import cheap_passwords, make_settings

BARRIER_TIMEOUT = 60


def open_when_ready(db_paths: list[str], key: str, barrier: Any, results: Any) -> None:
    """Open (and so create and migrate) each new database at the same moment as the others."""
    for db_path in db_paths:
        barrier.wait(timeout=BARRIER_TIMEOUT)
        try:
            portal = open_portal(make_settings(Path(db_path), key), passwords=cheap_passwords())
            portal.close()
            results.put((db_path, "opened"))
        except Exception as error:
            results.put((db_path, f"error: {error.__class__.__name__}: {error}"))
