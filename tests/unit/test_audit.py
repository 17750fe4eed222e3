"""The audit trail: every kind of event with who, where and from where; append-only; chained."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.world import importable_hash
from tui_portal.errors import (
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
    Locked,
    NotFound,
    Throttled,
)
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import CodeRequired

from .support import (
    OPERATOR,
    OTHER_PASSWORD,
    PASSWORD,
    SOURCE,
    code_now,
    create_user,
    enrol,
    session_for,
)

NEW_PASSWORD = "a brand new passphrase"


def run_every_kind_of_event(portal: Portal, clock: ManualClock) -> None:
    directory, mfa, sign_in = portal.directory, portal.mfa, portal.sign_in
    directory.create_organisation("Acme", operator=OPERATOR)
    create_user(portal, "admin", orgs={"Acme": "admin"}, password=OTHER_PASSWORD)
    create_user(portal, "manager", account_manager=True, password=OTHER_PASSWORD)
    alice = create_user(portal, "alice", orgs={"Acme": "member"})
    portal.importer.import_rows(
        [
            "username,name,email,org,role,password_hash\n",
            f'ivan,Ivan,,Acme,member,"{importable_hash()}"\n',
        ],
        operator=OPERATOR,
    )
    portal.governance.set_role("Acme", "ivan", "admin", operator=OPERATOR)  # role_changed
    portal.governance.remove_member("Acme", "ivan", operator=OPERATOR)  # membership_removed
    portal.governance.set_mfa_policy("Acme", True, operator=OPERATOR)  # mfa_policy_changed
    portal.governance.set_mfa_policy("Acme", False, operator=OPERATOR)

    me = session_for(portal, "alice")  # sign_in_succeeded
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in(username="alice", password="wrong password", source=SOURCE)
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            sign_in.sign_in(username="mallet", password="wrong password", source="ssh:1")
    with pytest.raises(Throttled):  # sign_in_throttled
        sign_in.sign_in(username="mallet", password="wrong password", source="ssh:1")

    enrolment = mfa.start_enrolment(me)  # mfa_enrolment_started
    with pytest.raises(InvalidCode):  # mfa_enrolment_code_failed
        mfa.confirm_enrolment(me, credential_id=enrolment.credential_id, code="000000")
    enabled = mfa.confirm_enrolment(  # mfa_enabled, recovery_codes_generated
        me, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.recovery_codes is not None
    secret = enrolment.secret
    clock.advance(30)
    step = sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    code = code_now(secret, clock)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidCode):
        sign_in.verify_code(token=step.token, code=wrong)  # mfa_code_failed
    sign_in.verify_code(token=step.token, code=code)
    step = sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidCode):
        sign_in.verify_code(token=step.token, code=code)  # mfa_code_replayed
    sign_in.verify_recovery_code(token=step.token, code=enabled.recovery_codes.codes[0])
    mfa.regenerate_recovery_codes(me, password=PASSWORD)  # recovery_codes_generated

    with pytest.raises(IncorrectPassword):
        mfa.disable_own(me, password="wrong password")  # password_confirm_failed
    replacement = mfa.start_enrolment(me, password=PASSWORD)
    clock.advance(30)
    mfa.confirm_enrolment(  # mfa_device_replaced
        me, credential_id=replacement.credential_id, code=code_now(replacement.secret, clock)
    )
    mfa.disable_own(me, password=PASSWORD)  # mfa_disabled_by_self, sessions_revoked
    acme = next(o.id for o in directory.organisations() if o.name == "Acme")
    clock.advance(30)
    enrol(portal, clock, me)
    admin = session_for(portal, "admin", password=OTHER_PASSWORD)
    mfa.disable_for_user(admin, password=OTHER_PASSWORD, target_user_id=alice.id, org_id=acme)
    me = session_for(portal, "alice")
    enrol(portal, clock, me)
    manager = session_for(portal, "manager", password=OTHER_PASSWORD)
    mfa.disable_for_user(manager, password=OTHER_PASSWORD, target_user_id=alice.id, org_id=acme)
    me = session_for(portal, "alice")
    enrol(portal, clock, me)
    mfa.disable_by_operator(username="alice", operator=OPERATOR)  # mfa_disabled_by_operator
    me = session_for(portal, "alice")
    portal.accounts.change_password(me, current=PASSWORD, new=NEW_PASSWORD)  # password_changed
    portal.accounts.set_password("alice", PASSWORD, operator=OPERATOR)  # password_set_by_operator
    while True:  # account_locked
        try:
            sign_in.sign_in(username="alice", password="wrong password", source="ssh:2")
        except InvalidCredentials:
            continue
        except Throttled as error:
            clock.advance(error.retry_after)
        except Locked:
            break
    portal.accounts.unlock("alice", operator=OPERATOR)  # account_unlocked


def test_every_kind_of_event_is_recorded_with_who_and_where(
    portal: Portal, clock: ManualClock
) -> None:
    run_every_kind_of_event(portal, clock)
    trail = portal.audit.trail()
    assert {r.event for r in trail} == {e.value for e in Event}

    def first(event: Event) -> tuple[str, str, str, str]:
        record = next(r for r in trail if r.event == event)
        return record.actor, record.target, record.org, record.source

    op, here = OPERATOR.actor, OPERATOR.source
    assert first(Event.ORGANISATION_CREATED) == (op, "", "Acme", here)
    assert first(Event.USER_CREATED) == (op, "admin", "", here)
    assert first(Event.MEMBERSHIP_CREATED) == (op, "admin", "Acme", here)
    assert first(Event.USERS_IMPORTED) == (op, "", "", here)
    assert first(Event.ROLE_CHANGED) == (op, "ivan", "Acme", here)
    assert first(Event.MEMBERSHIP_REMOVED) == (op, "ivan", "Acme", here)
    assert first(Event.MFA_POLICY_CHANGED) == (op, "", "Acme", here)
    assert first(Event.SIGN_IN_SUCCEEDED) == ("alice", "alice", "", SOURCE)
    assert first(Event.SIGN_IN_FAILED) == ("alice", "alice", "", SOURCE)
    assert first(Event.SIGN_IN_THROTTLED) == ("", "", "", "ssh:1")  # mallet has no account
    assert first(Event.MFA_ENROLMENT_STARTED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_ENROLMENT_CODE_FAILED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_ENABLED) == ("alice", "alice", "", SOURCE)
    assert first(Event.RECOVERY_CODES_GENERATED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_CODE_FAILED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_CODE_REPLAYED) == ("alice", "alice", "", SOURCE)
    assert first(Event.RECOVERY_CODE_USED) == ("alice", "alice", "", SOURCE)
    assert first(Event.PASSWORD_CONFIRM_FAILED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_DEVICE_REPLACED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_DISABLED_BY_SELF) == ("alice", "alice", "", SOURCE)
    assert first(Event.SESSIONS_REVOKED) == ("alice", "alice", "", SOURCE)
    assert first(Event.MFA_DISABLED_BY_ADMIN) == ("admin", "alice", "Acme", SOURCE)
    assert first(Event.MFA_DISABLED_BY_ACCOUNT_MANAGER) == ("manager", "alice", "Acme", SOURCE)
    assert first(Event.MFA_DISABLED_BY_OPERATOR) == (op, "alice", "", here)
    assert first(Event.PASSWORD_CHANGED) == ("alice", "alice", "", SOURCE)
    assert first(Event.PASSWORD_SET_BY_OPERATOR) == (op, "alice", "", here)
    assert first(Event.ACCOUNT_LOCKED) == ("alice", "alice", "", "ssh:2")
    assert first(Event.ACCOUNT_UNLOCKED) == (op, "alice", "", here)

    # Unknown accounts leave no name behind as actor of a failure.
    unknown = [r for r in trail if r.event == Event.SIGN_IN_FAILED and r.actor != "alice"]
    assert unknown and all(r.actor == "" and r.target == "" for r in unknown)
    assert next(r for r in trail if r.event == Event.USERS_IMPORTED).detail == (
        "1 users, 1 memberships"
    )
    # The whole trail chains.
    report = portal.audit.verify()
    assert report.intact and report.events == len(trail)


def test_the_trail_is_oldest_first_and_filters_by_organisation(
    portal: Portal, clock: ManualClock
) -> None:
    clock.advance(100)
    portal.directory.create_organisation("Later", operator=OPERATOR)
    clock.advance(-50)
    portal.directory.create_organisation("Earlier", operator=OPERATOR)
    create_user(portal, "alice", orgs={"Earlier": "member"})
    trail = portal.audit.trail()
    assert [(r.event, r.org) for r in trail] == [
        (Event.ORGANISATION_CREATED, "Earlier"),
        (Event.USER_CREATED, ""),
        (Event.MEMBERSHIP_CREATED, "Earlier"),
        (Event.ORGANISATION_CREATED, "Later"),
    ]
    assert [r.at for r in trail] == sorted(r.at for r in trail)
    assert all(r.at.utcoffset() == timedelta(0) for r in trail)
    earlier = portal.audit.trail("earlier")
    assert [(r.event, r.org) for r in earlier] == [
        (Event.ORGANISATION_CREATED, "Earlier"),
        (Event.MEMBERSHIP_CREATED, "Earlier"),
    ]
    with pytest.raises(NotFound):
        portal.audit.trail("Nowhere")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else'",
        "UPDATE audit_events SET detail = '' WHERE id = 1",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = 1",
    ],
)
def test_the_trail_is_append_only_at_the_database(portal: Portal, statement: str) -> None:
    portal.directory.create_organisation("Acme", operator=OPERATOR)
    before = portal.audit.trail()
    with pytest.raises(DBAPIError, match="append-only"), portal.engine.begin() as connection:
        connection.execute(text(statement))
    assert portal.audit.trail() == before
    # Appending still works.
    portal.directory.create_organisation("Beta", operator=OPERATOR)
    assert len(portal.audit.trail()) == len(before) + 1


def test_a_throttled_unknown_username_leaves_no_name_behind(portal: Portal) -> None:
    """People sometimes type their password as a username: unknown names are not kept."""
    typed = "Hunter2-not-a-user"
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            portal.sign_in.sign_in(username=typed, password="whatever-password", source=SOURCE)
    with pytest.raises(Throttled):
        portal.sign_in.sign_in(username=typed, password="whatever-password", source=SOURCE)
    trail = portal.audit.trail()
    assert [r.event for r in trail if r.event == Event.SIGN_IN_THROTTLED] == [
        Event.SIGN_IN_THROTTLED
    ]
    leaks = [r for r in trail if typed.lower() in f"{r.actor} {r.target} {r.detail}".lower()]
    assert leaks == []


def seed_trail(portal: Portal) -> None:
    for name in ("Acme", "Beta", "Gamma"):
        portal.directory.create_organisation(name, operator=OPERATOR)


def test_replace_into_cannot_rewrite_the_trail(portal: Portal) -> None:
    seed_trail(portal)
    before = portal.audit.trail()
    with pytest.raises(DBAPIError, match="append-only"), portal.engine.begin() as connection:
        connection.execute(
            text(
                "REPLACE INTO audit_events SELECT id, seq, at, event, 'forger', target, "
                "target_user_id, org, source, session_id, detail, prev_hash, hash "
                "FROM audit_events"
            )
        )
    assert portal.audit.trail() == before
    assert portal.audit.verify().intact


def attacker(db_path: Path, *statements: str) -> None:
    """Someone with write access to the file: drops the guards and edits rows directly."""
    with sqlite3.connect(db_path) as connection:
        for trigger in ("audit_events_no_update", "audit_events_no_delete"):
            connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            connection.execute(statement)


def test_verify_names_an_edited_event(portal: Portal, db_path: Path) -> None:
    seed_trail(portal)
    assert portal.audit.verify().intact
    attacker(db_path, "UPDATE audit_events SET actor = 'operator:nobody' WHERE seq = 2")
    report = portal.audit.verify()
    assert (report.broken_at, report.events) == (2, 1)
    assert "do not match" in report.problem


def test_verify_names_a_removed_event(portal: Portal, db_path: Path) -> None:
    seed_trail(portal)
    attacker(db_path, "DELETE FROM audit_events WHERE seq = 2")
    report = portal.audit.verify()
    assert report.broken_at == 3
    assert "expected event number 2" in report.problem


def test_verify_names_a_forged_back_dated_event(portal: Portal, db_path: Path) -> None:
    seed_trail(portal)
    last = portal.audit.verify().last_hash
    attacker(
        db_path,
        "INSERT INTO audit_events (seq, at, event, actor, target, org, source, session_id, "
        "detail, prev_hash, hash) VALUES (4, '2020-01-01 00:00:00.000000', "
        f"'mfa_disabled_by_operator', 'operator:root', 'alice', '', 'local:root', '', '', "
        f"'{last}', '{'f' * 64}')",
    )
    report = portal.audit.verify()
    assert (report.broken_at, report.events) == (4, 3)


def test_a_forger_cannot_recompute_the_chain_without_the_key(portal: Portal, db_path: Path) -> None:
    """An unkeyed SHA-256 over the same fields would verify; the keyed hash does not."""
    import hashlib
    import json

    seed_trail(portal)
    prev = portal.audit.verify().last_hash
    fields = [prev, 4, "2026-01-01T00:00:00.000000Z", "user_created", "operator:x", "x", None]
    fields += ["", "local:x", "", ""]
    forged = hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()
    attacker(
        db_path,
        "INSERT INTO audit_events (seq, at, event, actor, target, org, source, session_id, "
        "detail, prev_hash, hash) VALUES (4, '2026-01-01 00:00:00.000000', 'user_created', "
        f"'operator:x', 'x', '', 'local:x', '', '', '{prev}', '{forged}')",
    )
    assert portal.audit.verify().broken_at == 4
