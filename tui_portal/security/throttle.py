"""The one rule that decides whether a failed-attempt counter allows another attempt now.

Two counters apply to every attempt (a password, an MFA code, a recovery code, a password
confirmation, an enrolment code):

- **per account** (the name typed, known or not): five failures are free; after failure n
  (n > 5) the next attempt waits 2^(n-5) seconds, at most 15 minutes; at most 100 failures
  in an hour; and after 100 failures in a row the account is locked until an operator
  unlocks it (OWASP ASVS 2.2.1, NIST SP 800-63B §5.2.2). Only a complete sign-in starts
  it afresh.
- **per source** (the SSH or browser address, else the operating-system user): the same
  back-off after 30 failures within the hour, at most 300 an hour, never a lock, and it
  starts afresh with each hour; so one address cannot try many accounts, and a shared
  address (an office) is not locked out by one person's typos.

An attempt is counted as a failure *before* the expensive check runs, and given back when
the check succeeds: of many processes racing for the one attempt that is allowed, exactly
one gets it (the store does the claim in one transaction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

WINDOW = timedelta(hours=1)
LOCK_AFTER = 100
Kind = Literal["account", "source"]


@dataclass(frozen=True)
class Policy:
    """The numbers of one kind of counter."""

    free_failures: int
    max_wait: timedelta
    hourly_limit: int
    lock_after: int | None
    starts_afresh_each_window: bool


ACCOUNT = Policy(
    free_failures=5,
    max_wait=timedelta(minutes=15),
    hourly_limit=100,
    lock_after=LOCK_AFTER,
    starts_afresh_each_window=False,
)
SOURCE = Policy(
    free_failures=30,
    max_wait=timedelta(minutes=15),
    hourly_limit=300,
    lock_after=None,
    starts_afresh_each_window=True,
)
POLICIES: dict[Kind, Policy] = {"account": ACCOUNT, "source": SOURCE}

# The account policy's numbers, by the names the rest of the portal uses.
FREE_FAILURES = ACCOUNT.free_failures
MAX_WAIT = ACCOUNT.max_wait
HOURLY_LIMIT = ACCOUNT.hourly_limit


@dataclass(frozen=True)
class ThrottleState:
    """Failures recorded for one subject: in a row, in the current hour, and any lock."""

    failures: int = 0
    last_failure_at: datetime | None = None
    window_started_at: datetime | None = None
    window_failures: int = 0
    locked_at: datetime | None = None


@dataclass(frozen=True)
class Allowed:
    """The attempt may go ahead; ``claimed`` is the state with it counted as a failure."""

    claimed: ThrottleState


@dataclass(frozen=True)
class MustWait:
    """The attempt must wait."""

    wait: timedelta


@dataclass(frozen=True)
class IsLocked:
    """The subject is locked until an operator unlocks it."""


Decision = Allowed | MustWait | IsLocked


def backoff(failures: int, policy: Policy = ACCOUNT) -> timedelta:
    """The wait that ``failures`` failures impose after the last of them."""
    if failures <= policy.free_failures:
        return timedelta(0)
    exponent = failures - policy.free_failures
    if exponent >= 20:  # 2^20 s is far past any cap
        return policy.max_wait
    return min(timedelta(seconds=2**exponent), policy.max_wait)


def _window_open(state: ThrottleState, now: datetime) -> bool:
    return state.window_started_at is not None and now < state.window_started_at + WINDOW


def wait_before_next_attempt(
    state: ThrottleState, now: datetime, policy: Policy = ACCOUNT
) -> timedelta:
    """How long before another attempt; zero when one may be made now (locks aside)."""
    window_open = _window_open(state, now)
    failures = state.failures
    if policy.starts_afresh_each_window and not window_open:
        failures = 0
    waits = [timedelta(0)]
    pause = backoff(failures, policy)
    if state.last_failure_at is not None and pause > timedelta(0):
        # Never longer than the back-off itself: another host's clock may run ahead.
        waits.append(min(state.last_failure_at + pause - now, pause))
    if window_open and state.window_failures >= policy.hourly_limit:
        assert state.window_started_at is not None
        waits.append(state.window_started_at + WINDOW - now)
    return max(waits)


def after_failure(state: ThrottleState, now: datetime, policy: Policy = ACCOUNT) -> ThrottleState:
    """The state once one more failure is counted at ``now``."""
    window_open = _window_open(state, now)
    failures = state.failures + 1
    if policy.starts_afresh_each_window and not window_open:
        failures = 1
    locked_at = state.locked_at
    if policy.lock_after is not None and failures >= policy.lock_after and locked_at is None:
        locked_at = now
    return ThrottleState(
        failures=failures,
        last_failure_at=now,
        window_started_at=state.window_started_at if window_open else now,
        window_failures=(state.window_failures if window_open else 0) + 1,
        locked_at=locked_at,
    )


def after_refund(state: ThrottleState, policy: Policy = ACCOUNT) -> ThrottleState:
    """The state once a claimed attempt succeeded: the failure it counted is given back."""
    failures = max(0, state.failures - 1)
    locked_at = state.locked_at
    if policy.lock_after is not None and failures < policy.lock_after:
        locked_at = None
    return replace(
        state,
        failures=failures,
        window_failures=max(0, state.window_failures - 1),
        locked_at=locked_at,
    )


def decide(state: ThrottleState, now: datetime, policy: Policy = ACCOUNT) -> Decision:
    """Whether an attempt may be made now and, if so, the state that counts it."""
    if state.locked_at is not None:
        return IsLocked()
    wait = wait_before_next_attempt(state, now, policy)
    if wait > timedelta(0):
        return MustWait(wait)
    return Allowed(after_failure(state, now, policy))


def whole_seconds(wait: timedelta) -> int:
    """A wait rounded up to whole seconds, for telling people."""
    return max(0, math.ceil(wait.total_seconds()))
