"""The Enable MFA screen: scan the QR code (or type the key), then confirm with a code.

Everything fits an 80x24 terminal: the QR code on the left, drawn in half-blocks black on
white; on the right the advice, the key in groups of four, the "Authenticator code" field
and Submit.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import InvalidCode, PortalError
from tui_portal.screens.service_calls import ServiceCalls
from tui_portal.security.totp import group_secret
from tui_portal.services.results import Account, Enrolment
from tui_portal.widgets.qr import QrCode
from tui_portal.widgets.status_line import StatusLine, Tone
from tui_portal.widgets.top_bar import TopBar


class EnableMfaScreen(Screen[None], ServiceCalls):
    """Shows one pending enrolment until a correct code turns it on."""

    CSS_PATH = "enable_mfa.tcss"
    AUTO_FOCUS = "#authenticator-code"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+y", "copy_key", "Copy key", id="copy-key"),
        Binding("escape", "back", "Back", id="back"),
    ]
    HELP = """\
# Enable MFA

1. Install an authenticator app on your phone: Google Authenticator, Microsoft
   Authenticator, 1Password, Authy or any other TOTP app. Set the phone's date and time
   to update automatically: codes depend on the clock.
2. In the app, add an account and scan the QR code. If you cannot scan it, choose to
   enter a key and type the key shown under the code (ctrl+y copies it).
3. Type the 6-digit **Authenticator code** the app shows and select **Submit**.
4. When the portal says **MFA is now enabled**, the next sign-in asks for a code.

The QR code expires after 10 minutes; go back and start again for a new one.
If the portal says your device clock looks fast or slow, fix the phone's time and try a
new code.
"""

    def __init__(self, enrolment: Enrolment) -> None:
        super().__init__()
        self._enrolment = enrolment
        self._busy = False
        self._done = False

    def compose(self) -> ComposeResult:
        enrolment = self._enrolment
        yield TopBar(self.portal_app)
        with Horizontal(id="enrol-body"):
            yield QrCode(enrolment.uri, id="qr")
            with Vertical(id="enrol-side"):
                title = "Replace device" if enrolment.replaces_existing else "Enable MFA"
                yield Label(title, id="enrol-title")
                yield Static(
                    "1. Install an authenticator app (Google Authenticator, Microsoft "
                    "Authenticator, 1Password, Authy). Set the phone's time to automatic.",
                    classes="step",
                )
                yield Static("2. Scan the QR code, or type this key:", classes="step")
                yield Static(Text(group_secret(enrolment.secret)), id="secret-key")
                yield Label("Authenticator code", id="code-label")
                yield Input(id="authenticator-code", max_length=16, placeholder="6 digits")
                yield Button("Submit", id="submit", variant="primary")
                yield StatusLine(id="enrol-message")
        yield Footer()

    @on(Input.Submitted, "#authenticator-code")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        if self._done:  # the button now reads "Back to profile"
            self.dismiss(None)
            return
        if self._busy:
            return
        code = self.query_one("#authenticator-code", Input).value.replace(" ", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            self._say("Invalid MFA code: the authenticator code is 6 digits")
            return
        self._set_busy(True)
        self._say("Checking…", "info")
        enrolment = self._enrolment
        caller = self.portal_app.caller
        assert caller is not None
        self.call_service(
            lambda portal: (
                portal.mfa.confirm_enrolment(
                    caller, credential_id=enrolment.credential_id, code=code
                ).account
            ),
            self._enabled,
            self._failed,
        )

    def _enabled(self, account: Account) -> None:
        self._done = True
        self._set_busy(False)
        self.portal_app.refresh_account(account)
        self.query_one("#authenticator-code", Input).disabled = True
        submit = self.query_one("#submit", Button)
        submit.label = "Back to profile"
        submit.disabled = False
        submit.focus()
        self._say("MFA is now enabled", "success")

    def _failed(self, error: PortalError) -> None:
        self._set_busy(False)
        field = self.query_one("#authenticator-code", Input)
        field.value = ""
        field.focus()
        message = str(error)
        if isinstance(error, InvalidCode) and error.clock_hint:
            message = f"{message}. {error.clock_hint}"
        self._say(message)

    def action_copy_key(self) -> None:
        """Copy the key to the clipboard (terminals that support OSC 52)."""
        self.app.copy_to_clipboard(self._enrolment.secret)
        self.notify("Key copied to the clipboard")

    def action_back(self) -> None:
        """Leave without enabling (the pending enrolment expires by itself)."""
        if not self._busy:
            self.dismiss(None)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.query_one("#authenticator-code", Input).disabled = busy
        self.query_one("#submit", Button).disabled = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)
