"""The one rule for a typed MFA code, as a validator the code fields share."""

from __future__ import annotations

from textual.validation import ValidationResult, Validator

from tui_portal.security.totp import is_well_formed

INVALID_CODE = "Invalid MFA code"


def typed_code(value: str) -> str:
    """A code as typed, without the spaces some people put in the middle."""
    return value.replace(" ", "")


class TotpCode(Validator):
    """Six ASCII digits (spaces allowed between them), as :func:`totp.is_well_formed` says."""

    def __init__(self) -> None:
        super().__init__(failure_description=INVALID_CODE)

    def validate(self, value: str) -> ValidationResult:
        """Whether ``value`` is a well-formed code."""
        return self.success() if is_well_formed(typed_code(value)) else self.failure()
