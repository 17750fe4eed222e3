"""The one rule that decides whether sign-in attempts for an account must wait.

Five failures are free; after failure n (n > 5) the next attempt waits 2^(n-5) seconds,
capped at 15 minutes; and no account takes more than 100 failures in an hour (OWASP ASVS
2.2.1, NIST SP 800-63B 5.2.2). Passwords and codes count alike; a success starts afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
HOURLY_LIMIT = 100
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ThrottleState:
    """Failures recorded for one account: consecutive ones, and those in the current hour."""

    failures: int = 0
    last_failure_at: datetime | None = None
    window_started_at: datetime | None = None
    window_failures: int = 0


def backoff(failures: int) -> timedelta:
    """The wait that ``failures`` consecutive failures impose after the last of them."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    exponent = failures - FREE_FAILURES
    if exponent >= 10:  # 2^10 s is already past the cap
        return MAX_WAIT
    return min(timedelta(seconds=2**exponent), MAX_WAIT)


def wait_before_next_attempt(state: ThrottleState, now: datetime) -> timedelta:
    """How long the account must wait before another attempt; zero when it may try now."""
    waits = [timedelta(0)]
    if state.last_failure_at is not None:
        waits.append(state.last_failure_at + backoff(state.failures) - now)
    if (
        state.window_started_at is not None
        and state.window_failures >= HOURLY_LIMIT
        and now < state.window_started_at + WINDOW
    ):
        waits.append(state.window_started_at + WINDOW - now)
    return max(waits)


def after_failure(state: ThrottleState, now: datetime) -> ThrottleState:
    """The state once one more failure is recorded at ``now``."""
    window_open = state.window_started_at is not None and now < state.window_started_at + WINDOW
    return ThrottleState(
        failures=state.failures + 1,
        last_failure_at=now,
        window_started_at=state.window_started_at if window_open else now,
        window_failures=(state.window_failures if window_open else 0) + 1,
    )


def whole_seconds(wait: timedelta) -> int:
    """A wait rounded up to whole seconds, for telling people."""
    return max(0, math.ceil(wait.total_seconds()))
