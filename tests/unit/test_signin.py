"""Signing in: the password step, the code step, and what failures reveal."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import text

from tui_portal.config import Settings
from tui_portal.errors import EnrolmentExpired, InvalidCode, InvalidCredentials
from tui_portal.security.passwords import Passwords
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import CodeRequired, SignedIn

from .support import (
    OPERATOR,
    PASSWORD,
    SOURCE,
    account_of,
    code_now,
    create_user,
    enrolled,
    make_settings,
    session_for,
    sign_in_with_code,
)


def stored_hash(portal: Portal, username: str) -> str:
    with portal.engine.connect() as connection:
        value = connection.execute(
            text("SELECT password_hash FROM users WHERE username_key = :k"), {"k": username}
        ).scalar_one()
    assert isinstance(value, str)
    return value


class VerifyCounter:
    """Counts argon2 verifications, the expensive part of checking a password."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = PasswordHasher.verify

        def counting(hasher: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(hasher, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, "verify", counting)


# -- the password step ----------------------------------------------------------------


def test_sign_in_without_mfa_completes_and_records_the_time(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice", name="Alice Liddell", orgs={"Acme": "member"})
    assert alice.last_sign_in_at is None
    clock.advance(3600)
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, SignedIn)
    assert step.account.username == "alice"
    assert step.account.name == "Alice Liddell"
    assert step.account.last_sign_in_at == clock.now
    assert account_of(portal, alice.id).last_sign_in_at == clock.now
    assert [o.name for o in step.account.organisations] == ["Acme"]
    assert portal.audit.trail()[-1].event == Event.SIGN_IN_SUCCEEDED


def test_usernames_are_matched_without_regard_to_case(portal: Portal) -> None:
    create_user(portal, "Alice.Smith")
    for typed in ("alice.smith", "ALICE.SMITH", "aLiCe.SmItH"):
        step = portal.sign_in.sign_in(username=typed, password=PASSWORD, source=SOURCE)
        assert isinstance(step, SignedIn)
        assert step.account.username == "Alice.Smith"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nobody", PASSWORD),  # unknown user
        ("alice", "wrong password"),  # wrong password
        ("alice", PASSWORD.upper()),  # passwords are case-sensitive
        ("alice ", PASSWORD),  # malformed username
        ("al ice", PASSWORD),
        ("", PASSWORD),
        ("a" * 65, PASSWORD),
        ("alice\x00", PASSWORD),
        ("alice", ""),  # empty password
        ("alice", "x" * 100_000),  # huge password
        ("nobody", ""),
    ],
)
def test_every_failure_is_the_same_invalid_credentials(
    portal: Portal, username: str, password: str
) -> None:
    create_user(portal, "alice")
    with pytest.raises(InvalidCredentials) as raised:
        portal.sign_in.sign_in(username=username, password=password, source=SOURCE)
    assert str(raised.value) == "Invalid username or password"
    assert type(raised.value) is InvalidCredentials


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nobody", PASSWORD),  # unknown user
        ("alice", "wrong password"),  # known user, wrong password
        ("alice", PASSWORD),  # success
        ("bad name", PASSWORD),  # malformed username
        ("alice", ""),  # empty password
    ],
)
def test_every_path_does_one_argon2_verification(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, username: str, password: str
) -> None:
    create_user(portal, "alice")
    counter = VerifyCounter(monkeypatch)
    with contextlib.suppress(InvalidCredentials):
        portal.sign_in.sign_in(username=username, password=password, source=SOURCE)
    assert counter.calls == 1


def test_unknown_user_burns_equal_time(
    portal: Portal, passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    burned: list[str] = []
    original = passwords.burn_equal_time

    def spy(password: str) -> None:
        burned.append(password)
        original(password)

    monkeypatch.setattr(passwords, "burn_equal_time", spy)
    with pytest.raises(InvalidCredentials):
        portal.sign_in.sign_in(username="nobody", password="some password", source=SOURCE)
    assert burned == ["some password"]


def test_rehash_on_sign_in_when_parameters_change(
    portal: Portal, settings: Settings, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    before = stored_hash(portal, "alice")
    assert extract_parameters(before).time_cost == 1

    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    upgraded = open_portal(settings, clock=clock, passwords=Passwords(stronger))
    try:
        assert isinstance(
            upgraded.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), SignedIn
        )
        after = stored_hash(upgraded, "alice")
        assert after != before
        parameters = extract_parameters(after)
        assert (parameters.time_cost, parameters.memory_cost) == (2, 16)
        assert stronger.verify(after, PASSWORD)
        assert not stronger.check_needs_rehash(after)
        # Signing in again with the same parameters keeps the hash.
        assert isinstance(
            upgraded.sign_in.sign_in(username="ALICE", password=PASSWORD, source=SOURCE), SignedIn
        )
        assert stored_hash(upgraded, "alice") == after
    finally:
        upgraded.close()


def test_a_wrong_password_never_rehashes(
    portal: Portal, settings: Settings, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    before = stored_hash(portal, "alice")
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    upgraded = open_portal(settings, clock=clock, passwords=stronger)
    try:
        with pytest.raises(InvalidCredentials):
            upgraded.sign_in.sign_in(username="alice", password="wrong password", source=SOURCE)
        assert stored_hash(upgraded, "alice") == before
    finally:
        upgraded.close()


# -- the code step --------------------------------------------------------------------


def test_mfa_account_needs_a_code_then_signs_in(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="Alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    assert step.username == "alice"  # as the account spells it, whatever was typed
    assert step.expires_at == clock.now + timedelta(minutes=5)
    done = portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
    assert done.account.id == alice.id
    assert done.account.mfa_enabled
    assert done.account.last_sign_in_at == clock.now


def test_a_pending_sign_in_expires_after_five_minutes(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    clock.advance(300)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
    # Gone for good, even if time were to run back.
    clock.advance(-300)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))


def test_a_pending_sign_in_is_good_just_before_five_minutes(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    clock.advance(299)
    assert (
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock)).account.id
        == alice.id
    )


def test_a_pending_sign_in_is_used_once(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
    clock.advance(30)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))


