"""Throttling: the pure rule, its store in the database, and how sign-in applies it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_portal.data.engine import make_session_factory
from tui_portal.errors import (
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
    Throttled,
)
from tui_portal.security import throttle as rule
from tui_portal.security.throttle import ThrottleState
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import CodeRequired, SignedIn
from tui_portal.services.throttling import ThrottleStore

from .support import PASSWORD, START, code_now, create_user, enrol

# -- the pure rule --------------------------------------------------------------------


def test_rule_constants() -> None:
    constants = (rule.FREE_FAILURES, rule.MAX_WAIT, rule.HOURLY_LIMIT, rule.WINDOW)
    assert constants == (5, timedelta(minutes=15), 100, timedelta(hours=1))


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [
        (0, 0),
        (1, 0),
        (5, 0),
        (6, 2),
        (7, 4),
        (8, 8),
        (10, 32),
        (14, 512),
        (15, 900),  # 1024 s, capped at 15 minutes
        (16, 900),
        (40, 900),
        (10_000, 900),
    ],
)
def test_backoff_is_two_to_the_failures_beyond_five_capped_at_fifteen_minutes(
    failures: int, seconds: int
) -> None:
    assert rule.backoff(failures) == timedelta(seconds=seconds)


def test_wait_counts_from_the_last_failure() -> None:
    state = ThrottleState(
        failures=8, last_failure_at=START, window_started_at=START, window_failures=8
    )
    assert rule.wait_before_next_attempt(state, START) == timedelta(seconds=8)
    assert rule.wait_before_next_attempt(state, START + timedelta(seconds=3)) == timedelta(
        seconds=5
    )
    assert rule.wait_before_next_attempt(state, START + timedelta(seconds=8)) == timedelta(0)
    assert rule.wait_before_next_attempt(state, START + timedelta(hours=5)) == timedelta(0)


def test_hourly_cap_of_one_hundred_failures() -> None:
    window_start = START
    now = START + timedelta(minutes=30)
    # The back-off of the last failure is long over; only the hourly cap can hold it back.
    last = now - timedelta(minutes=16)
    capped = ThrottleState(
        failures=100, last_failure_at=last, window_started_at=window_start, window_failures=100
    )
    assert rule.wait_before_next_attempt(capped, now) == timedelta(minutes=30)
    assert rule.wait_before_next_attempt(capped, window_start + timedelta(minutes=59)) == timedelta(
        minutes=1
    )
    # The cap lifts when the hour is over.
    assert rule.wait_before_next_attempt(capped, window_start + timedelta(hours=1)) == timedelta(0)
    # 99 failures in the hour are not yet the cap.
    below = ThrottleState(
        failures=99, last_failure_at=last, window_started_at=window_start, window_failures=99
    )
    assert rule.wait_before_next_attempt(below, now) == timedelta(0)
    # The cap holds even when consecutive failures were few (it counts the hour, not a run).
    few_in_a_row = ThrottleState(
        failures=1, last_failure_at=last, window_started_at=window_start, window_failures=150
    )
    assert rule.wait_before_next_attempt(few_in_a_row, now) == timedelta(minutes=30)


def test_after_failure_counts_and_opens_a_new_window_after_an_hour() -> None:
    state = rule.after_failure(ThrottleState(), START)
    assert state == ThrottleState(1, START, START, 1)
    later = START + timedelta(minutes=59)
    state = rule.after_failure(state, later)
    assert state == ThrottleState(2, later, START, 2)
    next_hour = START + timedelta(hours=1)
    state = rule.after_failure(state, next_hour)
    assert state == ThrottleState(3, next_hour, next_hour, 1)


def test_whole_seconds_rounds_up() -> None:
    assert rule.whole_seconds(timedelta(seconds=1.2)) == 2
    assert rule.whole_seconds(timedelta(seconds=2)) == 2
    assert rule.whole_seconds(timedelta(seconds=-5)) == 0
    assert rule.whole_seconds(timedelta(microseconds=1)) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=60),
    st.integers(min_value=0, max_value=7200),
)
def test_no_wait_is_ever_beyond_an_hour_or_negative(gaps: list[int], later: int) -> None:
    state = ThrottleState()
    now = START
    for gap in gaps:
        now += timedelta(seconds=gap)
        state = rule.after_failure(state, now)
    wait = rule.wait_before_next_attempt(state, now + timedelta(seconds=later))
    assert timedelta(0) <= wait <= rule.WINDOW
    if state.window_failures < rule.HOURLY_LIMIT:
        assert wait <= rule.MAX_WAIT


# -- the store ------------------------------------------------------------------------


@pytest.fixture
def store(portal: Portal, clock: ManualClock) -> ThrottleStore:
    return ThrottleStore(make_session_factory(portal.engine), clock)


def test_store_records_failures_and_applies_the_rule(
    store: ThrottleStore, clock: ManualClock
) -> None:
    for _ in range(5):
        store.record_failure("alice")
        assert store.wait_seconds("alice") == 0
    store.record_failure("alice")
    assert store.wait_seconds("alice") == 2
    clock.advance(1.5)
    assert store.wait_seconds("alice") == 1
    clock.advance(0.5)
    assert store.wait_seconds("alice") == 0
    store.record_failure("alice")
    assert store.wait_seconds("alice") == 4
    assert store.wait_seconds("bob") == 0
    state = store.state("alice")
    assert (state.failures, state.window_failures) == (7, 7)
    assert state.last_failure_at == clock.now


def test_store_caps_the_wait_at_fifteen_minutes(store: ThrottleStore, clock: ManualClock) -> None:
    for _ in range(30):
        store.record_failure("alice")
    assert store.wait_seconds("alice") == 900


def test_store_applies_the_hourly_cap(store: ThrottleStore, clock: ManualClock) -> None:
    for _ in range(100):
        store.record_failure("alice")
        clock.advance(1)
    # 100 failures in 100 s; the 15-minute back-off of the last one runs out first.
    clock.advance(900)
    assert store.wait_seconds("alice") == 3600 - 1000
    clock.advance(3600 - 1000)
    assert store.wait_seconds("alice") == 0


def test_store_opens_a_new_window_after_an_hour(store: ThrottleStore, clock: ManualClock) -> None:
    store.record_failure("alice")
    first = clock.now
    clock.advance(3599)
    store.record_failure("alice")
    assert store.state("alice").window_started_at == first
    assert store.state("alice").window_failures == 2
    clock.advance(1)
    store.record_failure("alice")
    state = store.state("alice")
    assert state.window_started_at == clock.now
    assert (state.failures, state.window_failures) == (3, 1)


# -- through sign-in ------------------------------------------------------------------


def fail_password(portal: Portal, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            portal.sign_in.sign_in(username, "wrong password")


def test_five_failures_are_free_then_sign_in_waits(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 5)
    fail_password(portal, "alice", 1)  # the sixth is still answered, then the wait begins
    with pytest.raises(Throttled) as raised:
        portal.sign_in.sign_in("alice", "wrong password")
    assert raised.value.retry_after == 2
    assert "2 seconds" in str(raised.value)
    clock.advance(1)
    with pytest.raises(Throttled) as raised:
        portal.sign_in.sign_in("alice", "wrong password")
    assert raised.value.retry_after == 1
    assert "1 second." in str(raised.value)
    clock.advance(1)
    fail_password(portal, "alice", 1)
    with pytest.raises(Throttled) as raised:
        portal.sign_in.sign_in("alice", "wrong password")
    assert raised.value.retry_after == 4


def test_a_throttled_attempt_does_not_count_as_a_failure(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 6)
    for _ in range(10):
        with pytest.raises(Throttled):
            portal.sign_in.sign_in("alice", "wrong password")
    clock.advance(2)
    fail_password(portal, "alice", 1)
    with pytest.raises(Throttled) as raised:
        portal.sign_in.sign_in("alice", "wrong password")
    assert raised.value.retry_after == 4


def test_a_correct_password_is_refused_while_throttled(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 6)
    with pytest.raises(Throttled):
        portal.sign_in.sign_in("alice", PASSWORD)
    with pytest.raises(Throttled):
        portal.sign_in.sign_in("ALICE", PASSWORD)  # the throttle ignores letter case
    clock.advance(2)
    assert isinstance(portal.sign_in.sign_in("alice", PASSWORD), SignedIn)


def test_success_resets_the_count(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 5)
    assert isinstance(portal.sign_in.sign_in("alice", PASSWORD), SignedIn)
    # Five more free failures.
    fail_password(portal, "alice", 5)
    assert isinstance(portal.sign_in.sign_in("alice", PASSWORD), SignedIn)
    fail_password(portal, "alice", 6)
    with pytest.raises(Throttled) as raised:
        portal.sign_in.sign_in("alice", PASSWORD)
    assert raised.value.retry_after == 2


def test_unknown_usernames_are_throttled_identically(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")

    def outcomes(username: str) -> list[tuple[str, int | None]]:
        seen: list[tuple[str, int | None]] = []
        for _ in range(9):
            try:
                portal.sign_in.sign_in(username, "wrong password")
            except Throttled as error:
                seen.append(("Throttled", error.retry_after))
                clock.advance(error.retry_after)
            except InvalidCredentials as error:
                seen.append((str(error), None))
        return seen

    start = clock.now
    known = outcomes("alice")
    clock.now = start
    unknown = outcomes("ghost")
    assert known == unknown
    assert ("Throttled", 2) in known
    assert ("Throttled", 4) in known


def test_code_failures_and_password_failures_count_together(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    secret = enrol(portal, clock, alice.id)
    fail_password(portal, "alice", 3)
    step = portal.sign_in.sign_in("alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    right = code_now(secret, clock)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):  # failures 4 and 5: free
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(step.token, wrong)
    with pytest.raises(InvalidCode):  # failure 6: answered, then the wait begins
        portal.sign_in.verify_code(step.token, "not a code")
    with pytest.raises(Throttled) as raised:
        portal.sign_in.verify_code(step.token, right)  # even the right code must wait
    assert raised.value.retry_after == 2
    with pytest.raises(Throttled):
        portal.sign_in.sign_in("alice", PASSWORD)
    clock.advance(2)
    assert portal.sign_in.verify_code(step.token, right).account.id == alice.id
    # The complete sign-in cleared the count.
    fail_password(portal, "alice", 5)
    assert isinstance(portal.sign_in.sign_in("alice", PASSWORD), CodeRequired)


def test_the_password_step_alone_does_not_reset_the_count(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    secret = enrol(portal, clock, alice.id)
    fail_password(portal, "alice", 5)
    for _ in range(3):
        assert isinstance(portal.sign_in.sign_in("alice", PASSWORD), CodeRequired)
    step = portal.sign_in.sign_in("alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    wrong = "000000" if code_now(secret, clock) != "000000" else "111111"
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(step.token, wrong)  # the sixth failure
    with pytest.raises(Throttled):
        portal.sign_in.sign_in("alice", PASSWORD)


def test_a_wrong_confirmation_password_counts_too(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    enrol(portal, clock, alice.id)
    fail_password(portal, "alice", 5)
    with pytest.raises(IncorrectPassword):
        portal.mfa.disable_own(alice.id, "wrong password")
    with pytest.raises(Throttled):
        portal.mfa.disable_own(alice.id, PASSWORD)
    with pytest.raises(Throttled):
        portal.sign_in.sign_in("alice", PASSWORD)
    assert portal.directory.account(alice.id).mfa_enabled
