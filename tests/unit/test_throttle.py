"""Throttling: the pure rule, its store in the database, and how sign-in applies it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tui_portal.data.models import Throttle
from tui_portal.errors import (
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
    Locked,
    Throttled,
)
from tui_portal.security import throttle as rule
from tui_portal.security.throttle import ThrottleState
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import CodeRequired, SignedIn
from tui_portal.services.throttling import Subject, ThrottleStore

from .support import (
    OPERATOR,
    PASSWORD,
    SOURCE,
    START,
    account_of,
    code_now,
    create_user,
    enrolled,
    session_for,
)

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


# -- locks and sources in the rule ---------------------------------------------------


def test_one_hundred_failures_in_a_row_lock_an_account() -> None:
    state = ThrottleState()
    now = START
    for _ in range(rule.LOCK_AFTER - 1):
        state = rule.after_failure(state, now)
        now += timedelta(hours=2)  # past every wait and every hourly window
    assert state.locked_at is None
    assert isinstance(rule.decide(state, now), rule.Allowed)
    state = rule.after_failure(state, now)
    assert state.locked_at == now
    assert isinstance(rule.decide(state, now + timedelta(days=30)), rule.IsLocked)


def test_a_refund_gives_back_a_failure_and_the_lock_it_would_have_made() -> None:
    state = ThrottleState(failures=rule.LOCK_AFTER - 1, last_failure_at=START)
    decision = rule.decide(state, START + timedelta(hours=2))
    assert isinstance(decision, rule.Allowed)
    assert decision.claimed.locked_at is not None
    refunded = rule.after_refund(decision.claimed)
    assert refunded.locked_at is None
    assert refunded.failures == rule.LOCK_AFTER - 1


def test_a_source_has_thirty_free_failures_an_hour_and_is_never_locked() -> None:
    state = ThrottleState()
    for _ in range(30):
        state = rule.after_failure(state, START, rule.SOURCE)
    assert rule.wait_before_next_attempt(state, START, rule.SOURCE) == timedelta(0)
    state = rule.after_failure(state, START, rule.SOURCE)
    assert rule.wait_before_next_attempt(state, START, rule.SOURCE) == timedelta(seconds=2)
    for _ in range(500):
        state = rule.after_failure(state, START, rule.SOURCE)
    assert state.locked_at is None
    # A new hour starts afresh.
    later = START + timedelta(hours=1)
    assert rule.wait_before_next_attempt(state, later, rule.SOURCE) == timedelta(0)
    assert rule.after_failure(state, later, rule.SOURCE).failures == 1


# -- the store ------------------------------------------------------------------------


@pytest.fixture
def store(portal: Portal) -> ThrottleStore:
    return portal.throttles


def wait(store: ThrottleStore, subject: Subject, clock: ManualClock) -> int:
    """The wait the stored state imposes now, without making an attempt."""
    state = store.state(subject)
    return rule.whole_seconds(rule.wait_before_next_attempt(state, clock(), subject.policy))


def test_store_claims_count_failures_and_apply_the_rule(
    store: ThrottleStore, clock: ManualClock
) -> None:
    alice = store.account("alice", known=True)
    for _ in range(5):
        store.claim([alice])
        assert wait(store, alice, clock) == 0
    store.claim([alice])
    assert wait(store, alice, clock) == 2
    with pytest.raises(Throttled) as raised:
        store.claim([alice])
    assert raised.value.retry_after == 2
    clock.advance(2)
    store.claim([alice])
    assert wait(store, alice, clock) == 4
    assert wait(store, store.account("bob", known=True), clock) == 0
    state = store.state(alice)
    assert (state.failures, state.window_failures) == (7, 7)
    assert state.last_failure_at == clock.now


def test_a_refused_claim_counts_nothing_on_any_subject(
    store: ThrottleStore, clock: ManualClock
) -> None:
    source, alice = store.source(SOURCE), store.account("alice", known=True)
    for _ in range(6):
        store.claim([source, alice])
    before = store.state(source)
    with pytest.raises(Throttled):
        store.claim([source, alice])  # the account must wait: the source is not charged
    assert store.state(source) == before


def test_a_refund_gives_the_attempt_back(store: ThrottleStore, clock: ManualClock) -> None:
    alice = store.account("alice", known=True)
    for _ in range(5):
        store.claim([alice])
    claim = store.claim([alice])
    store.refund(claim)
    assert store.state(alice).failures == 5
    assert wait(store, alice, clock) == 0


def test_store_caps_the_wait_at_fifteen_minutes(store: ThrottleStore, clock: ManualClock) -> None:
    alice = store.account("alice", known=True)
    for _ in range(30):
        clock.advance(wait(store, alice, clock))
        store.claim([alice])
    assert wait(store, alice, clock) == 900


def test_store_applies_the_hourly_cap(store: ThrottleStore, clock: ManualClock) -> None:
    alice = store.account("alice", known=True)
    started = clock.now
    while store.state(alice).window_failures < rule.HOURLY_LIMIT:
        clock.advance(wait(store, alice, clock))
        if clock.now >= started + rule.WINDOW:
            break
        store.claim([alice])
    # Whatever the back-off, the hour cannot take more than 100 failures.
    assert store.state(alice).window_failures <= rule.HOURLY_LIMIT


def test_subjects_are_keyed_hashes_not_names(store: ThrottleStore, portal: Portal) -> None:
    typed = "MySecretPassword!"
    store.claim([store.account(typed, known=False)])
    with portal.engine.connect() as connection:
        subjects = [row[0] for row in connection.exec_driver_sql("SELECT subject FROM throttles")]
    assert subjects and all(len(subject) == 64 for subject in subjects)
    assert all(typed.lower() not in subject for subject in subjects)
    # The same name in any letter case is the same counter.
    assert store.account(typed.upper(), known=False).key == subjects[0]


def test_counters_for_unknown_names_are_forgotten_after_their_hour(
    store: ThrottleStore, clock: ManualClock, portal: Portal
) -> None:
    ghost = store.account("ghost", known=False)
    alice = store.account("alice", known=True)
    locked_ghost = store.account("locked-ghost", known=False)
    store.claim([ghost])
    store.claim([alice])
    while store.state(locked_ghost).locked_at is None:  # a lock on a name with no account
        clock.advance(wait(store, locked_ghost, clock))
        store.claim([locked_ghost])
    clock.advance(3601)
    store.claim([store.account("newcomer", known=False)])  # a new counter prunes old ones
    assert store.state(ghost) == ThrottleState()
    assert store.state(alice).failures == 1  # a known account's failures stay
    assert store.state(locked_ghost).locked_at is not None  # a lock stays, known or not


# -- through sign-in ------------------------------------------------------------------


def sign_in(portal: Portal, username: str, password: str, source: str = SOURCE) -> object:
    return portal.sign_in.sign_in(username=username, password=password, source=source)


def fail_password(portal: Portal, username: str, times: int, source: str = SOURCE) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            sign_in(portal, username, "wrong password", source)


def test_five_failures_are_free_then_sign_in_waits(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 5)
    fail_password(portal, "alice", 1)  # the sixth is still answered, then the wait begins
    with pytest.raises(Throttled) as raised:
        sign_in(portal, "alice", "wrong password")
    assert raised.value.retry_after == 2
    assert "2 seconds" in str(raised.value)
    clock.advance(1)
    with pytest.raises(Throttled) as raised:
        sign_in(portal, "alice", "wrong password")
    assert raised.value.retry_after == 1
    assert "1 second." in str(raised.value)
    clock.advance(1)
    fail_password(portal, "alice", 1)
    with pytest.raises(Throttled) as raised:
        sign_in(portal, "alice", "wrong password")
    assert raised.value.retry_after == 4


def test_a_throttled_attempt_does_not_count_as_a_failure(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 6)
    for _ in range(10):
        with pytest.raises(Throttled):
            sign_in(portal, "alice", "wrong password")
    clock.advance(2)
    fail_password(portal, "alice", 1)
    with pytest.raises(Throttled) as raised:
        sign_in(portal, "alice", "wrong password")
    assert raised.value.retry_after == 4


def test_a_correct_password_is_refused_while_throttled(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 6)
    with pytest.raises(Throttled):
        sign_in(portal, "alice", PASSWORD)
    with pytest.raises(Throttled):
        sign_in(portal, "ALICE", PASSWORD)  # the throttle ignores letter case
    clock.advance(2)
    assert isinstance(sign_in(portal, "alice", PASSWORD), SignedIn)


def test_success_resets_the_count(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    fail_password(portal, "alice", 5)
    assert isinstance(sign_in(portal, "alice", PASSWORD), SignedIn)
    # Five more free failures.
    fail_password(portal, "alice", 5)
    assert isinstance(sign_in(portal, "alice", PASSWORD), SignedIn)
    fail_password(portal, "alice", 6)
    with pytest.raises(Throttled) as raised:
        sign_in(portal, "alice", PASSWORD)
    assert raised.value.retry_after == 2


def test_unknown_usernames_are_throttled_identically(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")

    def outcomes(username: str, source: str) -> list[tuple[str, int | None]]:
        seen: list[tuple[str, int | None]] = []
        for _ in range(9):
            try:
                sign_in(portal, username, "wrong password", source)
            except Throttled as error:
                seen.append(("Throttled", error.retry_after))
                clock.advance(error.retry_after)
            except InvalidCredentials as error:
                seen.append((str(error), None))
        return seen

    start = clock.now
    known = outcomes("alice", "ssh:198.51.100.1")
    clock.now = start
    unknown = outcomes("ghost", "ssh:198.51.100.2")
    assert known == unknown
    assert ("Throttled", 2) in known
    assert ("Throttled", 4) in known


def test_code_failures_and_password_failures_count_together(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    fail_password(portal, "alice", 3)
    step = sign_in(portal, "alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    right = code_now(secret, clock)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):  # failures 4 and 5: free
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(token=step.token, code=wrong)
    with pytest.raises(InvalidCode):  # failure 6: answered, then the wait begins
        portal.sign_in.verify_code(token=step.token, code="not a code")
    with pytest.raises(Throttled) as raised:
        portal.sign_in.verify_code(token=step.token, code=right)  # the right code must wait
    assert raised.value.retry_after == 2
    with pytest.raises(Throttled):
        sign_in(portal, "alice", PASSWORD)
    clock.advance(2)
    assert portal.sign_in.verify_code(token=step.token, code=right).account.id == alice.id
    # The complete sign-in cleared the count.
    fail_password(portal, "alice", 5)
    assert isinstance(sign_in(portal, "alice", PASSWORD), CodeRequired)


def test_the_password_step_alone_does_not_reset_the_count(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    fail_password(portal, "alice", 5)
    for _ in range(3):
        assert isinstance(sign_in(portal, "alice", PASSWORD), CodeRequired)
    step = sign_in(portal, "alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    wrong = "000000" if code_now(secret, clock) != "000000" else "111111"
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=wrong)  # the sixth failure
    with pytest.raises(Throttled):
        sign_in(portal, "alice", PASSWORD)


def test_a_wrong_confirmation_password_counts_too(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    caller = session_for(portal, "alice", secret=secret, clock=clock)
    fail_password(portal, "alice", 5)
    with pytest.raises(IncorrectPassword):  # the sixth failure
        portal.mfa.disable_own(caller, password="wrong password")
    with pytest.raises(Throttled):
        portal.mfa.disable_own(caller, password=PASSWORD)
    with pytest.raises(Throttled):
        sign_in(portal, "alice", PASSWORD)
    assert account_of(portal, alice.id).mfa_enabled


def fail_until_locked(portal: Portal, clock: ManualClock, username: str, source: str) -> int:
    """Wrong passwords, waiting out every back-off, until the name is locked."""
    failures = 0
    while True:
        try:
            sign_in(portal, username, "wrong password", source)
        except InvalidCredentials:
            failures += 1
        except Throttled as error:
            clock.advance(error.retry_after)
        except Locked:
            return failures


def test_an_account_locks_after_one_hundred_failures_and_an_operator_unlocks_it(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    failures = fail_until_locked(portal, clock, "alice", "ssh:203.0.113.9")
    assert failures == rule.LOCK_AFTER
    clock.advance(7 * 24 * 3600)  # a lock does not wear off
    with pytest.raises(Locked) as raised:
        sign_in(portal, "alice", PASSWORD, "ssh:198.51.100.3")
    assert str(raised.value) == "Locked: ask an administrator"
    events = [r.event for r in portal.audit.trail()]
    assert events.count("account_locked") == 1
    portal.accounts.unlock("alice", operator=OPERATOR)
    assert isinstance(sign_in(portal, "alice", PASSWORD, "ssh:198.51.100.3"), SignedIn)
    unlocked = [r for r in portal.audit.trail() if r.event == "account_unlocked"]
    assert [(r.actor, r.target, r.source) for r in unlocked] == [
        ("operator:test", "alice", "local:test")
    ]


def test_an_unknown_name_locks_exactly_as_a_known_one(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    start = clock.now
    known = fail_until_locked(portal, clock, "alice", "ssh:203.0.113.10")
    known_took = clock.now - start
    clock.now = start
    unknown = fail_until_locked(portal, clock, "nobody-here", "ssh:203.0.113.11")
    assert (unknown, clock.now - start) == (known, known_took)
    with pytest.raises(Locked):
        sign_in(portal, "nobody-here", "anything", "ssh:203.0.113.12")
    assert not any("nobody" in f"{r.actor} {r.target}" for r in portal.audit.trail())


def test_unlocking_needs_an_account_and_something_to_forget(portal: Portal) -> None:
    from tui_portal.errors import NotFound, NothingToChange

    create_user(portal, "alice")
    with pytest.raises(NotFound):
        portal.accounts.unlock("ghost", operator=OPERATOR)
    with pytest.raises(NothingToChange):
        portal.accounts.unlock("alice", operator=OPERATOR)


def test_one_source_cannot_try_many_accounts(portal: Portal, clock: ManualClock) -> None:
    for number in range(rule.SOURCE.free_failures + 2):
        create_user(portal, f"user{number}")
    spray = "ssh:203.0.113.66"
    for number in range(rule.SOURCE.free_failures + 1):  # each account fails once
        with pytest.raises(InvalidCredentials):
            sign_in(portal, f"user{number}", "wrong password", spray)
    last = f"user{rule.SOURCE.free_failures + 1}"
    with pytest.raises(Throttled):
        sign_in(portal, last, "wrong password", spray)
    # The same accounts from elsewhere are unaffected; the other door's address is not.
    assert isinstance(sign_in(portal, last, PASSWORD, "ssh:198.51.100.8"), SignedIn)
    with pytest.raises(Throttled):
        sign_in(portal, last, PASSWORD, "web:203.0.113.66")


def test_a_right_password_gives_the_source_its_attempt_back(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    office = "ssh:192.0.2.1"
    for _ in range(rule.SOURCE.free_failures + 30):
        assert isinstance(sign_in(portal, "alice", PASSWORD, office), SignedIn)
    assert portal.throttles.state(portal.throttles.source(office)).failures == 0


def test_enrolment_codes_are_throttled_and_audited(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(caller)
    right = code_now(enrolment.secret, clock)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(6):
        with pytest.raises(InvalidCode):
            portal.mfa.confirm_enrolment(caller, credential_id=enrolment.credential_id, code=wrong)
    with pytest.raises(Throttled):
        portal.mfa.confirm_enrolment(caller, credential_id=enrolment.credential_id, code=right)
    failed = [r for r in portal.audit.trail() if r.event == "mfa_enrolment_code_failed"]
    assert len(failed) == 6
    assert all(right not in r.detail and wrong not in r.detail for r in failed)


def test_a_failure_stamped_by_a_clock_running_ahead_imposes_no_more_than_its_back_off() -> None:
    ahead = START + timedelta(minutes=5)  # another host's clock is five minutes fast
    free = ThrottleState(
        failures=1, last_failure_at=ahead, window_started_at=ahead, window_failures=1
    )
    assert rule.wait_before_next_attempt(free, START) == timedelta(0)
    waiting = ThrottleState(
        failures=6, last_failure_at=ahead, window_started_at=ahead, window_failures=6
    )
    assert rule.wait_before_next_attempt(waiting, START) == timedelta(seconds=2)


def test_successful_sign_ins_leave_no_counters_behind(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    create_user(portal, "bob")
    for number in range(20):
        sign_in(portal, "bob", PASSWORD, f"ssh:198.51.100.{number}")
        session_for(portal, "alice", secret=secret, clock=clock, source=f"web:192.0.2.{number}")
    with portal.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM throttles").scalar() == 0


def test_a_counter_deleted_between_its_insert_and_its_lock_is_inserted_again(
    store: ThrottleStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a twin host's completed sign-in may delete the counter after this
    claim's insert found it present and before the claim locks it: the claim must still
    count, not fail."""
    alice = store.account("alice", known=True)
    store.claim([alice])
    ensure = ThrottleStore._ensure_rows
    deleted: list[bool] = []

    def ensure_then_lose_the_row(
        self: ThrottleStore, session: Session, subjects: Sequence[Subject]
    ) -> bool:
        created = ensure(self, session, subjects)
        if not deleted:
            deleted.append(True)
            session.execute(delete(Throttle).where(Throttle.subject == alice.key))
        return created

    monkeypatch.setattr(ThrottleStore, "_ensure_rows", ensure_then_lose_the_row)
    store.claim([alice])
    assert deleted and store.state(alice).failures == 1
