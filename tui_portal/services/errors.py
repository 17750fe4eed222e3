"""The errors services raise. Each message is safe to show a person and holds no secret."""

from __future__ import annotations


class PortalError(Exception):
    """Base of every error a person may see; ``str(error)`` is the message to show."""


class InvalidInput(PortalError):
    """Input that breaks a rule (length, characters, format); nothing was changed."""


class NotFound(PortalError):
    """The named user or organisation does not exist."""


class AlreadyExists(PortalError):
    """A user or organisation with that name (in any letter case) exists already."""


class PermissionDenied(PortalError):
    """The signed-in person may not do this; checked here, not only by hiding a button."""


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


class IncorrectPassword(PortalError):
    """The password given to confirm a sensitive change was wrong."""

    def __init__(self) -> None:
        super().__init__("Incorrect password")


class Throttled(PortalError):
    """Too many failed attempts; ``retry_after`` seconds must pass before the next one."""

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Too many failed attempts. Try again in {retry_after} {unit}.")
        self.retry_after = retry_after


class EnrolmentExpired(PortalError):
    """The pending authenticator was not confirmed in time, or was replaced."""

    def __init__(self) -> None:
        super().__init__("This enrolment has expired. Start again to get a new QR code.")
