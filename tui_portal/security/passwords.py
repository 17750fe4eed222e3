"""Password hashing with argon2id (argon2-cffi), with rehash-on-sign-in and equal-cost misses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

# Verified when the username is unknown, so a miss costs the same argon2 work as a hit.
_DUMMY_PASSWORD = "tui-portal: no such account"  # noqa: S105 - not a credential


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking a password: whether it matched and whether to store a new hash."""

    matched: bool
    new_hash: str | None = None


class Passwords:
    """Hashes and verifies passwords with one set of argon2id parameters.

    The default is argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4). Tests
    pass cheaper parameters through ``hasher`` to stay fast; the rules are the same.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
        if self._hasher.type is not Type.ID:
            raise ValueError("passwords must be hashed with argon2id")
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        """A new argon2id PHC string for ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> PasswordCheck:
        """Check ``password`` against ``stored_hash``; offer a new hash if parameters changed."""
        try:
            self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return PasswordCheck(matched=False)
        except UnicodeEncodeError:  # text that is not valid UTF-8 matches no password
            return PasswordCheck(matched=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return PasswordCheck(matched=True, new_hash=self._hasher.hash(password))
        return PasswordCheck(matched=True)

    def burn_equal_time(self, password: str) -> None:
        """Do the work of a verification for an unknown user, and throw the answer away."""
        self.verify(self._dummy_hash, password)


MIN_SALT_BYTES = 8
MIN_HASH_BYTES = 16


_BASE64_UNPADDED = re.compile(r"[A-Za-z0-9+/]+")
# The form argon2 itself writes; anything else goes through argon2-cffi's own parser.
_CANONICAL_PARAMETERS = re.compile(r"v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+")


def _b64_length(text: str) -> int:
    """Bytes encoded by unpadded base64 ``text``, or -1 when it is not such base64."""
    if not _BASE64_UNPADDED.fullmatch(text) or len(text) % 4 == 1:
        return -1
    return len(text) * 3 // 4


def is_argon2_phc(value: str) -> bool:
    """True when ``value`` is a well-formed argon2 PHC string, such as one exported elsewhere.

    It checks the variant, the parameters, and that salt and hash are base64 of sensible
    lengths; it does not (cannot) check which password it was made from. It is cheap: a bulk
    import checks every row with it.
    """
    if not value.startswith(("$argon2id$", "$argon2i$", "$argon2d$")):
        return False
    parts = value.split("$")
    if len(parts) != 6:
        return False
    if not _CANONICAL_PARAMETERS.fullmatch(f"{parts[2]}${parts[3]}"):
        try:
            extract_parameters(value)
        except (InvalidHashError, ValueError):
            return False
    return _b64_length(parts[4]) >= MIN_SALT_BYTES and _b64_length(parts[5]) >= MIN_HASH_BYTES
