"""Organisations that govern their members: the MFA policy, membership and roles."""

from __future__ import annotations

import pytest

from tui_portal.errors import (
    IncorrectPassword,
    InvalidInput,
    MfaRequiredByPolicy,
    NotFound,
    NothingToChange,
    PermissionDenied,
)
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import SignedIn

from .support import (
    OPERATOR,
    OTHER_PASSWORD,
    PASSWORD,
    SOURCE,
    create_user,
    enrol,
    enrolled,
    session_for,
)


def org_id(portal: Portal, name: str) -> int:
    return next(o.id for o in portal.directory.organisations() if o.name == name)


def policy(portal: Portal, name: str) -> bool:
    return next(o.mfa_required for o in portal.directory.organisations() if o.name == name)


@pytest.fixture
def orgs(portal: Portal) -> None:
    create_user(portal, "ada", orgs={"Acme": "admin", "Beta": "member"}, password=OTHER_PASSWORD)
    create_user(portal, "carol", orgs={"Beta": "admin"})
    create_user(portal, "mia", orgs={"Acme": "member"})
    create_user(portal, "gus", orgs={"Acme": "member", "Beta": "member"})
    create_user(portal, "sam", account_manager=True)


# -- the MFA policy -------------------------------------------------------------------


@pytest.mark.usefixtures("orgs")
def test_an_admin_requires_mfa_after_their_password(portal: Portal) -> None:
    ada = session_for(portal, "ada", password=OTHER_PASSWORD)
    acme = org_id(portal, "Acme")
    with pytest.raises(IncorrectPassword):
        portal.governance.set_mfa_policy_for(ada, org_id=acme, required=True, password=PASSWORD)
    assert not policy(portal, "Acme")
    portal.governance.set_mfa_policy_for(ada, org_id=acme, required=True, password=OTHER_PASSWORD)
    assert policy(portal, "Acme")
    changed = [r for r in portal.audit.trail() if r.event == "mfa_policy_changed"]
    assert [(r.actor, r.org, r.detail, r.source) for r in changed] == [
        ("ada", "Acme", "MFA required", SOURCE)
    ]
    with pytest.raises(NothingToChange):
        portal.governance.set_mfa_policy_for(
            ada, org_id=acme, required=True, password=OTHER_PASSWORD
        )


@pytest.mark.usefixtures("orgs")
def test_only_admins_of_the_organisation_and_account_managers_set_its_policy(
    portal: Portal, clock: ManualClock
) -> None:
    beta = org_id(portal, "Beta")
    ada = session_for(portal, "ada", password=OTHER_PASSWORD)  # a member of Beta, no admin
    with pytest.raises(PermissionDenied):
        portal.governance.set_mfa_policy_for(
            ada, org_id=beta, required=True, password=OTHER_PASSWORD
        )
    mia = session_for(portal, "mia")
    with pytest.raises(PermissionDenied):
        portal.governance.set_mfa_policy_for(
            mia, org_id=org_id(portal, "Acme"), required=True, password=PASSWORD
        )
    # Refused before the password was ever checked.
    assert not [r for r in portal.audit.trail() if r.event == "password_confirm_failed"]
    sam = session_for(portal, "sam")
    portal.governance.set_mfa_policy_for(sam, org_id=beta, required=True, password=PASSWORD)
    assert policy(portal, "Beta")
    # Beta's own admin, without MFA, must enrol before anything else, policy included.
    carol = session_for(portal, "carol")
    with pytest.raises(PermissionDenied, match="Enable MFA first"):
        portal.governance.set_mfa_policy_for(carol, org_id=beta, required=False, password=PASSWORD)
    enrol(portal, clock, carol)
    portal.governance.set_mfa_policy_for(carol, org_id=beta, required=False, password=PASSWORD)
    assert not policy(portal, "Beta")


