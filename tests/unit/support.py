"""Helpers shared by the unit tests: cheap hashing, settings on a temporary database, TOTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.world import cheap_hasher as cheap_hasher
from tests.world import cheap_passwords as cheap_passwords
from tests.world import new_key as new_key
from tui_portal.config import KeySource, Settings
from tui_portal.security import totp
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import Account, Caller, CodeRequired, Operator, SignedIn

# 2030-01-01 12:00:00 UTC: the start of a TOTP step, so step arithmetic stays obvious.
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another good password"
ISSUER = "Developer Portal"
OPERATOR = Operator("test")
SOURCE = "local:test"


def make_settings(db_path: Path, key: str, *, issuer: str = ISSUER) -> Settings:
    """Settings for a SQLite file and an inline key; the key file is never touched."""
    return Settings(
        database_url=f"sqlite:///{db_path}",
        key_source=KeySource(inline_value=key, key_file=db_path.parent / "unused.key"),
        issuer=issuer,
    )


def step_now(clock: ManualClock) -> int:
    return totp.time_step(clock.now.timestamp())


def code_now(secret: str, clock: ManualClock, offset_steps: int = 0) -> str:
    """The code an authenticator with ``secret`` shows now, or ``offset_steps`` steps away."""
    return totp.code_at_step(secret, step_now(clock) + offset_steps)


def create_user(
    portal: Portal,
    username: str,
    *,
    password: str = PASSWORD,
    orgs: dict[str, str] | None = None,
    name: str = "",
    email: str = "",
    account_manager: bool = False,
) -> Account:
    """A user, put in each organisation of ``orgs`` (name to role), creating those as needed."""
    account = portal.directory.create_user(
        username,
        password,
        operator=OPERATOR,
        name=name,
        email=email,
        account_manager=account_manager,
    )
    existing = {o.name for o in portal.directory.organisations()}
    for org, role in (orgs or {}).items():
        if org not in existing:
            portal.directory.create_organisation(org, operator=OPERATOR)
            existing.add(org)
        portal.directory.add_member(org, username, role, operator=OPERATOR)
    return account_of(portal, account.id)


def account_of(portal: Portal, user_id: int) -> Account:
    """An account as it is in the database now (read the way the services read it)."""
    from tui_portal.services.lookups import load_account

    with portal.db.read() as session:
        return load_account(session, user_id)


def session_for(
    portal: Portal,
    username: str,
    *,
    password: str = PASSWORD,
    secret: str | None = None,
    clock: ManualClock | None = None,
    source: str = SOURCE,
) -> Caller:
    """Sign in through the services (with the code now showing, given the secret)."""
    step = portal.sign_in.sign_in(username=username, password=password, source=source)
    if isinstance(step, CodeRequired):
        assert secret is not None and clock is not None, "this account has MFA"
        step = portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
        clock.advance(totp.STEP_SECONDS)
    return step.caller


def enrol(portal: Portal, clock: ManualClock, caller: Caller, password: str | None = None) -> str:
    """Enrol and confirm an authenticator in ``caller``'s session; returns its secret.

    The confirming code claims the current step, so the clock then moves on one step:
    the next code the authenticator shows is a fresh one.
    """
    enrolment = portal.mfa.start_enrolment(caller, password=password)
    enabled = portal.mfa.confirm_enrolment(
        caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.account.mfa_enabled
    clock.advance(totp.STEP_SECONDS)
    return enrolment.secret


def enrolled(portal: Portal, clock: ManualClock, username: str, password: str = PASSWORD) -> str:
    """Enrol a person from a session of their own (then signed out); returns the secret."""
    caller = session_for(portal, username, password=password)
    secret = enrol(portal, clock, caller)
    portal.sessions.sign_out(caller)
    return secret


def sign_in_with_code(
    portal: Portal, username: str, secret: str, clock: ManualClock, password: str = PASSWORD
) -> SignedIn:
    """Both sign-in steps with the code showing now."""
    step = portal.sign_in.sign_in(username=username, password=password, source=SOURCE)
    assert isinstance(step, CodeRequired)
    return portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
