"""A representative pass of the service layer on PostgreSQL: signing in with and without MFA,
enrolling, replacing a device, disabling MFA by each role, and the refusals."""

from __future__ import annotations

import pytest

from tui_portal.errors import (
    AlreadyExists,
    EnrolmentExpired,
    IncorrectPassword,
    InvalidCode,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    Throttled,
)
from tui_portal.security import totp
from tui_portal.services.audit import Event
from tui_portal.services.results import CodeRequired, SignedIn

from .support import ACME, GLOBEX, OPERATOR, World, code_at


def sign_in_fully(world: World, username: str) -> SignedIn:
    step = world.portal.sign_in.sign_in(username, World.PASSWORDS[username])
    if isinstance(step, CodeRequired):
        return world.portal.sign_in.verify_code(step.token, world.code(username))
    return step


def events(world: World) -> list[str]:
    return [r.event for r in world.portal.audit.trail()]


def test_sign_in_without_mfa(pg_world: World) -> None:
    step = pg_world.portal.sign_in.sign_in("MIA", World.PASSWORDS["mia"])
    assert isinstance(step, SignedIn)
    account = step.account
    assert (account.username, account.mfa_enabled) == ("mia", False)
    assert [(o.name, o.role) for o in account.organisations] == [(ACME, "member")]
    assert account.last_sign_in_at == pg_world.clock()
    assert pg_world.portal.directory.account(account.id).last_sign_in_at == pg_world.clock()
    assert events(pg_world)[-1] == Event.SIGN_IN_SUCCEEDED


def test_sign_in_with_mfa_uses_each_code_once(pg_world: World) -> None:
    sign_in = pg_world.portal.sign_in
    step = sign_in.sign_in("leo", World.PASSWORDS["leo"])
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidCode):
        sign_in.verify_code(step.token, "000000" if pg_world.code("leo") != "000000" else "111111")
    signed_in = sign_in.verify_code(step.token, pg_world.code("leo"))
    assert signed_in.account.mfa_enabled
    with pytest.raises(InvalidCode):  # the token is used up
        sign_in.verify_code(step.token, pg_world.code("leo"))
    again = sign_in.sign_in("leo", World.PASSWORDS["leo"])
    assert isinstance(again, CodeRequired)
    with pytest.raises(InvalidCode):  # the same code, replayed within its window
        sign_in.verify_code(again.token, pg_world.code("leo"))
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in.verify_code(again.token, pg_world.code("leo")).account.username == "leo"
    trail = events(pg_world)
    assert trail.count(Event.MFA_CODE_REPLAYED) == 1
    assert trail.count(Event.MFA_CODE_FAILED) == 1


def test_wrong_passwords_and_unknown_names_fail_alike_and_throttle(pg_world: World) -> None:
    sign_in = pg_world.portal.sign_in
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            sign_in.sign_in("mia", "not her password")
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in("nobody-here", "whatever-password")
    with pytest.raises(InvalidCredentials):  # the sixth failure counts, then waits begin
        sign_in.sign_in("mia", "still not it")
    with pytest.raises(Throttled) as throttled:
        sign_in.sign_in("mia", World.PASSWORDS["mia"])
    assert throttled.value.retry_after == 2
    pg_world.clock.advance(2)
    assert isinstance(sign_in.sign_in("mia", World.PASSWORDS["mia"]), SignedIn)
    trail = pg_world.portal.audit.trail()
    assert [r.actor for r in trail if r.event == Event.SIGN_IN_FAILED].count("") == 1
    assert all("nobody-here" not in (r.actor + r.target + r.detail) for r in trail)


def test_enrolment_then_replacing_the_device(pg_world: World) -> None:
    mfa, mia = pg_world.portal.mfa, pg_world.ids["mia"]
    enrolment = mfa.start_enrolment(mia)
    assert not enrolment.replaces_existing
    assert enrolment.uri.startswith("otpauth://totp/")
    with pytest.raises(InvalidCode) as wrong:  # a phone three minutes slow
        mfa.confirm_enrolment(
            mia, enrolment.credential_id, code_at(enrolment.secret, pg_world.clock(), -6)
        )
    assert wrong.value.skew_seconds == -180
    assert not pg_world.portal.directory.account(mia).mfa_enabled
    mfa.confirm_enrolment(mia, enrolment.credential_id, code_at(enrolment.secret, pg_world.clock()))
    pg_world.secrets["mia"] = enrolment.secret
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled

    with pytest.raises(IncorrectPassword):
        mfa.start_enrolment(mia, "a wrong password")
    replacement = mfa.start_enrolment(mia, World.PASSWORDS["mia"])
    assert replacement.replaces_existing
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled  # the old phone still works
    mfa.confirm_enrolment(
        mia, replacement.credential_id, code_at(replacement.secret, pg_world.clock())
    )
    pg_world.secrets["mia"] = replacement.secret
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled
    assert Event.MFA_DEVICE_REPLACED in events(pg_world)


