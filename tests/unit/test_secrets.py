"""Secrets at rest: nothing secret in the database file or the audit trail, keys and file modes."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from tui_portal.config import KeySource, Settings
from tui_portal.errors import InvalidCode, InvalidCredentials, SecretKeyError
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import SecretBox, decode_key, encode_key
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import CodeRequired

from .support import (
    PASSWORD,
    SOURCE,
    code_now,
    create_user,
    enrolled,
    make_settings,
    new_key,
    session_for,
)

TYPED_AS_USERNAME = "Hunter2Summer"  # a password, typed where the username goes


def recovery_forms(code: str) -> list[bytes]:
    """How a recovery code could lie in a file: as shown, compact, lower case, raw bits."""
    compact = code.replace("-", "")
    return [
        code.encode(),
        compact.encode(),
        compact.lower().encode(),
        base64.b32decode(compact),
        base64.b32decode(compact).hex().encode(),
    ]


def raw_database_bytes(db_path: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    return b"".join(
        path.read_bytes()
        for path in (db_path, db_path.with_name(db_path.name + "-wal"))
        if path.exists()
    )


def forms_of(secret: str) -> list[bytes]:
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return [
        secret.encode(),
        secret.lower().encode(),
        secret.encode("utf-16-le"),
        raw,
        raw.hex().encode(),
        base64.b64encode(raw),
    ]


def test_no_secret_password_or_code_on_disk_or_in_the_trail(
    portal: Portal, clock: ManualClock, db_path: Path, passwords: Passwords
) -> None:
    create_user(portal, "alice", orgs={"Acme": "admin"})
    alice = session_for(portal, "alice")
    enrolment = portal.mfa.start_enrolment(alice)
    pending_bytes = raw_database_bytes(db_path)
    confirm_code = code_now(enrolment.secret, clock)
    enabled = portal.mfa.confirm_enrolment(
        alice, credential_id=enrolment.credential_id, code=confirm_code
    )
    assert enabled.recovery_codes is not None
    recovery = enabled.recovery_codes.codes
    clock.advance(30)
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    sign_in_code = code_now(enrolment.secret, clock)
    portal.sign_in.verify_code(token=step.token, code=sign_in_code)
    clock.advance(30)
    # A replayed code and a wrong one are recorded as events, never as values.
    step = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    for attempt in (sign_in_code, "13579" + "1"):
        if attempt != code_now(enrolment.secret, clock):
            with pytest.raises(InvalidCode):
                portal.sign_in.verify_code(token=step.token, code=attempt)
    # A recovery code used, one typed wrong, and a password typed into the Username field.
    portal.sign_in.verify_recovery_code(token=step.token, code=recovery[0])
    with pytest.raises(InvalidCredentials):
        portal.sign_in.sign_in(username=TYPED_AS_USERNAME, password="x", source=SOURCE)
    # A replacement while MFA is on.
    replacement = portal.mfa.start_enrolment(alice, password=PASSWORD)

    forbidden = [
        *forms_of(enrolment.secret),
        *forms_of(replacement.secret),
        PASSWORD.encode(),
        PASSWORD.encode("utf-16-le"),
        confirm_code.encode(),
        sign_in_code.encode(),
        TYPED_AS_USERNAME.encode(),
        TYPED_AS_USERNAME.lower().encode(),
        *(form for code in recovery for form in recovery_forms(code)),
    ]
    for snapshot in (pending_bytes, raw_database_bytes(db_path)):
        assert snapshot  # the file is really there
        for value in forbidden:
            assert value not in snapshot

    trail = " ".join(
        f"{r.at} {r.event} {r.actor} {r.target} {r.org} {r.source} {r.detail}"
        for r in portal.audit.trail()
    ).lower()
    for text_value in (
        enrolment.secret.lower(),
        replacement.secret.lower(),
        PASSWORD,
        confirm_code,
        sign_in_code,
        "135791",
        TYPED_AS_USERNAME.lower(),
        *(code.lower() for code in recovery),
        *(code.replace("-", "").lower() for code in recovery),
    ):
        assert text_value not in trail

    # After a checkpoint everything is in the main file; still nothing.
    portal.close()
    reopened = open_portal(portal.settings, clock=clock, passwords=passwords)
    try:
        with reopened.engine.begin() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        reopened.close()
    final = raw_database_bytes(db_path)
    assert b"mfa_credentials" in final
    for value in forbidden:
        assert value not in final


def test_a_ciphertext_moved_to_another_account_does_not_decrypt(
    portal: Portal, clock: ManualClock
) -> None:
    alice = create_user(portal, "alice")
    bob = create_user(portal, "bob")
    alice_secret = enrolled(portal, clock, "alice")
    enrolled(portal, clock, "bob")
    with portal.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE mfa_credentials SET secret_ciphertext = "
                "(SELECT secret_ciphertext FROM mfa_credentials WHERE user_id = :alice) "
                "WHERE user_id = :bob"
            ),
            {"alice": alice.id, "bob": bob.id},
        )
    step = portal.sign_in.sign_in(username="bob", password=PASSWORD, source=SOURCE)
    assert isinstance(step, CodeRequired)
    with pytest.raises(SecretKeyError, match="could not be decrypted"):
        portal.sign_in.verify_code(token=step.token, code=code_now(alice_secret, clock))


@pytest.mark.parametrize("keep", [0, 5, 12, 20, 27])
def test_a_truncated_ciphertext_is_the_key_error_not_a_crash(keep: int) -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal("JBSWY3DPEHPK3PXP", user_id=1, credential_id="c1")
    with pytest.raises(SecretKeyError, match="could not be decrypted"):
        box.open(sealed[:keep], user_id=1, credential_id="c1")


def test_secret_box_binds_each_secret_to_its_user_and_credential() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal("JBSWY3DPEHPK3PXP", user_id=1, credential_id="c1")
    assert box.open(sealed, user_id=1, credential_id="c1") == "JBSWY3DPEHPK3PXP"
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    for user_id, credential_id in ((2, "c1"), (1, "c2")):
        with pytest.raises(SecretKeyError):
            box.open(sealed, user_id=user_id, credential_id=credential_id)
    with pytest.raises(SecretKeyError):
        SecretBox(b"x" * 32).open(sealed, user_id=1, credential_id="c1")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretKeyError):
        box.open(tampered, user_id=1, credential_id="c1")
    # A fresh nonce each time.
    assert box.seal("JBSWY3DPEHPK3PXP", user_id=1, credential_id="c1") != sealed


def test_a_different_key_is_refused_with_a_clear_message(
    portal: Portal, db_path: Path, clock: ManualClock, passwords: Passwords
) -> None:
    create_user(portal, "alice")
    portal.close()
    with pytest.raises(SecretKeyError) as raised:
        open_portal(make_settings(db_path, new_key()), clock=clock, passwords=passwords)
    message = str(raised.value)
    assert "not the key this database was set up with" in message
    assert "TUI_PORTAL_SECRET_KEY" in message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("abc", "not urlsafe base64"),
        ("not base64 at all é", "not urlsafe base64"),
        ("!!!!" + encode_key(b"k" * 32)[4:], "not urlsafe base64"),
        (encode_key(b"k" * 32) + "!", "not urlsafe base64"),
        (encode_key(b"k" * 16), "must be 32 bytes"),
        (encode_key(b"k" * 33), "must be 32 bytes"),
        ("", "must be 32 bytes"),
    ],
)
def test_a_malformed_inline_key_is_refused_clearly(
    tmp_path: Path, clock: ManualClock, passwords: Passwords, value: str, words: str
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_source=KeySource(inline_value=value, key_file=tmp_path / "unused.key"),
        issuer="Developer Portal",
    )
    with pytest.raises(SecretKeyError, match=words) as raised:
        open_portal(settings, clock=clock, passwords=passwords)
    assert "$TUI_PORTAL_SECRET_KEY" in str(raised.value)
    assert value == "" or value not in str(raised.value)
    assert not (tmp_path / "unused.key").exists()


def test_a_malformed_key_file_is_refused_clearly(
    tmp_path: Path, clock: ManualClock, passwords: Passwords
) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("definitely-not-a-key\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_source=KeySource(inline_value=None, key_file=key_file),
        issuer="Developer Portal",
    )
    with pytest.raises(SecretKeyError) as raised:
        open_portal(settings, clock=clock, passwords=passwords)
    assert str(key_file) in str(raised.value)
    assert key_file.read_text() == "definitely-not-a-key\n"


def test_decode_key_round_trips() -> None:
    key = bytes(range(32))
    assert decode_key(encode_key(key), "here") == key
    assert decode_key(encode_key(key) + "\n", "here") == key


def test_key_file_and_database_are_created_private(
    tmp_path: Path, clock: ManualClock, passwords: Passwords
) -> None:
    key_file = tmp_path / "config" / "tui-portal" / "secret.key"
    db_file = tmp_path / "data" / "tui-portal" / "portal.db"
    settings = Settings(
        database_url=f"sqlite:///{db_file}",
        key_source=KeySource(inline_value=None, key_file=key_file),
        issuer="Developer Portal",
    )
    portal = open_portal(settings, clock=clock, passwords=passwords)
    portal.close()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    assert len(decode_key(key_file.read_text(), str(key_file))) == 32
    key_text = key_file.read_text()
    # The same key is used next time, and the database accepts it.
    again = open_portal(settings, clock=clock, passwords=passwords)
    again.close()
    assert key_file.read_text() == key_text
    # The key never goes into the database.
    assert key_text.strip().encode() not in raw_database_bytes(db_file)
    assert decode_key(key_text, "file") not in raw_database_bytes(db_file)


def key_file_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'data' / 'portal.db'}",
        key_source=KeySource(inline_value=None, key_file=tmp_path / "config" / "secret.key"),
        issuer="Developer Portal",
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_a_key_file_others_can_read_is_refused(
    tmp_path: Path, clock: ManualClock, passwords: Passwords, mode: int
) -> None:
    settings = key_file_settings(tmp_path)
    open_portal(settings, clock=clock, passwords=passwords).close()
    settings.key_source.key_file.chmod(mode)
    with pytest.raises(SecretKeyError, match="accessible by other users") as raised:
        open_portal(settings, clock=clock, passwords=passwords)
    assert f"chmod 600 {settings.key_source.key_file}" in str(raised.value)
    settings.key_source.key_file.chmod(0o600)
    open_portal(settings, clock=clock, passwords=passwords).close()


def test_a_missing_key_file_is_an_error_once_the_database_has_a_key(
    tmp_path: Path, clock: ManualClock, passwords: Passwords
) -> None:
    settings = key_file_settings(tmp_path)
    portal = open_portal(settings, clock=clock, passwords=passwords)
    create_user(portal, "alice")
    enrolled(portal, clock, "alice")
    portal.close()
    settings.key_source.key_file.unlink()
    with pytest.raises(SecretKeyError, match="is missing") as raised:
        open_portal(settings, clock=clock, passwords=passwords)
    assert "restore" in str(raised.value)
    assert not settings.key_source.key_file.exists()  # never silently replaced
