"""OS processes on one PostgreSQL database, as app hosts would be: a code raced by two signs
in exactly once, and eight racing one account's last allowed attempt make exactly one."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from tui_portal.data.engine import make_engine
from tui_portal.data.schema import head_revision
from tui_portal.security import totp
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import SignedIn

from ..twins import run_twins, submit_codes
from .support import OPERATOR, code_at, new_key
from .workers import open_new_database

PROCESSES = 2
ROUNDS = 6
PASSWORD = "correct horse battery"
WAIT_SECONDS = 120


def test_a_code_raced_by_two_processes_signs_in_exactly_once(
    pg_portal: Portal, clock: ManualClock, pg_url: str, key: str, tmp_path: Path
) -> None:
    pg_portal.directory.create_user("alice", PASSWORD, operator=OPERATOR)
    alice = pg_portal.sign_in.sign_in(username="alice", password=PASSWORD, source="local:test")
    assert isinstance(alice, SignedIn)
    enrolment = pg_portal.mfa.start_enrolment(alice.caller)
    pg_portal.mfa.confirm_enrolment(
        alice.caller,
        credential_id=enrolment.credential_id,
        code=code_at(enrolment.secret, clock()),
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


def test_eight_hosts_racing_one_account_get_exactly_one_check_each_time(
    pg_portal: Portal, clock: ManualClock, pg_url: str, key: str, tmp_path: Path
) -> None:
    """For passwords, codes, recovery codes, password confirmations and the hourly cap."""
    from ..throttle_race import Cast, expected, race, race_passwords
    from ..unit.support import enrolled

    hashed = race_passwords().hash(PASSWORD)
    for name in ("alice", "bob"):
        pg_portal.directory.create_user(name, PASSWORD, operator=OPERATOR)
    with pg_portal.db.write() as session:
        session.execute(text("UPDATE users SET password_hash = :h"), {"h": hashed})
    enrolled(pg_portal, clock, "alice", PASSWORD)
    cast = Cast("alice", "bob", PASSWORD)
    assert race(pg_portal, pg_url, key, str(tmp_path), cast) == expected()
    # Events written by eight processes at once still form one unbroken chain.
    report = pg_portal.audit.verify()
    assert report.intact, report


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
