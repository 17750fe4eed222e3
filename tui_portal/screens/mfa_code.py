"""The MFA code screen: the 6-digit code from the authenticator app completes sign-in."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import PortalError
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.sign_in import with_organisations
from tui_portal.screens.styles import beside
from tui_portal.screens.validators import INVALID_CODE, TotpCode, typed_code
from tui_portal.services.results import CodeRequired, SignedIn
from tui_portal.widgets.status_line import StatusLine, Tone

if TYPE_CHECKING:
    from tui_portal.services.results import Organisation, SignInStep


class MfaCodeScreen(Screen[None]):
    """One field for the code; Enter submits; Escape goes back to the sign-in screen."""

    DEFAULT_CSS = beside(__file__, "mfa_code.tcss")
    AUTO_FOCUS = "#code"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to sign-in", id="back"),
    ]
    HELP = """\
# MFA code

1. Open the authenticator app on your phone.
2. Find the entry for this portal and type its current **6-digit code**, then press
   **Enter**. A code works once and changes every 30 seconds.
3. If the code is refused, wait for the next one. If codes are always refused, set your
   phone's date and time to update automatically.

Lost your phone? Press **Escape** and ask an admin of your organisation or an account
manager to disable MFA for you; then sign in with your password and enrol again.
"""

    def __init__(self, pending: CodeRequired) -> None:
        super().__init__()
        self._pending = pending
        self._busy = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="code-box") as box:
            box.border_title = "MFA code"
            yield Label("MFA code", id="code-label")
            yield Static("Enter the 6-digit code from your authenticator app.", classes="hint")
            yield Input(
                id="code",
                max_length=16,
                placeholder="123456",
                validators=[TotpCode()],
                validate_on=["submitted"],
            )
            yield Button("Verify", id="verify", variant="primary")
            yield StatusLine(id="message")
        yield Footer()

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#verify")
    def _submit(self) -> None:
        if self._busy:
            return
        field = self.query_one("#code", Input)
        checked = field.validate(field.value)
        if checked is not None and not checked.is_valid:
            self._say(INVALID_CODE)
            return
        code = typed_code(field.value)
        self._set_busy(True)
        self._say("Checking…", "info")
        token = self._pending.token
        call_service(
            self,
            lambda portal: with_organisations(
                portal, portal.sign_in.verify_code(token=token, code=code)
            ),
            self._verified,
            self._failed,
        )

    def _verified(self, outcome: tuple[SignInStep, list[Organisation]]) -> None:
        step, organisations = outcome
        if isinstance(step, SignedIn):
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
