"""Eight OS processes attempt one account at the moment exactly one attempt is allowed.

Shared by the SQLite and PostgreSQL race tests. Each scenario: every worker gets ready (a
pending sign-in or a session), the main process sets the account's counter so that exactly
one more attempt is allowed now, and then all workers attempt at once. The claim made before
each check must let exactly one of them be checked; the others are told to wait.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from tui_portal.config import KeySource, Settings
from tui_portal.data.models import Throttle
from tui_portal.errors import (
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
    InvalidRecoveryCode,
    Locked,
    Throttled,
)
from tui_portal.security import throttle as rule
from tui_portal.security.passwords import Passwords
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import CodeRequired, SignedIn

WORKERS = 8
BARRIER_TIMEOUT = 120
# Dearer than the other tests' argon2, so a check takes long enough to be raced.
RACE_HASHER = {"time_cost": 1, "memory_cost": 16384, "parallelism": 1}
SCENARIOS = ("password", "code", "recovery code", "password confirmation", "hourly cap")
PREPARE_AT = datetime(2031, 5, 1, 9, 0, tzinfo=UTC)
ATTEMPT_AT = PREPARE_AT + timedelta(minutes=1)


def race_passwords() -> Passwords:
    return Passwords(PasswordHasher(**RACE_HASHER))


def settings_for(url: str, key: str, folder: str) -> Settings:
    return Settings(
        database_url=url,
        key_source=KeySource(inline_value=key, key_file=Path(folder) / "unused.key"),
        issuer="Developer Portal",
    )


@dataclass(frozen=True)
class Cast:
    """The two accounts raced: ``mfa_user`` has MFA (and recovery codes), ``plain`` not."""

    mfa_user: str
    plain: str
    password: str


def outcome_of(attempt: Callable[[], object]) -> str:
    try:
        attempt()
    except (InvalidCredentials, InvalidCode, InvalidRecoveryCode, IncorrectPassword):
        return "checked"
    except Throttled:
        return "throttled"
    except Locked:
        return "locked"
    except Exception as error:
        return f"error: {error.__class__.__name__}: {error}"
    return "signed in"


def worker(
    url: str,
    key: str,
    folder: str,
    cast: Cast,
    number: int,
    barrier: Any,
    turns: Any,
    results: Any,
) -> None:
    """One racer: for each scenario, get ready, wait, attempt at the same moment as the rest."""
    clock = ManualClock(PREPARE_AT)
    portal = open_portal(settings_for(url, key, folder), clock=clock, passwords=race_passwords())
    source = f"ssh:10.0.0.{number}"  # one address each: the account's counter is raced
    try:
        for scenario in SCENARIOS:
            barrier.wait(timeout=BARRIER_TIMEOUT)  # the main process has cleared the counters
            clock.now = PREPARE_AT
            with turns:  # one at a time: a sign-in in flight counts until it is settled
                attempt = _attempt(portal, cast, scenario, source)
            barrier.wait(timeout=BARRIER_TIMEOUT)  # ready: the main process sets the counter
            barrier.wait(timeout=BARRIER_TIMEOUT)  # go
            clock.now = ATTEMPT_AT
            results.put((scenario, outcome_of(attempt)))
    finally:
        portal.close()


def _attempt(portal: Portal, cast: Cast, scenario: str, source: str) -> Callable[[], object]:
    """Get ready for one scenario (at :data:`PREPARE_AT`); the attempt to make at the signal."""
    sign_in = portal.sign_in
    if scenario == "password confirmation":
        signed = sign_in.sign_in(username=cast.plain, password=cast.password, source=source)
        assert isinstance(signed, SignedIn)
        caller = signed.caller
        return lambda: portal.accounts.change_password(
            caller, current="not the password", new="a good new password"
        )
    if scenario in ("code", "recovery code"):
        step = sign_in.sign_in(username=cast.mfa_user, password=cast.password, source=source)
        assert isinstance(step, CodeRequired)
        token = step.token
        if scenario == "code":
            return lambda: sign_in.verify_code(token=token, code="000000")
        return lambda: sign_in.verify_recovery_code(token=token, code="AAAA-AAAA-AAAA-AAAA")
    return lambda: sign_in.sign_in(
        username=cast.mfa_user, password="not the password", source=source
    )


def one_attempt_left(scenario: str) -> rule.ThrottleState:
    """A counter that allows exactly one more attempt at :data:`ATTEMPT_AT`."""
    if scenario == "hourly cap":  # 99 failures this hour, no back-off pending: one more
        return rule.ThrottleState(
            failures=2,
            last_failure_at=ATTEMPT_AT - timedelta(minutes=1),
            window_started_at=ATTEMPT_AT - timedelta(minutes=30),
            window_failures=rule.HOURLY_LIMIT - 1,
        )
    return rule.ThrottleState(  # six failures: the wait of two seconds has just passed
        failures=6,
        last_failure_at=ATTEMPT_AT - timedelta(seconds=2),
        window_started_at=ATTEMPT_AT - timedelta(minutes=10),
        window_failures=6,
    )


def set_counter(portal: Portal, username: str, state: rule.ThrottleState) -> None:
    subject = portal.throttles.account(username, known=True)
    with portal.db.write() as session:
        row = session.get(Throttle, subject.key)
        if row is None:
            row = Throttle(subject=subject.key, kind="account", known=True)
            session.add(row)
        row.failures = state.failures
        row.last_failure_at = state.last_failure_at
        row.window_started_at = state.window_started_at
        row.window_failures = state.window_failures
        row.locked_at = None


def race(portal: Portal, url: str, key: str, folder: str, cast: Cast) -> dict[str, Counter[str]]:
    """Run every scenario with :data:`WORKERS` processes; the outcomes of each."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS + 1)
    turns = context.Lock()
    results = context.Queue()
    workers = [
        context.Process(target=worker, args=(url, key, folder, cast, n, barrier, turns, results))
        for n in range(WORKERS)
    ]
    for process in workers:
        process.start()
    outcomes: dict[str, Counter[str]] = {}
    try:
        for scenario in SCENARIOS:
            for name in (cast.mfa_user, cast.plain):
                set_counter(portal, name, rule.ThrottleState())
            barrier.wait(timeout=BARRIER_TIMEOUT)  # cleared: the workers get ready
            barrier.wait(timeout=BARRIER_TIMEOUT)  # ready
            raced = cast.plain if scenario == "password confirmation" else cast.mfa_user
            set_counter(portal, raced, one_attempt_left(scenario))
            barrier.wait(timeout=BARRIER_TIMEOUT)
            got = [results.get(timeout=BARRIER_TIMEOUT) for _ in range(WORKERS)]
            assert {name for name, _ in got} == {scenario}
            outcomes[scenario] = Counter(outcome for _, outcome in got)
            if scenario == "hourly cap":
                state = portal.throttles.state(portal.throttles.account(raced, known=True))
                outcomes["hourly cap: failures this hour"] = Counter(
                    {str(state.window_failures): 1}
                )
    except (queue.Empty, AssertionError):
        barrier.abort()
        raise
    finally:
        for process in workers:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()
    assert [p.exitcode for p in workers] == [0] * WORKERS
    return outcomes


def expected() -> dict[str, Counter[str]]:
    """Exactly one check in each scenario; the hour ends at the cap."""
    once = Counter({"checked": 1, "throttled": WORKERS - 1})
    outcomes: dict[str, Counter[str]] = {scenario: once for scenario in SCENARIOS}
    outcomes["hourly cap: failures this hour"] = Counter({str(rule.HOURLY_LIMIT): 1})
    return outcomes