def test_a_pending_enrolment_expires(pg_world: World) -> None:
    mfa, mia = pg_world.portal.mfa, pg_world.ids["mia"]
    enrolment = mfa.start_enrolment(mia)
    pg_world.clock.advance(10 * 60)
    with pytest.raises(EnrolmentExpired):
        mfa.confirm_enrolment(
            mia, enrolment.credential_id, code_at(enrolment.secret, pg_world.clock())
        )


def test_disabling_mfa_by_self_admin_account_manager_and_operator(pg_world: World) -> None:
    mfa, ids = pg_world.portal.mfa, pg_world.ids
    acme = next(o.org_id for o in pg_world.portal.directory.account(ids["ada"]).organisations)

    assert not mfa.disable_own(ids["leo"], World.PASSWORDS["leo"]).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_for_user(
        ids["ada"], World.PASSWORDS["ada"], ids["leo"], acme
    ).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_for_user(
        ids["sam"], World.PASSWORDS["sam"], ids["leo"], acme
    ).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_by_operator("LEO", operator=OPERATOR).mfa_enabled
    assert isinstance(pg_world.portal.sign_in.sign_in("leo", World.PASSWORDS["leo"]), SignedIn)

    trail = [(r.event, r.actor, r.target, r.org) for r in pg_world.portal.audit.trail()]
    assert (Event.MFA_DISABLED_BY_SELF, "leo", "leo", "") in trail
    assert (Event.MFA_DISABLED_BY_ADMIN, "ada", "leo", ACME) in trail
    assert (Event.MFA_DISABLED_BY_ACCOUNT_MANAGER, "sam", "leo", ACME) in trail
    assert (Event.MFA_DISABLED_BY_OPERATOR, OPERATOR, "leo", "") in trail


def test_authorisation_refusals(pg_world: World) -> None:
    portal, ids = pg_world.portal, pg_world.ids
    orgs = {o.name: o.id for o in portal.directory.organisations()}
    with pytest.raises(PermissionDenied):  # a member is no admin
        portal.mfa.disable_for_user(ids["mia"], World.PASSWORDS["mia"], ids["leo"], orgs[ACME])
    with pytest.raises(PermissionDenied):  # grace is an admin of Globex, not of Acme
        portal.mfa.disable_for_user(ids["grace"], World.PASSWORDS["grace"], ids["leo"], orgs[ACME])
    with pytest.raises(PermissionDenied):  # leo is no member of Globex
        portal.mfa.disable_for_user(ids["ada"], World.PASSWORDS["ada"], ids["leo"], orgs[GLOBEX])
    with pytest.raises(IncorrectPassword):  # the admin's own password, confirmed
        portal.mfa.disable_for_user(ids["ada"], "not ada's password", ids["leo"], orgs[ACME])
    with pytest.raises(PermissionDenied):
        portal.directory.member_page(ids["mia"], orgs[ACME])
    with pytest.raises(PermissionDenied):
        portal.directory.member_page(ids["grace"], orgs[ACME])
    with pytest.raises(NotFound):
        portal.directory.member_page(ids["sam"], max(orgs.values()) + 1)
    assert portal.directory.account(ids["leo"]).mfa_enabled
    assert [o.name for o in portal.directory.manageable_organisations(ids["grace"])] == [GLOBEX]
    assert [o.name for o in portal.directory.manageable_organisations(ids["sam"])] == [
        ACME,
        GLOBEX,
    ]
    assert portal.directory.manageable_organisations(ids["mia"]) == []


def test_names_are_unique_in_any_letter_case(pg_world: World) -> None:
    directory = pg_world.portal.directory
    with pytest.raises(AlreadyExists):
        directory.create_organisation("ACME CLOUD", actor=OPERATOR)
    with pytest.raises(AlreadyExists):
        directory.create_user("Ada", "another-password", actor=OPERATOR)
    with pytest.raises(AlreadyExists):
        directory.add_member(ACME, "mia", "admin", actor=OPERATOR)
    listing = directory.list_users(ACME)
    assert [(u.username, u.mfa_enabled) for u in listing] == [
        ("ada", False),
        ("leo", True),
        ("mia", False),
    ]
