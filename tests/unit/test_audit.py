"""The audit trail: every kind of event with its actor, target and organisation; append-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tui_portal.errors import (
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
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
    code_now,
    create_user,
    enrol,
)


def run_every_kind_of_event(portal: Portal, clock: ManualClock) -> None:
    directory, mfa, sign_in = portal.directory, portal.mfa, portal.sign_in
    directory.create_organisation("Acme", actor=OPERATOR)
    admin = create_user(portal, "admin", orgs={"Acme": "admin"}, password=OTHER_PASSWORD)
    manager = create_user(portal, "manager", account_manager=True, password=OTHER_PASSWORD)
    alice = create_user(portal, "alice", orgs={"Acme": "member"})
    hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("imported pass")
    portal.importer.import_rows(
        ["username,name,email,org,role,password_hash\n", f'ivan,Ivan,,Acme,member,"{hashed}"\n'],
        actor=OPERATOR,
    )

    assert sign_in.sign_in("alice", PASSWORD)  # sign_in_succeeded
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in("alice", "wrong password")  # sign_in_failed
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            sign_in.sign_in("mallet", "wrong password")
    with pytest.raises(Throttled):
        sign_in.sign_in("mallet", "wrong password")  # sign_in_throttled

    secret = enrol(portal, clock, alice.id)  # mfa_enrolment_started, mfa_enabled
    step = sign_in.sign_in("alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    code = code_now(secret, clock)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidCode):
        sign_in.verify_code(step.token, wrong)  # mfa_code_failed
    sign_in.verify_code(step.token, code)
    step = sign_in.sign_in("alice", PASSWORD)
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidCode):
        sign_in.verify_code(step.token, code)  # mfa_code_replayed

    with pytest.raises(IncorrectPassword):
        mfa.disable_own(alice.id, "wrong password")  # password_confirm_failed
    replacement = mfa.start_enrolment(alice.id, PASSWORD)
    clock.advance(30)
    mfa.confirm_enrolment(
        alice.id, replacement.credential_id, code_now(replacement.secret, clock)
    )  # mfa_device_replaced
    mfa.disable_own(alice.id, PASSWORD)  # mfa_disabled_by_self
    acme = next(o.id for o in directory.organisations() if o.name == "Acme")
    clock.advance(30)
    enrol(portal, clock, alice.id)
    mfa.disable_for_user(admin.id, OTHER_PASSWORD, alice.id, acme)  # mfa_disabled_by_admin
    enrol(portal, clock, alice.id)
    mfa.disable_for_user(manager.id, OTHER_PASSWORD, alice.id, acme)  # by_account_manager
    enrol(portal, clock, alice.id)
    mfa.disable_by_operator("alice", operator=OPERATOR)  # mfa_disabled_by_operator


def test_every_kind_of_event_is_recorded_with_who_and_where(
    portal: Portal, clock: ManualClock
) -> None:
    run_every_kind_of_event(portal, clock)
    trail = portal.audit.trail()
    assert {r.event for r in trail} == {e.value for e in Event}

    def first(event: Event) -> tuple[str, str, str]:
        record = next(r for r in trail if r.event == event)
        return record.actor, record.target, record.org

    assert first(Event.ORGANISATION_CREATED) == (OPERATOR, "", "Acme")
    assert first(Event.USER_CREATED) == (OPERATOR, "admin", "")
    assert first(Event.MEMBERSHIP_CREATED) == (OPERATOR, "admin", "Acme")
    assert first(Event.USERS_IMPORTED) == (OPERATOR, "", "")
    assert first(Event.SIGN_IN_SUCCEEDED) == ("alice", "alice", "")
    assert first(Event.SIGN_IN_FAILED) == ("alice", "alice", "")
    assert first(Event.SIGN_IN_THROTTLED) == ("", "", "")  # mallet has no account
    assert first(Event.MFA_ENROLMENT_STARTED) == ("alice", "alice", "")
    assert first(Event.MFA_ENABLED) == ("alice", "alice", "")
    assert first(Event.MFA_CODE_FAILED) == ("alice", "alice", "")
    assert first(Event.MFA_CODE_REPLAYED) == ("alice", "alice", "")
    assert first(Event.PASSWORD_CONFIRM_FAILED) == ("alice", "alice", "")
    assert first(Event.MFA_DEVICE_REPLACED) == ("alice", "alice", "")
    assert first(Event.MFA_DISABLED_BY_SELF) == ("alice", "alice", "")
    assert first(Event.MFA_DISABLED_BY_ADMIN) == ("admin", "alice", "Acme")
    assert first(Event.MFA_DISABLED_BY_ACCOUNT_MANAGER) == ("manager", "alice", "Acme")
    assert first(Event.MFA_DISABLED_BY_OPERATOR) == (OPERATOR, "alice", "")

    # Unknown accounts leave no name behind as actor of a failure.
    unknown = [r for r in trail if r.event == Event.SIGN_IN_FAILED and r.actor != "alice"]
    assert unknown and all(r.actor == "" and r.target == "" for r in unknown)
    assert next(r for r in trail if r.event == Event.USERS_IMPORTED).detail == (
        "1 users, 1 memberships"
    )


def test_the_trail_is_oldest_first_and_filters_by_organisation(
    portal: Portal, clock: ManualClock
) -> None:
    clock.advance(100)
    portal.directory.create_organisation("Later", actor=OPERATOR)
    clock.advance(-50)
    portal.directory.create_organisation("Earlier", actor=OPERATOR)
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
    portal.directory.create_organisation("Acme", actor=OPERATOR)
    before = portal.audit.trail()
    with pytest.raises(DBAPIError, match="append-only"), portal.engine.begin() as connection:
        connection.execute(text(statement))
    assert portal.audit.trail() == before
    # Appending still works.
    portal.directory.create_organisation("Beta", actor=OPERATOR)
    assert len(portal.audit.trail()) == len(before) + 1


def test_a_throttled_unknown_username_leaves_no_name_behind(portal: Portal) -> None:
    """People sometimes type their password as a username: unknown names are not kept."""
    typed = "Hunter2-not-a-user"
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            portal.sign_in.sign_in(typed, "whatever-password")
    with pytest.raises(Throttled):
        portal.sign_in.sign_in(typed, "whatever-password")
    trail = portal.audit.trail()
    assert [r.event for r in trail if r.event == Event.SIGN_IN_THROTTLED] == [
        Event.SIGN_IN_THROTTLED
    ]
    leaks = [r for r in trail if typed.lower() in f"{r.actor} {r.target} {r.detail}".lower()]
    assert leaks == []
