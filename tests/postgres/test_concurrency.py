"""Two OS processes on one PostgreSQL database, as two app hosts would be: a code raced by
both signs in exactly once, and failures recorded by both at once are all counted."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from tui_portal.data.engine import make_engine, make_session_factory
from tui_portal.data.schema import head_revision
from tui_portal.security import totp
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.throttling import ThrottleStore

from ..twins import run_twins, submit_codes
from .support import OPERATOR, START, code_at, new_key
from .workers import open_new_database, record_failures

PROCESSES = 2
ROUNDS = 6
FAILURES_EACH = 40
PASSWORD = "correct horse battery"
WAIT_SECONDS = 120


def test_a_code_raced_by_two_processes_signs_in_exactly_once(
    pg_portal: Portal, clock: ManualClock, pg_url: str, key: str, tmp_path: Path
) -> None:
    alice = pg_portal.directory.create_user("alice", PASSWORD, actor=OPERATOR)
    enrolment = pg_portal.mfa.start_enrolment(alice.id)
    pg_portal.mfa.confirm_enrolment(
        alice.id, enrolment.credential_id, code_at(enrolment.secret, clock())
    )
    clock.advance(totp.STEP_SECONDS)
    rounds: list[tuple[float, str]] = []
    for _ in range(ROUNDS):
        rounds.append((clock().timestamp(), code_at(enrolment.secret, clock())))
        clock.advance(totp.STEP_SECONDS)
    trail_before = len(pg_portal.audit.trail())

    outcomes: dict[int, list[str]] = {n: [] for n in range(ROUNDS)}
    for number, outcome in run_twins(
        submit_codes,
        (pg_url, key, str(tmp_path), "alice", PASSWORD, rounds),
        ROUNDS * PROCESSES,
    ):
        outcomes[number].append(outcome)
    for number in range(ROUNDS):
        assert sorted(outcomes[number]) == ["invalid code", "signed in"], (number, outcomes)

    events = [r.event for r in pg_portal.audit.trail()[trail_before:]]
    assert events.count(Event.SIGN_IN_SUCCEEDED) == ROUNDS
    assert events.count(Event.MFA_CODE_REPLAYED) == ROUNDS


def test_failures_recorded_by_two_processes_at_once_are_all_counted(
    pg_portal: Portal, pg_url: str
) -> None:
    reports = run_twins(
        record_failures, (pg_url, "mallory", START.timestamp(), FAILURES_EACH), PROCESSES
    )
    assert [recorded for recorded, _began, _ended in reports] == [FAILURES_EACH] * PROCESSES
    (_, first_began, first_ended), (_, second_began, second_ended) = reports
    assert first_began < second_ended and second_began < first_ended  # they overlapped
    state = ThrottleStore(make_session_factory(pg_portal.engine), ManualClock(START)).state(
        "mallory"
    )
    assert state.failures == PROCESSES * FAILURES_EACH
    assert state.window_failures == PROCESSES * FAILURES_EACH
    assert state.window_started_at == START


def test_hosts_opening_a_new_database_at_once_all_succeed(pg_url: str, tmp_path: Path) -> None:
    """Every host creates the schema on first use; several starting together take turns."""
    key = new_key()
    outcomes = run_twins(open_new_database, (pg_url, key, str(tmp_path)), 3, processes=3)
    assert outcomes == ["opened"] * 3
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
            assert connection.execute(text("SELECT count(*) FROM portal_meta")).scalar_one() == 1
    finally:
        engine.dispose()
