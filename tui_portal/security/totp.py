"""TOTP (RFC 6238) for authenticator apps: secrets, otpauth URIs, and the one acceptance rule.

Codes are SHA1, 6 digits, 30-second steps: what every authenticator app supports. A code is
accepted when it is exactly six ASCII digits and matches the current step or one step either
side, and only for a step newer than the last one accepted (replay protection; the database
enforces the same rule with one conditional UPDATE).
"""

from __future__ import annotations

import hmac
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote

import pyotp

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
ACCEPT_WINDOW = 1  # steps either side of now
SKEW_HINT_WINDOW = 10  # steps either side searched for a clock-skew hint
_CODE_PATTERN = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """A new random 160-bit secret, base32 without padding (what authenticator apps expect)."""
    return b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://totp/ISSUER:USERNAME?secret=…`` URI for an authenticator app.

    Everything the apps need and nothing more, because a shorter URI makes a smaller QR
    code, and an 80x24 terminal has room for one of at most 41 modules: SHA1, 6 digits and
    30 s are every app's defaults, and the issuer is the label's prefix (which every app
    reads) rather than a repeated ``issuer=`` parameter. That keeps usernames of up to about
    30 characters within a QR code of version 5 under the default issuer.
    """
    label = quote(f"{issuer}:{username}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}"


def group_secret(secret: str) -> str:
    """The secret in groups of four for typing by hand: ``ABCD EFGH …``."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def time_step(unix_time: float) -> int:
    """The RFC 6238 time step that ``unix_time`` falls in."""
    return int(unix_time // STEP_SECONDS)


def code_at_step(secret: str, step: int) -> str:
    """The code an authenticator shows during ``step``."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def is_well_formed(code: str) -> bool:
    """Exactly six ASCII digits; anything else is refused before any HMAC is computed."""
    return _CODE_PATTERN.fullmatch(code) is not None


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on one code.

    ``step`` is the matched time step when accepted. ``skew_steps`` is set when the code was
    wrong for now but right for a step 2 to 10 steps away: positive when the device is fast.
    """

    accepted: bool
    step: int | None = None
    replayed: bool = False
    malformed: bool = False
    skew_steps: int | None = None

    @property
    def skew_seconds(self) -> int | None:
        """The apparent device clock offset in seconds, when there is a hint."""
        return None if self.skew_steps is None else self.skew_steps * STEP_SECONDS


def check_code(
    secret: str, code: str, unix_time: float, last_step: int, *, look_for_skew: bool = False
) -> CodeCheck:
    """Decide whether ``code`` is accepted at ``unix_time`` given the last accepted step."""
    if not is_well_formed(code):
        return CodeCheck(accepted=False, malformed=True)
    now = time_step(unix_time)
    matched: int | None = None
    # Compare every candidate in constant time, without stopping at the first match.
    for offset in range(-ACCEPT_WINDOW, ACCEPT_WINDOW + 1):
        if hmac.compare_digest(code_at_step(secret, now + offset), code) and matched is None:
            matched = now + offset
    if matched is not None:
        if matched <= last_step:
            return CodeCheck(accepted=False, step=matched, replayed=True)
        return CodeCheck(accepted=True, step=matched)
    if look_for_skew:
        for distance in range(ACCEPT_WINDOW + 1, SKEW_HINT_WINDOW + 1):
            for offset in (distance, -distance):
                if hmac.compare_digest(code_at_step(secret, now + offset), code):
                    return CodeCheck(accepted=False, skew_steps=offset)
    return CodeCheck(accepted=False)
