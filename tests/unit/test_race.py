"""Two OS processes submit the same valid code at the same moment: exactly one signs in."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from sqlalchemy import text

from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal

from ..twins import run_twins, submit_codes
from .race_worker import open_when_ready
from .support import PASSWORD, code_now, create_user, enrolled, new_key

ROUNDS = 6
PROCESSES = 2


def test_a_code_raced_by_two_processes_signs_in_exactly_once(
    portal: Portal, clock: ManualClock, db_path: Path, key: str
) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    rounds: list[tuple[float, str]] = []
    for _ in range(ROUNDS):
        rounds.append((clock.now.timestamp(), code_now(secret, clock)))
        clock.advance(30)
    trail_before = len(portal.audit.trail())

    outcomes: dict[int, list[str]] = {n: [] for n in range(ROUNDS)}
    for number, outcome in run_twins(
        submit_codes,
        (f"sqlite:///{db_path}", key, str(db_path.parent), "alice", PASSWORD, rounds),
        ROUNDS * PROCESSES,
        PROCESSES,
    ):
        outcomes[number].append(outcome)
    for number in range(ROUNDS):
        assert sorted(outcomes[number]) == ["invalid code", "signed in"], (number, outcomes)

    events = [r.event for r in portal.audit.trail()[trail_before:]]
    assert events.count(Event.SIGN_IN_SUCCEEDED) == ROUNDS
    assert events.count(Event.MFA_CODE_REPLAYED) == ROUNDS


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    # Every command creates or upgrades the schema on first use; several may start at once.
    db_paths = [str(tmp_path / f"new-{attempt}.db") for attempt in range(4)]
    key = new_key()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES + 1)
    results = context.Queue()
    workers = [
        context.Process(target=open_when_ready, args=(db_paths, key, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        open_when_ready(db_paths, key, barrier, results)  # this process opens them too
        outcomes = [results.get(timeout=120) for _ in range(len(db_paths) * (PROCESSES + 1))]
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    assert sorted(outcomes) == sorted((path, "opened") for path in db_paths * (PROCESSES + 1))
    for path in db_paths:
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600


def test_eight_processes_racing_one_account_get_exactly_one_check_each_time(
    portal: Portal, clock: ManualClock, db_path: Path, key: str
) -> None:
    """For passwords, codes, recovery codes, password confirmations and the hourly cap."""
    from ..throttle_race import Cast, expected, race, race_passwords

    hashed = race_passwords().hash(PASSWORD)
    create_user(portal, "alice")
    create_user(portal, "bob")
    with portal.db.write() as session:  # the racers' dearer hash, so a check takes a while
        session.execute(text("UPDATE users SET password_hash = :h"), {"h": hashed})
    enrolled(portal, clock, "alice")
    outcomes = race(
        portal, f"sqlite:///{db_path}", key, str(db_path.parent), Cast("alice", "bob", PASSWORD)
    )
    assert outcomes == expected()
    # Events written by eight processes at once still form one unbroken chain.
    report = portal.audit.verify()
    assert report.intact, report


def test_two_operators_demoting_the_two_admins_at_once_leave_one(
    portal: Portal, db_path: Path, key: str
) -> None:
    from ..twins import change_role

    create_user(portal, "alice", orgs={"Acme": "admin"})
    create_user(portal, "bob", orgs={"Acme": "admin"})
    outcomes = run_twins(
        change_role,
        (f"sqlite:///{db_path}", key, str(db_path.parent), "Acme", ["alice", "bob"]),
        2,
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["InvalidInput", "demoted"], outcomes
    admins = [
        u.username
        for u in portal.directory.list_users("Acme")
        if any(o.role == "admin" for o in u.organisations if o.name == "Acme")
    ]
    assert len(admins) == 1


def test_a_recovery_code_raced_by_two_processes_signs_in_exactly_once(
    portal: Portal, clock: ManualClock, db_path: Path, key: str
) -> None:
    from ..twins import submit_recovery_code
    from .support import session_for

    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(caller)
    enabled = portal.mfa.confirm_enrolment(
        caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.recovery_codes is not None
    code = enabled.recovery_codes.codes[0]
    url, folder = f"sqlite:///{db_path}", str(db_path.parent)
    outcomes = run_twins(submit_recovery_code, (url, key, folder, "alice", PASSWORD, code), 2)
    assert sorted(outcomes) == ["invalid recovery code", "signed in"], outcomes
