"""The account lifecycle and organisation governance on PostgreSQL: recovery codes, sessions
ended from elsewhere, the sign-in notice, the MFA policy, and roles changed at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_portal.errors import InvalidRecoveryCode, PermissionDenied, SessionEnded
from tui_portal.services.results import CodeRequired, SignedIn

from ..twins import change_role, run_twins
from .support import ACME, GLOBEX, OPERATOR, SOURCE, World, code_at


def test_recovery_codes_sessions_and_the_notice(pg_world: World) -> None:
    portal, clock = pg_world.portal, pg_world.clock
    mia = pg_world.caller("mia")
    enrolment = portal.mfa.start_enrolment(mia)
    enabled = portal.mfa.confirm_enrolment(
        mia, credential_id=enrolment.credential_id, code=code_at(enrolment.secret, clock())
    )
    assert enabled.recovery_codes is not None
    codes = enabled.recovery_codes.codes
    pg_world.secrets["mia"] = enrolment.secret
    clock.advance(30)

    step = portal.sign_in.sign_in(username="mia", password=World.PASSWORDS["mia"], source="ssh:9")
    assert isinstance(step, CodeRequired)
    elsewhere = portal.sign_in.verify_recovery_code(token=step.token, code=codes[0].lower())
    step = portal.sign_in.sign_in(username="mia", password=World.PASSWORDS["mia"], source=SOURCE)
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidRecoveryCode):
        portal.sign_in.verify_recovery_code(token=step.token, code=codes[0])

    assert portal.sessions.sign_out_others(mia) == 1
    assert portal.sessions.heartbeat(elsewhere.caller, active=False).ended_reason == (
        "signed_out_elsewhere"
    )
    with pytest.raises(SessionEnded):
        portal.members.account(elsewhere.caller)

    signed = pg_world.signed_in("mia")
    assert signed.notice is not None
    assert "A recovery code was used by you, in another session (ssh:9)" in signed.notice.lines
    assert portal.audit.verify().intact


def test_the_policy_holds_a_member_to_enrolling(pg_world: World) -> None:
    portal = pg_world.portal
    portal.governance.set_mfa_policy(GLOBEX, True, operator=OPERATOR)
    signed = portal.sign_in.sign_in(
        username="bobby", password=World.PASSWORDS["bobby"], source=SOURCE
    )
    assert isinstance(signed, SignedIn)
    assert signed.account.mfa_required_by == (GLOBEX,)
    with pytest.raises(PermissionDenied, match="Enable MFA first"):
        portal.members.picker_organisations(signed.caller)
    assert portal.mfa.start_enrolment(signed.caller).uri.startswith("otpauth://")


def test_two_operators_demoting_the_two_admins_at_once_leave_one(
    pg_world: World, pg_url: str, tmp_path: Path
) -> None:
    portal = pg_world.portal
    portal.governance.set_role(ACME, "mia", "admin", operator=OPERATOR)  # ada and mia
    outcomes = run_twins(
        change_role, (pg_url, pg_world.key, str(tmp_path), ACME, ["ada", "mia"]), 2
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["InvalidInput", "demoted"], outcomes
    roles = {
        u.username: next(o.role for o in u.organisations if o.name == ACME)
        for u in portal.directory.list_users(ACME)
    }
    assert sorted(roles.values()).count("admin") == 1


def test_a_recovery_code_raced_by_two_hosts_signs_in_exactly_once(
    pg_world: World, pg_url: str, tmp_path: Path
) -> None:
    from ..twins import submit_recovery_code

    portal, clock = pg_world.portal, pg_world.clock
    mia = pg_world.caller("mia")
    enrolment = portal.mfa.start_enrolment(mia)
    enabled = portal.mfa.confirm_enrolment(
        mia, credential_id=enrolment.credential_id, code=code_at(enrolment.secret, clock())
    )
    assert enabled.recovery_codes is not None
    args = (pg_url, pg_world.key, str(tmp_path), "mia", World.PASSWORDS["mia"])
    outcomes = run_twins(submit_recovery_code, (*args, enabled.recovery_codes.codes[0]), 2)
    assert sorted(outcomes) == ["invalid recovery code", "signed in"], outcomes
