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

from .support import ACME, GLOBEX, OPERATOR, SOURCE, World, code_at


def sign_in_fully(world: World, username: str) -> SignedIn:
    return world.signed_in(username)


def sign_in(world: World, username: str, password: str) -> object:
    return world.portal.sign_in.sign_in(username=username, password=password, source=SOURCE)


def events(world: World) -> list[str]:
    return [r.event for r in world.portal.audit.trail()]


def test_sign_in_without_mfa(pg_world: World) -> None:
    step = pg_world.portal.sign_in.sign_in(
        username="MIA", password=World.PASSWORDS["mia"], source=SOURCE
    )
    assert isinstance(step, SignedIn)
    account = step.account
    assert (account.username, account.mfa_enabled) == ("mia", False)
    assert [(o.name, o.role) for o in account.organisations] == [(ACME, "member")]
    assert account.last_sign_in_at == pg_world.clock()
    assert pg_world.account("mia").last_sign_in_at == pg_world.clock()
    assert events(pg_world)[-1] == Event.SIGN_IN_SUCCEEDED


def test_sign_in_with_mfa_uses_each_code_once(pg_world: World) -> None:
    sign_in = pg_world.portal.sign_in
    step = sign_in.sign_in(username="leo", password=World.PASSWORDS["leo"], source=SOURCE)
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidCode):
        sign_in.verify_code(
            token=step.token, code="000000" if pg_world.code("leo") != "000000" else "111111"
        )
    signed_in = sign_in.verify_code(token=step.token, code=pg_world.code("leo"))
    assert signed_in.account.mfa_enabled
    with pytest.raises(InvalidCode):  # the token is used up
        sign_in.verify_code(token=step.token, code=pg_world.code("leo"))
    again = sign_in.sign_in(username="leo", password=World.PASSWORDS["leo"], source=SOURCE)
    assert isinstance(again, CodeRequired)
    with pytest.raises(InvalidCode):  # the same code, replayed within its window
        sign_in.verify_code(token=again.token, code=pg_world.code("leo"))
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert (
        sign_in.verify_code(token=again.token, code=pg_world.code("leo")).account.username == "leo"
    )
    trail = events(pg_world)
    assert trail.count(Event.MFA_CODE_REPLAYED) == 1
    assert trail.count(Event.MFA_CODE_FAILED) == 1


def test_wrong_passwords_and_unknown_names_fail_alike_and_throttle(pg_world: World) -> None:
    sign_in = pg_world.portal.sign_in
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            sign_in.sign_in(username="mia", password="not her password", source=SOURCE)
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in(username="nobody-here", password="whatever-password", source=SOURCE)
    with pytest.raises(InvalidCredentials):  # the sixth failure counts, then waits begin
        sign_in.sign_in(username="mia", password="still not it", source=SOURCE)
    with pytest.raises(Throttled) as throttled:
        sign_in.sign_in(username="mia", password=World.PASSWORDS["mia"], source=SOURCE)
    assert throttled.value.retry_after == 2
    pg_world.clock.advance(2)
    assert isinstance(
        sign_in.sign_in(username="mia", password=World.PASSWORDS["mia"], source=SOURCE), SignedIn
    )
    trail = pg_world.portal.audit.trail()
    assert [r.actor for r in trail if r.event == Event.SIGN_IN_FAILED].count("") == 1
    assert all("nobody-here" not in (r.actor + r.target + r.detail) for r in trail)


def test_enrolment_then_replacing_the_device(pg_world: World) -> None:
    mfa = pg_world.portal.mfa
    mia = pg_world.caller("mia")
    enrolment = mfa.start_enrolment(mia)
    assert not enrolment.replaces_existing
    assert enrolment.uri.startswith("otpauth://totp/")
    with pytest.raises(InvalidCode) as wrong:  # a phone three minutes slow
        mfa.confirm_enrolment(
            mia,
            credential_id=enrolment.credential_id,
            code=code_at(enrolment.secret, pg_world.clock(), -6),
        )
    assert wrong.value.skew_seconds == -180
    assert not pg_world.account("mia").mfa_enabled
    enabled = mfa.confirm_enrolment(
        mia, credential_id=enrolment.credential_id, code=code_at(enrolment.secret, pg_world.clock())
    )
    assert enabled.recovery_codes is not None
    pg_world.secrets["mia"] = enrolment.secret
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled

    with pytest.raises(IncorrectPassword):
        mfa.start_enrolment(mia, password="a wrong password")
    replacement = mfa.start_enrolment(mia, password=World.PASSWORDS["mia"])
    assert replacement.replaces_existing
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled  # the old phone still works
    mfa.confirm_enrolment(
        mia,
        credential_id=replacement.credential_id,
        code=code_at(replacement.secret, pg_world.clock()),
    )
    pg_world.secrets["mia"] = replacement.secret
    pg_world.clock.advance(totp.STEP_SECONDS)
    assert sign_in_fully(pg_world, "mia").account.mfa_enabled
    assert Event.MFA_DEVICE_REPLACED in events(pg_world)


