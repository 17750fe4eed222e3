"""The rules for what people type: usernames, passwords, display names, emails, organisations.

Each rule returns the cleaned value or raises :class:`InvalidInput` with a message that says
what is wrong, so bad input never reaches the database.
"""

from __future__ import annotations

import re
import unicodedata

from tui_portal.errors import InvalidInput
from tui_portal.security.common_passwords import is_common

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
NAME_MAX = 100
EMAIL_MAX = 254
ORG_NAME_MAX = 100
FILTER_MAX = 100
_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+")
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def username_key(username: str) -> str:
    """The form usernames are compared in: unique without regard to case."""
    return username.lower()


def text_key(text: str) -> str:
    """The case-folded form used for case-insensitive searches and uniqueness."""
    return unicodedata.normalize("NFKC", text).casefold()


_ZERO_WIDTH_JOINER = "\u200d"  # joins emoji sequences; harmless on screen


def is_printable(text: str) -> bool:
    """No control, format (bidi overrides among them), private or unassigned characters,
    and no line or paragraph separators."""
    if text.isascii():  # the common case, decided in C: only ASCII controls are unprintable
        return text.isprintable()
    return all(
        ch == _ZERO_WIDTH_JOINER or unicodedata.category(ch) not in _UNPRINTABLE for ch in text
    )


def check_username(username: str) -> str:
    """1 to 64 of ``A-Z a-z 0-9 . _ @ -``."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "Usernames are 1 to 64 characters of letters A-Z, digits, '.', '_', '@' and '-'"
        )
    return username


COMMON_PASSWORD = "Choose a less common password"  # noqa: S105 - the message people read


def check_password(password: str) -> str:
    """A new password: 8 to 256 characters, no control characters, and not one of the most
    common passwords (compared without regard to case). No other composition rule."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"Passwords are {PASSWORD_MIN} to {PASSWORD_MAX} characters long")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise InvalidInput("Passwords cannot contain control characters")
    if any(unicodedata.category(ch) == "Cs" for ch in password):
        raise InvalidInput("Passwords must be valid UTF-8 text")
    if is_common(password):
        raise InvalidInput(COMMON_PASSWORD)
    return password


def check_display_name(name: str) -> str:
    """Any printable text up to 100 characters; surrounding spaces are dropped."""
    name = name.strip()
    if len(name) > NAME_MAX:
        raise InvalidInput(f"Display names are at most {NAME_MAX} characters")
    if not is_printable(name):
        raise InvalidInput("Display names cannot contain control characters")
    return name


def check_email(email: str) -> str:
    """Empty, or one ``@`` with text either side, printable, up to 254 characters."""
    email = email.strip()
    if not email:
        return ""
    if len(email) > EMAIL_MAX or not is_printable(email) or not _EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput("That email address does not look right (name@example.com)")
    return email


def check_org_name(name: str) -> str:
    """1 to 100 printable characters; surrounding spaces are dropped."""
    name = name.strip()
    if not name or len(name) > ORG_NAME_MAX:
        raise InvalidInput(f"Organisation names are 1 to {ORG_NAME_MAX} characters")
    if not is_printable(name):
        raise InvalidInput("Organisation names cannot contain control characters")
    return name


def check_filter(text: str) -> str:
    """A users-table filter: printable, at most 100 characters; case is ignored."""
    if len(text) > FILTER_MAX or not is_printable(text):
        raise InvalidInput(f"Filters are up to {FILTER_MAX} printable characters")
    return text_key(text.strip())


def check_role(role: str) -> str:
    """``member`` or ``admin``."""
    if role not in ("member", "admin"):
        raise InvalidInput("The role must be 'member' or 'admin'")
    return role
