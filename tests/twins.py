"""Spawned OS processes that act at the same moment as their twins, as two app hosts would.

Shared by the SQLite and PostgreSQL race tests; kept apart from the test modules so that a
spawned process imports only what it needs.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from tui_portal.config import KeySource, Settings
from tui_portal.errors import InvalidCode
from tui_portal.security.passwords import Passwords
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import open_portal
from tui_portal.services.results import CodeRequired

BARRIER_TIMEOUT = 60
RESULT_TIMEOUT = 120


def run_twins(
    target: Callable[..., None], args: Sequence[Any], expected: int, processes: int = 2
) -> list[Any]:
    """Run ``target`` in spawned processes sharing a barrier and a result queue (passed as
    its last two arguments), and collect ``expected`` results."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(*args, barrier, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected: list[Any] = []
    try:
        for _ in range(expected):
            collected.append(results.get(timeout=RESULT_TIMEOUT))
    except queue.Empty:
        barrier.abort()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert [w.exitcode for w in workers] == [0] * processes
    return collected


def submit_codes(
    url: str,
    key: str,
    folder: str,
    username: str,
    password: str,
    rounds: list[tuple[float, str]],
    barrier: Any,
    results: Any,
) -> None:
    """For each (moment, code): sign in, wait for the twin, submit the code, report."""
    clock = ManualClock(datetime.fromtimestamp(rounds[0][0], UTC))
    settings = Settings(
        database_url=url,
        key_source=KeySource(inline_value=key, key_file=Path(folder) / "unused.key"),
        issuer="Developer Portal",
    )
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    portal = open_portal(settings, clock=clock, passwords=passwords)
    try:
        for number, (moment, code) in enumerate(rounds):
            clock.now = datetime.fromtimestamp(moment, UTC)
            outcome = "not started"
            try:
                step = portal.sign_in.sign_in(
                    username=username, password=password, source="local:twin"
                )
                assert isinstance(step, CodeRequired)
            except Exception as error:
                step = None
                outcome = f"sign-in failed: {error.__class__.__name__}: {error}"
            barrier.wait(timeout=BARRIER_TIMEOUT)  # both submit at the same moment
            if step is not None:
                try:
                    portal.sign_in.verify_code(token=step.token, code=code)
                    outcome = "signed in"
                except InvalidCode:
                    outcome = "invalid code"
                except Exception as error:
                    outcome = f"error: {error.__class__.__name__}: {error}"
            results.put((number, outcome))
            barrier.wait(timeout=BARRIER_TIMEOUT)  # both done before the next round
    finally:
        portal.close()


def change_role(
    url: str,
    key: str,
    folder: str,
    org: str,
    usernames: list[str],
    barrier: Any,
    results: Any,
) -> None:
    """Demote one of ``usernames`` (the one this process draws) at the twin's moment."""
    from tui_portal.services.results import Operator

    settings = Settings(
        database_url=url,
        key_source=KeySource(inline_value=key, key_file=Path(folder) / "unused.key"),
        issuer="Developer Portal",
    )
    portal = open_portal(
        settings, passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    )
    try:
        mine = usernames[barrier.wait(timeout=BARRIER_TIMEOUT) % len(usernames)]
        barrier.wait(timeout=BARRIER_TIMEOUT)
        try:
            portal.governance.set_role(org, mine, "member", operator=Operator("twin"))
            results.put("demoted")
        except Exception as error:
            results.put(f"{error.__class__.__name__}: {error}")
    finally:
        portal.close()


def submit_recovery_code(
    url: str,
    key: str,
    folder: str,
    username: str,
    password: str,
    code: str,
    barrier: Any,
    results: Any,
) -> None:
    """Sign in, wait for the twin, submit the same recovery code at the same moment."""
    from tui_portal.errors import InvalidRecoveryCode

    settings = Settings(
        database_url=url,
        key_source=KeySource(inline_value=key, key_file=Path(folder) / "unused.key"),
        issuer="Developer Portal",
    )
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    portal = open_portal(settings, passwords=passwords)
    try:
        number = barrier.wait(timeout=BARRIER_TIMEOUT)
        step = portal.sign_in.sign_in(
            username=username, password=password, source=f"local:twin{number}"
        )
        assert isinstance(step, CodeRequired)
        barrier.wait(timeout=BARRIER_TIMEOUT)
        try:
            portal.sign_in.verify_recovery_code(token=step.token, code=code)
            results.put("signed in")
        except InvalidRecoveryCode:
            results.put("invalid recovery code")
        except Exception as error:
            results.put(f"error: {error.__class__.__name__}: {error}")
    finally:
        portal.close()