def test_a_pending_enrolment_expires(pg_world: World) -> None:
    mfa, mia = pg_world.portal.mfa, pg_world.caller("mia")
    enrolment = mfa.start_enrolment(mia)
    pg_world.clock.advance(10 * 60)
    with pytest.raises(EnrolmentExpired):
        mfa.confirm_enrolment(
            mia,
            credential_id=enrolment.credential_id,
            code=code_at(enrolment.secret, pg_world.clock()),
        )


def test_disabling_mfa_by_self_admin_account_manager_and_operator(pg_world: World) -> None:
    mfa, ids = pg_world.portal.mfa, pg_world.ids
    acme = next(o.org_id for o in pg_world.account("ada").organisations if o.name == ACME)

    leo = pg_world.caller("leo")
    assert not mfa.disable_own(leo, password=World.PASSWORDS["leo"]).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_for_user(
        pg_world.caller("ada"),
        password=World.PASSWORDS["ada"],
        target_user_id=ids["leo"],
        org_id=acme,
    ).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_for_user(
        pg_world.caller("sam"),
        password=World.PASSWORDS["sam"],
        target_user_id=ids["leo"],
        org_id=acme,
    ).mfa_enabled
    pg_world.enrol("leo")
    assert not mfa.disable_by_operator(username="LEO", operator=OPERATOR).mfa_enabled
    assert isinstance(sign_in(pg_world, "leo", World.PASSWORDS["leo"]), SignedIn)

    trail = [(r.event, r.actor, r.target, r.org) for r in pg_world.portal.audit.trail()]
    assert (Event.MFA_DISABLED_BY_SELF, "leo", "leo", "") in trail
    assert (Event.MFA_DISABLED_BY_ADMIN, "ada", "leo", ACME) in trail
    assert (Event.MFA_DISABLED_BY_ACCOUNT_MANAGER, "sam", "leo", ACME) in trail
    assert (Event.MFA_DISABLED_BY_OPERATOR, OPERATOR.actor, "leo", "") in trail
    assert pg_world.portal.audit.verify().intact


def test_authorisation_refusals(pg_world: World) -> None:
    portal, ids = pg_world.portal, pg_world.ids
    orgs = {o.name: o.id for o in portal.directory.organisations()}

    def reset(actor: str, password: str, org: str) -> None:
        portal.mfa.disable_for_user(
            pg_world.caller(actor), password=password, target_user_id=ids["leo"], org_id=orgs[org]
        )

    with pytest.raises(PermissionDenied):  # a member is no admin
        reset("mia", World.PASSWORDS["mia"], ACME)
    with pytest.raises(PermissionDenied):  # grace is an admin of Globex, not of Acme
        reset("grace", World.PASSWORDS["grace"], ACME)
    with pytest.raises(PermissionDenied):  # leo is no member of Globex
        reset("ada", World.PASSWORDS["ada"], GLOBEX)
    with pytest.raises(IncorrectPassword):  # the admin's own password, confirmed
        reset("ada", "not ada's password", ACME)
    members = portal.members
    with pytest.raises(PermissionDenied):
        members.member_page(pg_world.caller("mia"), org_id=orgs[ACME])
    with pytest.raises(PermissionDenied):
        members.member_page(pg_world.caller("grace"), org_id=orgs[ACME])
    with pytest.raises(NotFound):
        members.member_page(pg_world.caller("sam"), org_id=max(orgs.values()) + 1)
    assert pg_world.account("leo").mfa_enabled
    assert [o.name for o in members.manageable_organisations(pg_world.caller("grace"))] == [GLOBEX]
    assert [o.name for o in members.manageable_organisations(pg_world.caller("sam"))] == [
        ACME,
        GLOBEX,
    ]
    assert members.manageable_organisations(pg_world.caller("mia")) == []


def test_names_are_unique_in_any_letter_case(pg_world: World) -> None:
    directory = pg_world.portal.directory
    with pytest.raises(AlreadyExists):
        directory.create_organisation("ACME CLOUD", operator=OPERATOR)
    with pytest.raises(AlreadyExists):
        directory.create_user("Ada", "another good password", operator=OPERATOR)
    with pytest.raises(AlreadyExists):
        directory.add_member(ACME, "mia", "admin", operator=OPERATOR)
    listing = directory.list_users(ACME)
    assert [(u.username, u.mfa_enabled) for u in listing] == [
        ("ada", False),
        ("leo", True),
        ("mia", False),
    ]