def test_an_unknown_or_cancelled_token_is_refused(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token="made-up-token", code=code_now(secret, clock))
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    portal.sign_in.cancel(token=step.token)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))


def test_a_wrong_code_keeps_the_pending_sign_in(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    right = code_now(secret, clock)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(InvalidCode) as raised:
        portal.sign_in.verify_code(token=step.token, code=wrong)
    assert str(raised.value) == "Invalid MFA code"
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code="12 345")
    assert portal.sign_in.verify_code(token=step.token, code=right).account.id == alice.id


def test_a_code_is_accepted_once(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    code = code_now(secret, clock)
    first = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(first, CodeRequired)
    portal.sign_in.verify_code(token=first.token, code=code)
    second = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(second, CodeRequired)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=second.token, code=code)
    assert portal.audit.trail()[-1].event == Event.MFA_CODE_REPLAYED
    # The next step's code works.
    clock.advance(30)
    assert (
        portal.sign_in.verify_code(token=second.token, code=code_now(secret, clock)).account.id
        == alice.id
    )


def test_an_older_step_after_a_newer_one_is_refused(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    sign_in_with_code_offset(portal, secret, clock, offset=1)
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    for offset in (0, -1):  # both still inside the window, both older than the one used
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock, offset))


def sign_in_with_code_offset(
    portal: Portal, secret: str, clock: ManualClock, *, offset: int
) -> SignedIn:
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    return portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock, offset))


def test_codes_from_just_outside_the_window_are_refused(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    for offset in (2, -2):
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock, offset))


def test_mfa_disabled_between_the_steps_means_start_again(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    portal.mfa.disable_by_operator(username="alice", operator=OPERATOR)
    with pytest.raises(InvalidCode):
        portal.sign_in.verify_code(token=step.token, code=code_now(secret, clock))
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), SignedIn
    )


# -- pending enrolments ---------------------------------------------------------------


def test_a_pending_enrolment_is_never_asked_for_at_sign_in(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    caller = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(caller)
    assert not account_of(portal, alice.id).mfa_enabled
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, SignedIn)
    assert not step.account.mfa_enabled
    # Still pending, and still confirmable afterwards.
    enabled = portal.mfa.confirm_enrolment(
        caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.account.mfa_enabled


def test_a_pending_enrolment_expires_after_ten_minutes(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    caller = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(caller)
    assert enrolment.expires_at == clock.now + timedelta(minutes=10)
    clock.advance(600)
    with pytest.raises(EnrolmentExpired):
        portal.mfa.confirm_enrolment(
            caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
        )
    assert not account_of(portal, alice.id).mfa_enabled
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), SignedIn
    )


def test_a_pending_enrolment_is_good_just_before_ten_minutes(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(caller)
    clock.advance(599)
    enabled = portal.mfa.confirm_enrolment(
        caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.account.mfa_enabled


def test_signing_in_after_enrolment(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    assert sign_in_with_code(portal, "alice", secret, clock).account.mfa_enabled


def test_two_portals_on_one_database_share_replay_protection(
    portal: Portal, clock: ManualClock, passwords: Passwords, tmp_path: Path, key: str
) -> None:
    create_user(portal, "alice")
    secret = enrolled(portal, clock, "alice")
    other = open_portal(
        make_settings(tmp_path / "portal.db", key), clock=clock, passwords=passwords
    )
    try:
        code = code_now(secret, clock)
        here = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
        there = other.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
        assert isinstance(here, CodeRequired) and isinstance(there, CodeRequired)
        portal.sign_in.verify_code(token=here.token, code=code)
        with pytest.raises(InvalidCode):
            other.sign_in.verify_code(token=there.token, code=code)
        # A token belongs to the process that issued it.
        clock.advance(30)
        with pytest.raises(InvalidCode):
            other.sign_in.verify_code(token=here.token, code=code_now(secret, clock))
    finally:
        other.close()
