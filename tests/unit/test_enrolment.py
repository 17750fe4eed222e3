"""Enrolling an authenticator: the URI, the secret, confirming, clock hints, replacing a device."""

from __future__ import annotations

from base64 import b32decode
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from tui_portal.errors import (
    EnrolmentExpired,
    IncorrectPassword,
    InvalidCode,
)
from tui_portal.security.passwords import Passwords
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import CodeRequired, SignedIn

from .support import (
    PASSWORD,
    SOURCE,
    account_of,
    code_now,
    create_user,
    enrol,
    make_settings,
    session_for,
    sign_in_with_code,
)


def test_uri_names_issuer_and_user_and_parses_back(portal: Portal) -> None:
    create_user(portal, "alice@example.org")
    alice_session = session_for(portal, "alice@example.org")
    enrolment = portal.mfa.start_enrolment(alice_session)
    assert enrolment.uri.startswith("otpauth://totp/Developer%20Portal:alice@example.org?secret=")
    parts = urlsplit(enrolment.uri)
    query = parse_qs(parts.query)
    assert query == {"secret": [enrolment.secret]}  # the issuer is the label's prefix
    parsed = pyotp.parse_uri(enrolment.uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == enrolment.secret
    assert parsed.name == "alice@example.org"
    assert parsed.issuer == "Developer Portal"
    assert (parsed.digits, parsed.interval) == (6, 30)
    assert parsed.digest().name == "sha1"


def test_the_issuer_comes_from_the_settings(
    key: str, clock: ManualClock, passwords: Passwords, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "issuer.db", key, issuer="Acme Dev & Co")
    portal = open_portal(settings, clock=clock, passwords=passwords)
    try:
        create_user(portal, "bob")
        bob_session = session_for(portal, "bob")
        enrolment = portal.mfa.start_enrolment(bob_session)
        parsed = pyotp.parse_uri(enrolment.uri)
        assert parsed.issuer == "Acme Dev & Co"
        assert parsed.name == "bob"
        assert enrolment.uri.startswith("otpauth://totp/Acme%20Dev%20%26%20Co:bob?")
    finally:
        portal.close()


def test_the_secret_is_160_bits_and_new_every_time(portal: Portal) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    first = portal.mfa.start_enrolment(alice_session)
    second = portal.mfa.start_enrolment(alice_session)
    for enrolment in (first, second):
        assert len(b32decode(enrolment.secret + "=" * (-len(enrolment.secret) % 8))) == 20
        assert set(enrolment.secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        assert not enrolment.replaces_existing
    assert first.secret != second.secret
    assert first.credential_id != second.credential_id
    assert first.secret not in repr(first)


def test_confirming_with_the_right_code_enables_mfa(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    enabled = portal.mfa.confirm_enrolment(
        alice_session, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.account.mfa_enabled
    assert account_of(portal, alice.id).mfa_enabled
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), CodeRequired
    )
    events = [r.event for r in portal.audit.trail()]
    assert events[-3:] == [
        Event.MFA_ENROLMENT_STARTED,
        Event.MFA_ENABLED,
        Event.RECOVERY_CODES_GENERATED,
    ]
    assert enabled.recovery_codes is not None and len(enabled.recovery_codes.codes) == 10


@pytest.mark.parametrize("offset", [-1, 1])
def test_confirming_accepts_one_step_either_side(
    portal: Portal, clock: ManualClock, offset: int
) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    enabled = portal.mfa.confirm_enrolment(
        alice_session,
        credential_id=enrolment.credential_id,
        code=code_now(enrolment.secret, clock, offset),
    )
    assert enabled.account.mfa_enabled


def test_a_wrong_code_does_not_enable_mfa(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    right = code_now(enrolment.secret, clock)
    for wrong in ("12345", "abcdef", "١٢٣٤٥٦", "000000" if right != "000000" else "111111"):
        with pytest.raises(InvalidCode) as raised:
            portal.mfa.confirm_enrolment(
                alice_session, credential_id=enrolment.credential_id, code=wrong
            )
        assert raised.value.clock_hint is None
    assert not account_of(portal, alice.id).mfa_enabled
    # Still pending: the right code works afterwards.
    assert portal.mfa.confirm_enrolment(
        alice_session, credential_id=enrolment.credential_id, code=right
    ).account.mfa_enabled


@pytest.mark.parametrize(
    ("offset", "seconds", "word"),
    [(3, 90, "fast"), (2, 60, "fast"), (10, 300, "fast"), (-4, -120, "slow"), (-10, -300, "slow")],
)
def test_a_code_from_a_drifting_clock_gives_a_hint(
    portal: Portal, clock: ManualClock, offset: int, seconds: int, word: str
) -> None:
    alice = create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    with pytest.raises(InvalidCode) as raised:
        portal.mfa.confirm_enrolment(
            alice_session,
            credential_id=enrolment.credential_id,
            code=code_now(enrolment.secret, clock, offset),
        )
    assert raised.value.skew_seconds == seconds
    hint = raised.value.clock_hint
    assert hint is not None
    assert f"about {abs(seconds)} seconds {word}" in hint
    assert str(raised.value) == "Invalid MFA code"
    assert not account_of(portal, alice.id).mfa_enabled


def test_no_hint_beyond_ten_steps(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    with pytest.raises(InvalidCode) as raised:
        portal.mfa.confirm_enrolment(
            alice_session,
            credential_id=enrolment.credential_id,
            code=code_now(enrolment.secret, clock, 11),
        )
    assert raised.value.skew_seconds is None
    assert raised.value.clock_hint is None


def test_only_the_newest_pending_enrolment_counts(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    first = portal.mfa.start_enrolment(alice_session)
    second = portal.mfa.start_enrolment(alice_session)
    with pytest.raises(EnrolmentExpired):
        portal.mfa.confirm_enrolment(
            alice_session, credential_id=first.credential_id, code=code_now(first.secret, clock)
        )
    enabled = portal.mfa.confirm_enrolment(
        alice_session, credential_id=second.credential_id, code=code_now(second.secret, clock)
    )
    assert enabled.account.mfa_enabled


def test_nobody_confirms_someone_elses_enrolment(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    mallory = create_user(portal, "mallory")
    mallory_session = session_for(portal, "mallory")
    enrolment = portal.mfa.start_enrolment(alice_session)
    with pytest.raises(EnrolmentExpired):
        portal.mfa.confirm_enrolment(
            mallory_session,
            credential_id=enrolment.credential_id,
            code=code_now(enrolment.secret, clock),
        )
    assert not account_of(portal, mallory.id).mfa_enabled
    assert not account_of(portal, alice.id).mfa_enabled


def test_an_enrolment_is_confirmed_once(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice_session)
    code = code_now(enrolment.secret, clock)
    portal.mfa.confirm_enrolment(alice_session, credential_id=enrolment.credential_id, code=code)
    clock.advance(30)
    with pytest.raises(EnrolmentExpired):
        portal.mfa.confirm_enrolment(
            alice_session,
            credential_id=enrolment.credential_id,
            code=code_now(enrolment.secret, clock),
        )


# -- replacing a device ---------------------------------------------------------------


def test_replacing_a_device_needs_the_password(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrol(portal, clock, alice_session)
    for wrong in (None, "", "wrong password"):
        with pytest.raises(IncorrectPassword) as raised:
            portal.mfa.start_enrolment(alice_session, password=wrong)
        assert str(raised.value) == "Incorrect password"
    failures = [r for r in portal.audit.trail() if r.event == Event.PASSWORD_CONFIRM_FAILED]
    assert len(failures) == 3
    assert all(r.actor == "alice" and r.target == "alice" for r in failures)
    replacement = portal.mfa.start_enrolment(alice_session, password=PASSWORD)
    assert replacement.replaces_existing


def test_the_old_device_works_until_the_new_one_is_confirmed(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    old_secret = enrol(portal, clock, alice_session)
    replacement = portal.mfa.start_enrolment(alice_session, password=PASSWORD)
    new_secret = replacement.secret

    # The old device still signs in; the new one does not, yet.
    assert sign_in_with_code(portal, "alice", old_secret, clock).account.mfa_enabled
    clock.advance(30)
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    if code_now(new_secret, clock) != code_now(old_secret, clock):
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(token=step.token, code=code_now(new_secret, clock))
    portal.sign_in.cancel(token=step.token)

    enabled = portal.mfa.confirm_enrolment(
        alice_session, credential_id=replacement.credential_id, code=code_now(new_secret, clock)
    )
    assert enabled.account.mfa_enabled
    assert portal.audit.trail()[-1].event == Event.MFA_DEVICE_REPLACED

    # Now only the new device works.
    clock.advance(30)
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    for offset in (-1, 0, 1):
        old_code = code_now(old_secret, clock, offset)
        if old_code in {code_now(new_secret, clock, k) for k in (-1, 0, 1)}:
            continue  # the two devices happen to agree: nothing to learn from it
        with pytest.raises(InvalidCode):
            portal.sign_in.verify_code(token=step.token, code=old_code)
    assert portal.sign_in.verify_code(
        token=step.token, code=code_now(new_secret, clock)
    ).account.id == (alice.id)


def test_an_abandoned_replacement_leaves_the_old_device(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    old_secret = enrol(portal, clock, alice_session)
    portal.mfa.start_enrolment(alice_session, password=PASSWORD)
    clock.advance(3600)
    assert sign_in_with_code(portal, "alice", old_secret, clock).account.mfa_enabled


def test_mfa_off_then_sign_in_with_password_alone(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    alice_session = session_for(portal, "alice")
    enrol(portal, clock, alice_session)
    account = portal.mfa.disable_own(alice_session, password=PASSWORD)
    assert not account.mfa_enabled
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), SignedIn
    )
    # Enrolling again afterwards is a fresh enrolment, not a replacement.
    assert not portal.mfa.start_enrolment(alice_session).replaces_existing
