"""The MFA code screen: the 6-digit code from the authenticator app completes sign-in, or,
for someone who lost their phone, one of their recovery codes.

"Use a recovery code" (the button, or ctrl+r) turns the field into a "Recovery code" field
and back. A recovery code is typed in any letter case, with or without its dashes, and
works once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import InvalidRecoveryCode, PortalError
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.sign_in import with_organisations
from tui_portal.screens.styles import beside
from tui_portal.screens.validators import INVALID_CODE, TotpCode, typed_code
from tui_portal.security.recovery_codes import normalise
from tui_portal.services.results import CodeRequired, SignedIn
from tui_portal.widgets.status_line import StatusLine, Tone

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui_portal.services.portal import Portal
    from tui_portal.services.results import Organisation, SignInStep

USE_RECOVERY_CODE = "Use a recovery code"
USE_MFA_CODE = "Use an MFA code"
CODE_HINT = "Enter the 6-digit code from your authenticator app."
RECOVERY_HINT = "Lost your phone? Enter one of your recovery codes (each works once)."
INVALID_RECOVERY_CODE = InvalidRecoveryCode().args[0]


class MfaCodeScreen(Screen[None]):
    """One field for the code; Enter submits; ctrl+r switches to a recovery code and back;
    Escape goes back to the sign-in screen."""

    DEFAULT_CSS = beside(__file__, "mfa_code.tcss")
    AUTO_FOCUS = "#code"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to sign-in", id="back"),
        Binding("ctrl+r", "use_recovery_code", USE_RECOVERY_CODE, id="use-recovery-code"),
        Binding("ctrl+r", "use_mfa_code", USE_MFA_CODE, id="use-mfa-code"),
    ]
    HELP = """\
# MFA code

1. Open the authenticator app on your phone.
2. Find the entry for this portal and type its current **6-digit code**, then press
   **Enter**. A code works once and changes every 30 seconds.
3. If the code is refused, wait for the next one. If codes are always refused, set your
   phone's date and time to update automatically.

**Lost your phone?** Press **ctrl+r** (or select **Use a recovery code**) and type one of
the recovery codes you were given when you enabled MFA, in any letter case, with or
without its dashes. Each code works once; then regenerate a set from your profile and
replace the device. Without a recovery code, press **Escape** and ask an admin of your
organisation or an account manager to disable MFA for you; then sign in with your
password and enrol again.
"""

    def __init__(self, pending: CodeRequired) -> None:
        super().__init__()
        self._pending = pending
        self._busy = False
        self._recovery = False

    @property
    def takes_recovery_code(self) -> bool:
        """Whether the field takes a recovery code (rather than the 6-digit code)."""
        return self._recovery

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="code-box") as box:
            box.border_title = "MFA code"
            yield Label("MFA code", id="code-label")
            yield Static(CODE_HINT, id="code-hint", classes="hint")
            yield Input(
                id="code",
                max_length=16,
                placeholder="123456",
                validators=[TotpCode()],
                validate_on=["submitted"],
            )
            yield Button("Verify", id="verify", variant="primary")
            yield Button(USE_RECOVERY_CODE, id="switch-field", classes="switch", compact=True)
            yield StatusLine(id="message")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_recovery_code":
            return not self._recovery
        if action == "use_mfa_code":
            return self._recovery
        return True

    def action_use_recovery_code(self) -> None:
        """ctrl+r: the field takes a recovery code."""
        self.switch_field()

    def action_use_mfa_code(self) -> None:
        """ctrl+r again: the field takes the 6-digit code."""
        self.switch_field()

    @on(Button.Pressed, "#switch-field")
    def switch_field(self) -> None:
        """Switch the field between the 6-digit code and a recovery code."""
        if self._busy:
            return
        self._recovery = recovery = not self._recovery
        field = self.query_one("#code", Input)
        field.value = ""
        field.validators = [] if recovery else [TotpCode()]
        field.max_length = 40 if recovery else 16
        field.placeholder = "XXXX-XXXX-XXXX-XXXX" if recovery else "123456"
        self.query_one("#code-label", Label).update("Recovery code" if recovery else "MFA code")
        self.query_one("#code-hint", Static).update(RECOVERY_HINT if recovery else CODE_HINT)
        self.query_one("#switch-field", Button).label = (
            USE_MFA_CODE if recovery else USE_RECOVERY_CODE
        )
        self._say("")
        field.focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#verify")
    def _submit(self) -> None:
        if self._busy:
            return
        if self._recovery:
            self._submit_recovery_code()
            return
        field = self.query_one("#code", Input)
        checked = field.validate(field.value)
        if checked is not None and not checked.is_valid:
            self._say(INVALID_CODE)
            return
        code = typed_code(field.value)
        self._check(lambda portal, token: portal.sign_in.verify_code(token=token, code=code))

    def _submit_recovery_code(self) -> None:
        code = self.query_one("#code", Input).value
        if normalise(code) is None:  # cannot be a code: no attempt to spend on it
            self._say(INVALID_RECOVERY_CODE)
            return
        self._check(
            lambda portal, token: portal.sign_in.verify_recovery_code(token=token, code=code)
        )

    def _check(self, verify: Callable[[Portal, str], SignedIn]) -> None:
        """Check what was typed against the pending sign-in, off the event loop."""
        self._set_busy(True)
        self._say("Checking…", "info")
        token = self._pending.token
        call_service(
            self,
            lambda portal: with_organisations(portal, verify(portal, token)),
            self._verified,
            self._failed,
        )

    def _verified(self, outcome: tuple[SignInStep, list[Organisation]]) -> None:
        step, organisations = outcome
        if isinstance(step, SignedIn):
            self.query_one("#code", Input).value = ""
            portal_app(self).signed_in(step, organisations)

    def _failed(self, error: PortalError) -> None:
        self._set_busy(False)
        field = self.query_one("#code", Input)
        field.value = ""
        field.focus()
        self._say(str(error))

    def _set_busy(self, busy: bool) -> None:
        # Only a flag: disabling the fields would restyle the form twice per attempt, on
        # the event loop, while the check's thread runs; a second Enter is ignored instead.
        self._busy = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)

    def action_back(self) -> None:
        """Give up this sign-in and return to the sign-in screen."""
        token = self._pending.token
        call_service(portal_app(self), lambda portal: portal.sign_in.cancel(token=token), _ignore)
        self.dismiss(None)


def _ignore(_result: object) -> None:
    """Cancelling a pending sign-in has nothing to show."""