@pytest.mark.usefixtures("orgs")
def test_a_member_without_mfa_must_enrol_and_may_do_nothing_else(
    portal: Portal, clock: ManualClock
) -> None:
    portal.governance.set_mfa_policy("Acme", True, operator=OPERATOR)
    signed = portal.sign_in.sign_in(username="mia", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn)
    assert signed.account.mfa_required_by == ("Acme",)
    mia = signed.caller
    for refused in (
        lambda: portal.members.picker_organisations(mia),
        lambda: portal.accounts.change_password(mia, current=PASSWORD, new="another good one"),
        lambda: portal.members.member_page(mia, org_id=org_id(portal, "Acme")),
        lambda: portal.mfa.regenerate_recovery_codes(mia, password=PASSWORD),
    ):
        with pytest.raises(PermissionDenied, match="Enable MFA first"):
            refused()
    # What enrolling needs still works: the account, and enrolment itself.
    assert portal.members.account(mia).username == "mia"
    enrol(portal, clock, mia)
    assert portal.members.picker_organisations(mia)  # no longer held to enrolling
    assert portal.members.account(mia).mfa_required_by == ()


@pytest.mark.usefixtures("orgs")
def test_a_member_of_two_organisations_is_held_to_the_stricter(portal: Portal) -> None:
    portal.governance.set_mfa_policy("Beta", True, operator=OPERATOR)
    signed = portal.sign_in.sign_in(username="gus", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn)
    assert signed.account.mfa_required_by == ("Beta",)
    with pytest.raises(PermissionDenied):
        portal.members.picker_organisations(signed.caller)
    # Someone in Acme only is not held to Beta's policy.
    mia = portal.sign_in.sign_in(username="mia", password=PASSWORD, source=SOURCE)
    assert isinstance(mia, SignedIn) and mia.account.mfa_required_by == ()


@pytest.mark.usefixtures("orgs")
def test_a_reset_under_a_policy_means_enrolling_again_at_the_next_sign_in(
    portal: Portal, clock: ManualClock
) -> None:
    portal.governance.set_mfa_policy("Acme", True, operator=OPERATOR)
    first = portal.sign_in.sign_in(username="mia", password=PASSWORD, source=SOURCE)
    assert isinstance(first, SignedIn)
    enrol(portal, clock, first.caller)
    portal.mfa.disable_by_operator(username="mia", operator=OPERATOR)
    again = portal.sign_in.sign_in(username="mia", password=PASSWORD, source=SOURCE)
    assert isinstance(again, SignedIn)
    assert again.account.mfa_required_by == ("Acme",)


@pytest.mark.usefixtures("orgs")
def test_a_member_cannot_turn_off_the_mfa_an_organisation_requires(
    portal: Portal, clock: ManualClock
) -> None:
    secret = enrolled(portal, clock, "gus")  # in Acme and Beta
    portal.governance.set_mfa_policy("Beta", True, operator=OPERATOR)
    gus = session_for(portal, "gus", secret=secret, clock=clock)
    counter = portal.throttles.account("gus", known=True)
    before = portal.throttles.state(counter)
    with pytest.raises(MfaRequiredByPolicy) as refused:
        portal.mfa.disable_own(gus, password=PASSWORD)
    assert refused.value.organisations == ("Beta",)
    assert str(refused.value).startswith("Beta requires MFA, so it cannot be disabled.")
    assert portal.members.account(gus).mfa_enabled  # nothing changed
    assert portal.throttles.state(counter) == before  # refused before the password counted
    assert "mfa_disabled_by_self" not in [r.event for r in portal.audit.trail()]
    # The recovery path stays open: an admin of every organisation of gus's, or staff.
    sam = session_for(portal, "sam")
    portal.mfa.disable_for_user(
        sam, password=PASSWORD, target_user_id=gus.user_id, org_id=org_id(portal, "Beta")
    )
    assert not portal.members.account(session_for(portal, "gus")).mfa_enabled


