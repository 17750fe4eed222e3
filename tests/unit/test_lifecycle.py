"""The account lifecycle in the services: recovery codes, password changes, sessions, notices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tui_portal.errors import (
    IncorrectPassword,
    InvalidInput,
    InvalidRecoveryCode,
    NothingToChange,
    PermissionDenied,
    SessionEnded,
    Throttled,
)
from tui_portal.security import recovery_codes
from tui_portal.security import throttle as rule
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import Caller, CodeRequired, RecoveryCodes, SignedIn

from .support import (
    OPERATOR,
    OTHER_PASSWORD,
    PASSWORD,
    SOURCE,
    account_of,
    code_now,
    create_user,
    session_for,
)

# -- helpers --------------------------------------------------------------------------


def enrol_with_codes(
    portal: Portal, clock: ManualClock, username: str
) -> tuple[str, RecoveryCodes]:
    """Enable MFA for ``username`` from a session of theirs; the secret and the codes."""
    caller = session_for(portal, username)
    enrolment = portal.mfa.start_enrolment(caller)
    enabled = portal.mfa.confirm_enrolment(
        caller, credential_id=enrolment.credential_id, code=code_now(enrolment.secret, clock)
    )
    assert enabled.recovery_codes is not None
    portal.sessions.sign_out(caller)
    clock.advance(30)
    return enrolment.secret, enabled.recovery_codes


def pending(portal: Portal, username: str = "alice", source: str = SOURCE) -> str:
    step = portal.sign_in.sign_in(username=username, password=PASSWORD, source=source)
    assert isinstance(step, CodeRequired)
    return step.token


def with_code(portal: Portal, clock: ManualClock, secret: str, username: str = "alice") -> Caller:
    signed = portal.sign_in.verify_code(
        token=pending(portal, username), code=code_now(secret, clock)
    )
    clock.advance(30)
    return signed.caller


# -- recovery codes -------------------------------------------------------------------


def test_enabling_mfa_makes_ten_codes_of_eighty_bits(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    assert len(codes.codes) == 10 and len(set(codes.codes)) == 10
    for code in codes.codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert account_of(portal, alice.id).recovery_codes_left == 10
    assert "hidden" in repr(codes) and codes.codes[0] not in repr(codes)


@pytest.mark.parametrize(
    "typing", [lambda c: c, str.lower, lambda c: c.replace("-", ""), lambda c: f" {c.lower()} "]
)
def test_a_recovery_code_completes_a_sign_in_in_any_case_with_or_without_dashes(
    portal: Portal, clock: ManualClock, typing: object
) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    typed = typing(codes.codes[3])  # type: ignore[operator]
    signed = portal.sign_in.verify_recovery_code(token=pending(portal), code=typed)
    assert isinstance(signed, SignedIn)
    assert signed.account.recovery_codes_left == 9


def test_each_recovery_code_works_once(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    portal.sign_in.verify_recovery_code(token=pending(portal), code=codes.codes[0])
    with pytest.raises(InvalidRecoveryCode) as raised:
        portal.sign_in.verify_recovery_code(token=pending(portal), code=codes.codes[0])
    assert str(raised.value) == "Invalid recovery code"
    portal.sign_in.verify_recovery_code(token=pending(portal), code=codes.codes[1])


def test_a_pending_sign_in_is_used_once_by_a_recovery_code(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    token = pending(portal)
    portal.sign_in.verify_recovery_code(token=token, code=codes.codes[0])
    with pytest.raises(InvalidRecoveryCode):
        portal.sign_in.verify_recovery_code(token=token, code=codes.codes[1])


@pytest.mark.parametrize(
    "typed", ["", "AAAA-AAAA-AAAA-AAA", "AAAA-AAAA-AAAA-AAA1", "x" * 1000, "[bold]", "\x1b[31m"]
)
def test_malformed_recovery_codes_are_refused_and_counted(
    portal: Portal, clock: ManualClock, typed: str
) -> None:
    create_user(portal, "alice")
    enrol_with_codes(portal, clock, "alice")
    with pytest.raises(InvalidRecoveryCode):
        portal.sign_in.verify_recovery_code(token=pending(portal), code=typed)
    state = portal.throttles.state(portal.throttles.account("alice", known=True))
    assert state.failures == 1


def test_recovery_codes_count_against_the_throttle(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    token = pending(portal)
    for _ in range(rule.FREE_FAILURES + 1):
        with pytest.raises(InvalidRecoveryCode):
            portal.sign_in.verify_recovery_code(token=token, code="AAAA-AAAA-AAAA-AAAA")
    with pytest.raises(Throttled):
        portal.sign_in.verify_recovery_code(token=token, code=codes.codes[0])


def test_regenerating_needs_the_password_and_voids_the_old_set(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    secret, old = enrol_with_codes(portal, clock, "alice")
    caller = with_code(portal, clock, secret)
    with pytest.raises(IncorrectPassword):
        portal.mfa.regenerate_recovery_codes(caller, password=OTHER_PASSWORD)
    new = portal.mfa.regenerate_recovery_codes(caller, password=PASSWORD)
    assert set(new.codes).isdisjoint(old.codes)
    assert account_of(portal, alice.id).recovery_codes_left == 10
    with pytest.raises(InvalidRecoveryCode):
        portal.sign_in.verify_recovery_code(token=pending(portal), code=old.codes[0])
    portal.sign_in.verify_recovery_code(token=pending(portal), code=new.codes[0])


def test_no_recovery_codes_without_mfa(portal: Portal) -> None:
    create_user(portal, "alice")
    with pytest.raises(NothingToChange):
        portal.mfa.regenerate_recovery_codes(session_for(portal, "alice"), password=PASSWORD)


def test_disabling_mfa_deletes_the_recovery_codes(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret, codes = enrol_with_codes(portal, clock, "alice")
    portal.mfa.disable_own(with_code(portal, clock, secret), password=PASSWORD)
    assert account_of(portal, alice.id).recovery_codes_left == 0
    with portal.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM recovery_codes").scalar() == 0
    # Enabling MFA again makes a fresh set; the old codes stay dead.
    _secret, fresh = enrol_with_codes(portal, clock, "alice")
    assert set(fresh.codes).isdisjoint(codes.codes)


def test_replacing_the_device_keeps_the_recovery_codes(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice")
    secret, codes = enrol_with_codes(portal, clock, "alice")
    caller = with_code(portal, clock, secret)
    replacement = portal.mfa.start_enrolment(caller, password=PASSWORD)
    replaced = portal.mfa.confirm_enrolment(
        caller, credential_id=replacement.credential_id, code=code_now(replacement.secret, clock)
    )
    assert replaced.recovery_codes is None
    assert account_of(portal, alice.id).recovery_codes_left == 10
    clock.advance(30)
    portal.sign_in.verify_recovery_code(token=pending(portal), code=codes.codes[9])


def test_recovery_codes_are_stored_only_as_salted_keyed_hashes(
    portal: Portal, clock: ManualClock, db_path: Path
) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    with portal.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT salt, digest FROM recovery_codes").all()
    assert len(rows) == 10
    assert len({salt for salt, _ in rows}) == 10  # each its own salt
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob("portal.db*"))
    for code in codes.codes:
        compact = code.replace("-", "")
        for form in (code, compact, compact.lower()):
            assert form.encode() not in raw
        assert recovery_codes.normalise(code) == compact


# -- password changes -------------------------------------------------------------------

NEW = "a wholly new passphrase"


def test_changing_the_password_needs_the_current_one(portal: Portal) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    with pytest.raises(IncorrectPassword):
        portal.accounts.change_password(caller, current="not it at all", new=NEW)
    portal.accounts.change_password(caller, current=PASSWORD, new=NEW)
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=NEW, source=SOURCE), SignedIn
    )
    with pytest.raises(Exception, match="Invalid username or password"):
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)


@pytest.mark.parametrize(
    ("new", "words"),
    [
        ("short", "8 to 256"),
        ("x" * 257, "8 to 256"),
        ("password1", "Choose a less common password"),
        ("PASSWORD1", "Choose a less common password"),
        ("iloveyou", "Choose a less common password"),
        ("new\x00password", "control characters"),
        (PASSWORD, "must differ"),
    ],
)
def test_a_new_password_follows_the_rules_and_changes_nothing_otherwise(
    portal: Portal, new: str, words: str
) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    before = len(portal.audit.trail())
    with pytest.raises(InvalidInput, match=words):
        portal.accounts.change_password(caller, current=PASSWORD, new=new)
    assert len(portal.audit.trail()) == before
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE), SignedIn
    )


def test_a_password_typed_in_another_unicode_form_still_works(portal: Portal) -> None:
    composed = "café au lait 2026"  # é as one code point
    decomposed = "cafe\u0301 au lait 2026"  # e followed by a combining accent
    create_user(portal, "alice", password=composed)
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=decomposed, source=SOURCE), SignedIn
    )
    fullwidth = "ｐａｓｓｐｈｒａｓｅ ２０２６"  # NFKC folds these to plain ASCII
    create_user(portal, "bob", password="passphrase 2026")
    assert isinstance(
        portal.sign_in.sign_in(username="bob", password=fullwidth, source=SOURCE), SignedIn
    )


def test_a_hash_made_before_normalisation_still_works_and_is_replaced(portal: Portal) -> None:
    from argon2 import PasswordHasher

    decomposed = "cafe\u0301 au lait 2026"
    alice = create_user(portal, "alice")
    legacy = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(decomposed)
    with portal.db.write() as session:
        session.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :i"),
            {"h": legacy, "i": alice.id},
        )
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=decomposed, source=SOURCE), SignedIn
    )
    with portal.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT password_hash FROM users WHERE id = ?", (alice.id,)
        ).scalar_one()
    assert stored != legacy
    composed = "café au lait 2026"
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password=composed, source=SOURCE), SignedIn
    )


# -- sessions -------------------------------------------------------------------------


def live(portal: Portal, caller: Caller) -> bool:
    return portal.sessions.heartbeat(caller, active=False).live


def reason(portal: Portal, caller: Caller) -> str | None:
    return portal.sessions.heartbeat(caller, active=False).ended_reason


def test_each_sign_in_is_a_session_row_with_source_and_method(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    token = pending(portal, source="ssh:203.0.113.7")
    here = portal.sign_in.verify_recovery_code(token=token, code=codes.codes[0]).caller
    clock.advance(60)
    there = portal.sign_in.verify_recovery_code(
        token=pending(portal, source="local:alice"), code=codes.codes[1]
    ).caller
    listed = portal.sessions.live(here)
    assert [(s.source, s.method, s.current) for s in listed] == [
        ("local:alice", "password and recovery code", False),
        ("ssh:203.0.113.7", "password and recovery code", True),
    ]
    assert [s.id for s in listed] == [there.session_id, here.session_id]


def test_signing_out_other_sessions_ends_them_and_keeps_this_one(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    mine, other, third = (session_for(portal, "alice", source=f"ssh:10.0.0.{n}") for n in range(3))
    assert portal.sessions.sign_out_others(mine) == 2
    assert live(portal, mine)
    assert (reason(portal, other), reason(portal, third)) == ("signed_out_elsewhere",) * 2
    with pytest.raises(SessionEnded):
        portal.members.account(other)
    revoked = [r for r in portal.audit.trail() if r.event == "sessions_revoked"]
    assert [(r.actor, r.target, r.detail) for r in revoked] == [
        ("alice", "alice", "2 sessions (signed out elsewhere)")
    ]


def test_disabling_mfa_ends_every_other_session(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    secret, _codes = enrol_with_codes(portal, clock, "alice")
    mine, other = with_code(portal, clock, secret), with_code(portal, clock, secret)
    portal.mfa.disable_own(mine, password=PASSWORD)
    assert live(portal, mine) and reason(portal, other) == "mfa_disabled"


def test_a_password_change_ends_the_other_sessions_and_a_set_password_all(
    portal: Portal,
) -> None:
    create_user(portal, "alice")
    mine, other = session_for(portal, "alice"), session_for(portal, "alice")
    assert portal.accounts.change_password(mine, current=PASSWORD, new=NEW) == 1
    assert live(portal, mine) and reason(portal, other) == "password_changed"
    assert portal.accounts.set_password("alice", PASSWORD, operator=OPERATOR) == 1
    assert reason(portal, mine) == "password_set"


def test_a_session_ends_twelve_hours_after_sign_in_however_active(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    for _ in range(11):
        clock.advance(3600)
        assert portal.sessions.heartbeat(caller, active=True).live
    clock.advance(3599)
    assert live(portal, caller)
    clock.advance(1)
    status = portal.sessions.heartbeat(caller, active=True)
    assert (status.live, status.ended_reason) == (False, "expired")
    with pytest.raises(SessionEnded):
        portal.members.account(caller)


def test_last_seen_moves_at_most_once_a_minute(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    started = portal.sessions.live(caller)[0].last_seen_at
    clock.advance(30)
    portal.sessions.heartbeat(caller, active=True)
    assert portal.sessions.live(caller)[0].last_seen_at == started
    clock.advance(31)
    portal.sessions.heartbeat(caller, active=True)
    assert portal.sessions.live(caller)[0].last_seen_at == clock.now
    clock.advance(120)
    portal.sessions.heartbeat(caller, active=False)
    assert portal.sessions.live(caller)[0].last_seen_at == clock.now - timedelta(seconds=120)


def test_a_signed_out_session_can_do_nothing_more(portal: Portal) -> None:
    create_user(portal, "alice", orgs={"Acme": "admin"})
    caller = session_for(portal, "alice")
    portal.sessions.sign_out(caller)
    with pytest.raises(SessionEnded):
        portal.mfa.start_enrolment(caller)
    with pytest.raises(SessionEnded):
        portal.accounts.change_password(caller, current=PASSWORD, new=NEW)
    with pytest.raises(SessionEnded):
        portal.members.picker_organisations(caller)
    assert reason(portal, caller) == "signed_out"


def test_a_session_of_someone_else_is_refused(portal: Portal) -> None:
    alice = create_user(portal, "alice")
    bob = create_user(portal, "bob")
    bobs = session_for(portal, "bob")
    forged = Caller(alice.id, bobs.session_id, SOURCE)
    with pytest.raises(SessionEnded):
        portal.members.account(forged)
    assert bob.id == bobs.user_id


def test_the_revision_moves_when_what_a_session_shows_changes(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice", orgs={"Acme": "member"})
    create_user(portal, "bob", orgs={"Acme": "admin"})
    caller = session_for(portal, "alice")

    def revision() -> int:
        return portal.sessions.heartbeat(caller, active=False).revision

    seen = revision()
    portal.directory.create_organisation("Beta", operator=OPERATOR)
    assert revision() == seen  # nothing of alice's changed
    portal.directory.add_member("Beta", "alice", "member", operator=OPERATOR)
    assert revision() > seen
    seen = revision()
    portal.governance.set_role("Beta", "alice", "admin", operator=OPERATOR)
    assert revision() > seen
    seen = revision()
    portal.governance.remove_member("Acme", "alice", operator=OPERATOR)
    assert revision() > seen


# -- telling people ---------------------------------------------------------------------


def notice_of(signed: SignedIn) -> str:
    assert signed.notice is not None
    return signed.notice.text


def test_the_first_sign_in_has_no_notice(portal: Portal) -> None:
    create_user(portal, "alice")
    signed = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn) and signed.notice is None


def test_failed_attempts_since_the_last_sign_in_are_told_with_how_many_and_from_where(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    session_for(portal, "alice")
    for source in ("ssh:203.0.113.7", "ssh:203.0.113.7", "web:198.51.100.4"):
        with pytest.raises(Exception, match="Invalid username or password"):
            portal.sign_in.sign_in(username="alice", password="wrong guess", source=source)
    signed = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn)
    text = notice_of(signed)
    assert "since your last sign-in" in text.lower()
    assert "3 failed sign-in attempts (from ssh:203.0.113.7, web:198.51.100.4)" in text
    # Never shown twice for the same events.
    again = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(again, SignedIn) and again.notice is None


def test_changes_by_others_are_told_with_who(portal: Portal, clock: ManualClock) -> None:
    alice = create_user(portal, "alice", orgs={"Acme": "member"})
    create_user(portal, "ada", orgs={"Acme": "admin"}, password=OTHER_PASSWORD)
    _secret, codes = enrol_with_codes(portal, clock, "alice")
    portal.sign_in.verify_recovery_code(token=pending(portal), code=codes.codes[0])
    acme = next(o.id for o in portal.directory.organisations() if o.name == "Acme")
    ada = session_for(portal, "ada", password=OTHER_PASSWORD, source="ssh:192.0.2.9")
    portal.mfa.disable_for_user(ada, password=OTHER_PASSWORD, target_user_id=alice.id, org_id=acme)
    portal.accounts.set_password("alice", PASSWORD, operator=OPERATOR)
    signed = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn) and signed.notice is not None
    lines = signed.notice.lines
    assert "A recovery code was used by you, in another session (local:test)" in lines
    assert "MFA was disabled by ada (ssh:192.0.2.9)" in lines
    assert "The password was set by operator:test (local:test)" in lines


def test_the_notice_leaves_out_what_this_session_did(portal: Portal, clock: ManualClock) -> None:
    create_user(portal, "alice")
    caller = session_for(portal, "alice")
    portal.accounts.change_password(caller, current=PASSWORD, new=NEW)  # this session's own
    signed = portal.sign_in.sign_in(username="alice", password=NEW, source=SOURCE)
    assert isinstance(signed, SignedIn)
    # The change was made by a session that is not the one now signing in: it is told.
    assert signed.notice is not None
    assert any("password was changed by you" in line for line in signed.notice.lines)
    # The new session's own events are never told to it.
    portal.sessions.sign_out_others(signed.caller)
    third = portal.sign_in.sign_in(username="alice", password=NEW, source=SOURCE)
    assert isinstance(third, SignedIn)
    assert third.notice is not None
    assert [line for line in third.notice.lines if "password" in line.lower()] == []


def test_activity_lists_the_accounts_own_events_newest_first_in_pages(
    portal: Portal, clock: ManualClock
) -> None:
    create_user(portal, "alice")
    create_user(portal, "bob")
    for _ in range(3):
        with pytest.raises(Exception, match="Invalid"):
            portal.sign_in.sign_in(username="alice", password="wrong one", source="ssh:1.2.3.4")
    caller = session_for(portal, "alice")
    session_for(portal, "bob")  # someone else's event, never in alice's activity
    first = portal.activity.recent(caller, limit=2)
    assert [e.what for e in first.entries] == ["Signed in", "Failed sign-in (wrong password)"]
    assert first.entries[1].source == "ssh:1.2.3.4"
    assert first.older is not None
    rest = portal.activity.recent(caller, older_than=first.older, limit=10)
    assert [e.what for e in rest.entries] == [
        "Failed sign-in (wrong password)",
        "Failed sign-in (wrong password)",
        "Account created",
    ]
    assert rest.older is None
    assert [e.by for e in rest.entries][-1] == "operator:test"
    with pytest.raises(PermissionDenied):
        portal.activity.recent(Caller(caller.user_id, "not-a-session", SOURCE))
