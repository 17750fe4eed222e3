"""A separate OS process that signs in and submits a code when its twin does (replay races).

Kept apart from the test module so that a spawned process imports only what it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_portal.services.clock import ManualClock
from tui_portal.services.errors import InvalidCode
from tui_portal.services.portal import open_portal
from tui_portal.services.results import CodeRequired

from .support import cheap_passwords, make_settings

BARRIER_TIMEOUT = 60


def submit_codes(
    db_path: str,
    key: str,
    username: str,
    password: str,
    rounds: list[tuple[float, str]],
    barrier: Any,
    results: Any,
) -> None:
    """For each (moment, code): sign in, wait for the twin, submit the code, report."""
    clock = ManualClock(datetime.fromtimestamp(rounds[0][0], UTC))
    portal = open_portal(
        make_settings(Path(db_path), key), clock=clock, passwords=cheap_passwords()
    )
    try:
        for number, (moment, code) in enumerate(rounds):
            clock.now = datetime.fromtimestamp(moment, UTC)
            outcome = "not started"
            try:
                step = portal.sign_in.sign_in(username, password)
                assert isinstance(step, CodeRequired)
            except Exception as error:
                step = None
                outcome = f"sign-in failed: {error.__class__.__name__}: {error}"
            barrier.wait(timeout=BARRIER_TIMEOUT)  # both submit at the same moment
            if step is not None:
                try:
                    portal.sign_in.verify_code(step.token, code)
                    outcome = "signed in"
                except InvalidCode:
                    outcome = "invalid code"
                except Exception as error:
                    outcome = f"error: {error.__class__.__name__}: {error}"
            results.put((number, outcome))
            barrier.wait(timeout=BARRIER_TIMEOUT)  # both done before the next round
    finally:
        portal.close()


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
