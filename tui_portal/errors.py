"""Every error a person may see, and the one place that turns an error into words.

This module sits below everything else: the data layer, the security rules, the services,
the command line and the terminal UI all raise these and all use :func:`message_for`, so a
failure reads the same wherever it surfaces. Each message is safe to show and holds no
secret: no password, code, key or database password is ever part of one.
"""

from __future__ import annotations

from typing import Literal

Audience = Literal["operator", "person"]
"""Who reads a message: the operator at a shell, or a person signing in to the portal."""


class PortalError(Exception):
    """Base of every error a person may see; ``str(error)`` is the message to show."""


class InvalidInput(PortalError):
    """Input that breaks a rule (length, characters, format); nothing was changed."""


class NotFound(PortalError):
    """The named user or organisation does not exist."""


class AlreadyExists(PortalError):
    """A user or organisation with that name (in any letter case) exists already."""


class NothingToChange(PortalError):
    """The change asked for is already the case (MFA off already, the role held already)."""


class PermissionDenied(PortalError):
    """The signed-in person may not do this; checked in the services, not by hiding a button."""


class MfaRequiredByPolicy(PermissionDenied):
    """A person may not turn off their own MFA while an organisation of theirs requires it."""

    def __init__(self, organisations: tuple[str, ...]) -> None:
        names = " and ".join(organisations)
        verb = "requires" if len(organisations) == 1 else "require"
        super().__init__(
            f"{names} {verb} MFA, so it cannot be disabled. For a new phone, use Replace "
            "device; if the phone is lost, an admin can reset it."
        )
        self.organisations = organisations


class OnlyAccountManagerCanReset(PermissionDenied):
    """An admin tried to reset an account that only an account manager or operator may."""

    def __init__(self) -> None:
        super().__init__("Only an account manager can reset this account")


class SessionEnded(PermissionDenied):
    """The session acting has ended: signed out elsewhere, revoked, or past its lifetime."""

    def __init__(self) -> None:
        super().__init__("You have been signed out")


class InvalidCredentials(PortalError):
    """Sign-in failed. One message for every cause, so nothing is learned from it."""

    def __init__(self) -> None:
        super().__init__("Invalid username or password")


class InvalidCode(PortalError):
    """A wrong, expired or reused MFA code; during enrolment it may carry a clock hint."""

    def __init__(self, skew_seconds: int | None = None) -> None:
        super().__init__("Invalid MFA code")
        self.skew_seconds = skew_seconds

    @property
    def clock_hint(self) -> str | None:
        """Advice when the code matched a time a little way off: the phone clock drifts."""
        if self.skew_seconds is None:
            return None
        direction = "fast" if self.skew_seconds > 0 else "slow"
        return (
            f"Your device clock looks about {abs(self.skew_seconds)} seconds {direction}. "
            "Set the phone's date and time to update automatically, then try a new code."
        )


class InvalidRecoveryCode(PortalError):
    """A recovery code that is wrong, malformed or used already."""

    def __init__(self) -> None:
        super().__init__("Invalid recovery code")


class IncorrectPassword(PortalError):
    """The password given to confirm a sensitive change was wrong."""

    def __init__(self) -> None:
        super().__init__("Incorrect password")


class Throttled(PortalError):
    """Too many failed attempts; ``retry_after`` seconds must pass before the next one."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts. Try again in {describe_wait(retry_after)}.")
        self.retry_after = retry_after


class Locked(PortalError):
    """The account (or the name typed) is locked after too many failures in a row."""

    def __init__(self) -> None:
        super().__init__("Locked: ask an administrator")


class EnrolmentExpired(PortalError):
    """The pending authenticator was not confirmed in time, or was replaced."""

    def __init__(self) -> None:
        super().__init__("This enrolment has expired. Start again to get a new QR code.")


class DatabaseError(PortalError):
    """The database cannot be opened or reached; the message says which and why."""


class SecretKeyError(PortalError):
    """The secrets key is missing, malformed, unreadable, or not the one the database expects."""


PERSON_KEY_MESSAGE = "The portal cannot read its MFA keys right now. Please tell an administrator."
PERSON_DATABASE_MESSAGE = "The portal's database is not available right now. Please try later."
UNEXPECTED_MESSAGE = "Something went wrong. Nothing was changed; please try again."


def describe_wait(seconds: int) -> str:
    """A wait in words: ``1 second``, ``40 seconds``, ``3 minutes``."""
    if seconds < 120:
        return f"{seconds} second" + ("" if seconds == 1 else "s")
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def message_for(error: BaseException, *, audience: Audience = "operator") -> str:
    """The words for ``error``, on one line.

    Operators read the whole reason (which file, which variable). A person signing in reads
    a plain sentence instead where the reason is the operator's to fix (the secrets key,
    the database). Anything that is not a :class:`PortalError` is unexpected: its details
    may hold data, so only its kind is named, and only to the operator.
    """
    if isinstance(error, SecretKeyError) and audience == "person":
        return PERSON_KEY_MESSAGE
    if isinstance(error, DatabaseError) and audience == "person":
        return PERSON_DATABASE_MESSAGE
    if isinstance(error, PortalError):
        return one_line(str(error))
    if audience == "person":
        return UNEXPECTED_MESSAGE
    return f"unexpected {error.__class__.__name__}"


def one_line(message: str) -> str:
    """Driver messages (libpq's among them) can span lines; a message here is one line."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())
