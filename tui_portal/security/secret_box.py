"""TOTP secrets at rest: AES-256-GCM with associated data binding each secret to its owner.

The key is 32 bytes, given as urlsafe base64 in ``TUI_PORTAL_SECRET_KEY`` or kept in a key
file created on first use with mode 0600 (a key file others can read is refused). It never
goes into the database; the database holds only a fingerprint, so a wrong key is caught with
a clear message before any secret is touched, and a missing key file is an error once the
database has been set up with a key. Other keys (for throttle subjects, the audit chain and
recovery codes) are derived from it, one per purpose.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tui_portal.config import SECRET_KEY_ENV, KeySource
from tui_portal.errors import SecretKeyError

KEY_BYTES = 32
NONCE_BYTES = 12
_FINGERPRINT_CONTEXT = b"tui-portal secrets key fingerprint v1"


def decode_key(text: str, where: str) -> bytes:
    """Decode a urlsafe-base64 key of exactly 32 bytes, or say clearly what is wrong."""
    try:
        key = base64.b64decode(text.strip().encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise SecretKeyError(f"the secrets key in {where} is not urlsafe base64") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(
            f"the secrets key in {where} must be {KEY_BYTES} bytes (urlsafe base64), not {len(key)}"
        )
    return key


def encode_key(key: bytes) -> str:
    """The urlsafe-base64 text form of a key."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def check_private(path: Path, what: str) -> None:
    """Refuse a key file that other users can read or write, as OpenSSH refuses such keys."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise SecretKeyError(f"cannot read {what} {path}: {error.strerror}") from None
    if mode & 0o077:
        raise SecretKeyError(
            f"{what} {path} is accessible by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )


def load_key(source: KeySource, *, create: bool) -> bytes:
    """The key from the environment, else from the key file.

    ``create`` says whether a missing key file may be made (a new, random key, mode 0600):
    only while the database holds nothing sealed with an earlier key. Otherwise a missing
    file is an error, never silently replaced.
    """
    if source.inline_value is not None:
        return decode_key(source.inline_value, f"${SECRET_KEY_ENV}")
    path = source.key_file
    if path.exists():
        check_private(path, "the secrets key file")
        try:
            return decode_key(path.read_text(encoding="ascii"), str(path))
        except (OSError, UnicodeDecodeError) as error:
            raise SecretKeyError(f"cannot read the secrets key file {path}: {error}") from None
    if not create:
        raise SecretKeyError(
            f"the secrets key file {path} is missing, but this database was set up with a "
            f"key; restore the file from your backup (or set {SECRET_KEY_ENV})"
        )
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_key(source, create=False)
    except OSError as error:
        raise SecretKeyError(f"cannot create the secrets key file {path}: {error}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
    return key


def derive_key(key: bytes, purpose: str) -> bytes:
    """A key for one purpose (throttle subjects, the audit chain, recovery codes), derived
    from the secrets key, so that no two uses ever share a key."""
    return hmac.new(key, f"tui-portal/{purpose}/v1".encode(), hashlib.sha256).digest()


class SecretBox:
    """Encrypts and decrypts TOTP secrets; each ciphertext is bound to a user and credential."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"the secrets key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.fingerprint = hmac.new(key, _FINGERPRINT_CONTEXT, hashlib.sha256).hexdigest()

    @staticmethod
    def _associated_data(user_id: int, credential_id: str) -> bytes:
        return f"tui-portal/totp-secret/v1/user={user_id}/credential={credential_id}".encode()

    def seal(self, secret: str, *, user_id: int, credential_id: str) -> bytes:
        """Encrypt ``secret``: a fresh 96-bit nonce, then ciphertext and tag."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        data = self._associated_data(user_id, credential_id)
        return nonce + self._aead.encrypt(nonce, secret.encode("ascii"), data)

    def open(self, sealed: bytes, *, user_id: int, credential_id: str) -> str:
        """Decrypt a secret sealed for exactly this user and credential, or raise."""
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            if len(nonce) != NONCE_BYTES:  # truncated: not something this box sealed
                raise InvalidTag()
            plain = self._aead.decrypt(
                nonce, ciphertext, self._associated_data(user_id, credential_id)
            )
        except (InvalidTag, ValueError):
            raise SecretKeyError(
                "an MFA secret could not be decrypted: it belongs to another account, or "
                "the secrets key is not the one it was stored with"
            ) from None
        return plain.decode("ascii")

    def matches_fingerprint(self, stored: str) -> bool:
        """True when ``stored`` is this key's fingerprint."""
        return hmac.compare_digest(stored, self.fingerprint)


def describe_mismatch(source: KeySource) -> str:
    """The message for a key that is not the database's."""
    return (
        f"the secrets key from {source.describe()} is not the key this database was set up "
        f"with; set {SECRET_KEY_ENV} or TUI_PORTAL_KEY_FILE to the right key"
    )