@pytest.mark.usefixtures("orgs")
def test_without_the_policy_a_member_turns_their_own_mfa_off(
    portal: Portal, clock: ManualClock
) -> None:
    secret = enrolled(portal, clock, "mia")
    portal.governance.set_mfa_policy("Beta", True, operator=OPERATOR)  # not mia's
    mia = session_for(portal, "mia", secret=secret, clock=clock)
    assert not portal.mfa.disable_own(mia, password=PASSWORD).mfa_enabled


@pytest.mark.usefixtures("orgs")
def test_the_summary_counts_members_without_mfa(portal: Portal, clock: ManualClock) -> None:
    ada = session_for(portal, "ada", password=OTHER_PASSWORD)
    acme = org_id(portal, "Acme")
    summary = portal.members.summary(ada, org_id=acme)
    assert (summary.name, summary.members, summary.without_mfa) == ("Acme", 3, 3)
    mia = session_for(portal, "mia")
    enrol(portal, clock, mia)
    assert portal.members.summary(ada, org_id=acme).without_mfa == 2
    page = portal.members.member_page(ada, org_id=acme, only_without_mfa=True)
    assert [r.username for r in page.rows] == ["ada", "gus"]
    with pytest.raises(PermissionDenied):
        portal.members.summary(mia, org_id=acme)


# -- membership and roles -------------------------------------------------------------


@pytest.mark.usefixtures("orgs")
def test_removing_a_member_is_audited_and_their_session_follows(portal: Portal) -> None:
    gus = session_for(portal, "gus")
    before = portal.sessions.heartbeat(gus, active=False).revision
    portal.governance.remove_member("Beta", "GUS", operator=OPERATOR)
    assert portal.sessions.heartbeat(gus, active=False).revision > before
    assert [o.name for o in portal.members.picker_organisations(gus)] == ["Acme"]
    removed = [r for r in portal.audit.trail() if r.event == "membership_removed"]
    assert [(r.actor, r.target, r.org, r.detail) for r in removed] == [
        ("operator:test", "gus", "Beta", "was member")
    ]


@pytest.mark.usefixtures("orgs")
def test_an_admin_who_loses_the_role_is_refused_at_the_next_action(portal: Portal) -> None:
    create_user(portal, "bea", orgs={"Acme": "admin"})
    ada = session_for(portal, "ada", password=OTHER_PASSWORD)
    acme = org_id(portal, "Acme")
    assert portal.members.member_page(ada, org_id=acme).total == 4
    portal.governance.set_role("Acme", "ada", "member", operator=OPERATOR)
    with pytest.raises(PermissionDenied):
        portal.members.member_page(ada, org_id=acme)
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(
            ada, password=OTHER_PASSWORD, target_user_id=ada.user_id + 2, org_id=acme
        )
    changed = [r for r in portal.audit.trail() if r.event == "role_changed"]
    assert [(r.target, r.org, r.detail) for r in changed] == [("ada", "Acme", "admin to member")]


@pytest.mark.usefixtures("orgs")
def test_the_last_admin_stays(portal: Portal) -> None:
    with pytest.raises(InvalidInput, match="last admin"):
        portal.governance.remove_member("Beta", "carol", operator=OPERATOR)
    with pytest.raises(InvalidInput, match="last admin"):
        portal.governance.set_role("Beta", "carol", "member", operator=OPERATOR)
    with pytest.raises(NothingToChange):
        portal.governance.set_role("Beta", "carol", "admin", operator=OPERATOR)
    with pytest.raises(NotFound):
        portal.governance.remove_member("Beta", "mia", operator=OPERATOR)
    with pytest.raises(InvalidInput):
        portal.governance.set_role("Beta", "gus", "owner", operator=OPERATOR)
    # Members who are not admins may always go; an organisation may have no members left
    # but its admin.
    portal.governance.remove_member("Beta", "gus", operator=OPERATOR)
    portal.governance.remove_member("Beta", "ada", operator=OPERATOR)
    names = [u.username for u in portal.directory.list_users("Beta")]
    assert names == ["carol"]
