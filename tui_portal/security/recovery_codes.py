"""Recovery codes: ten single-use codes that complete a sign-in when the phone is lost.

Each code is 80 random bits written as 16 base32 characters in groups of four
(``XXXX-XXXX-XXXX-XXXX``, alphabet ``A-Z`` and ``2-7``), OWASP ASVS 2.6. Only a keyed hash
of each (HMAC-SHA256 with its own random salt, under a key derived from the secrets key) is
stored: at 80 bits a fast keyed hash is enough, and argon2 is not needed. People may type a
code in any letter case, with or without the dashes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from base64 import b32encode

CODES_PER_SET = 10
CODE_BYTES = 10  # 80 bits, 16 base32 characters
SALT_BYTES = 16
LOW_WARNING = 2  # the profile warns at this many codes left, or fewer
_NORMALISED = re.compile(r"[A-Z2-7]{16}")
_SEPARATORS = re.compile(r"[\s-]")


def new_code() -> str:
    """One new code, ``XXXX-XXXX-XXXX-XXXX``."""
    text = b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def new_set() -> tuple[str, ...]:
    """A new set of :data:`CODES_PER_SET` distinct codes."""
    codes: set[str] = set()
    while len(codes) < CODES_PER_SET:
        codes.add(new_code())
    return tuple(sorted(codes))


def normalise(typed: str) -> str | None:
    """The code as stored (upper case, no dashes or spaces), or ``None`` when ``typed``
    cannot be a recovery code at all (checked before any hashing)."""
    if len(typed) > 64:
        return None
    compact = _SEPARATORS.sub("", typed).upper()
    return compact if _NORMALISED.fullmatch(compact) else None


def new_salt() -> bytes:
    """A fresh salt for one stored code."""
    return secrets.token_bytes(SALT_BYTES)


def digest(key: bytes, salt: bytes, normalised: str) -> bytes:
    """The stored form of one code."""
    return hmac.new(key, salt + normalised.encode("ascii"), hashlib.sha256).digest()


def matches(key: bytes, salt: bytes, normalised: str, stored: bytes) -> bool:
    """Whether ``normalised`` is the code behind ``stored``, compared in constant time."""
    return hmac.compare_digest(digest(key, salt, normalised), stored)
