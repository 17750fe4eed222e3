"""The Enable MFA screen: scan the QR code (or type the key), then confirm with a code.

Everything fits an 80x24 terminal: the QR code on the left, drawn in half-blocks black on
white; on the right the advice, the key in groups of four, the "Authenticator code" field
and Submit. Once a code confirms the authenticator, the QR code and the key leave the
screen, and a copy of the key in the clipboard is cleared.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import InvalidCode, PortalError
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.screens.validators import INVALID_CODE, TotpCode, typed_code
from tui_portal.security.totp import group_secret
from tui_portal.services.results import Enrolment, MfaEnabled
from tui_portal.widgets.qr import QrCode, QrRenderings, qr_renderings
from tui_portal.widgets.status_line import StatusLine, Tone

ENABLED = "MFA is now enabled"
EnrolmentShown = tuple[Enrolment, QrRenderings]
"""A pending enrolment with its QR code already drawn (off the event loop)."""


def with_qr_code(enrolment: Enrolment) -> EnrolmentShown:
    """``enrolment`` and its QR code, drawn in the caller's thread."""
    return enrolment, qr_renderings(enrolment.uri)


class EnableMfaScreen(SignedInScreen):
    """Shows one pending enrolment until a correct code turns it on."""

    DEFAULT_CSS = beside(__file__, "enable_mfa.tcss")
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

    def __init__(self, enrolment: Enrolment, renderings: QrRenderings | None = None) -> None:
        super().__init__()
        self._enrolment: Enrolment | None = enrolment
        self._renderings = renderings
        self._heading = "Replace device" if enrolment.replaces_existing else "Enable MFA"
        self._busy = False
        self._copied = False

    def compose(self) -> ComposeResult:
        enrolment = self._enrolment
        assert enrolment is not None
        yield self.top_bar()
        with Horizontal(id="enrol-body"):
            yield QrCode(enrolment.uri, id="qr", renderings=self._renderings)
            with Vertical(id="enrol-side"):
                yield Label(self._heading, id="enrol-title")
                yield Static(
                    "1. Install an authenticator app (Google Authenticator, Microsoft "
                    "Authenticator, 1Password, Authy). Set the phone's time to automatic.",
                    classes="step",
                )
                yield Static("2. Scan the QR code, or type this key:", classes="step")
                yield Static(Content(group_secret(enrolment.secret)), id="secret-key")
                yield Label("Authenticator code", id="code-label")
                yield Input(
                    id="authenticator-code",
                    max_length=16,
                    placeholder="6 digits",
                    validators=[TotpCode()],
                    validate_on=["submitted"],
                )
                yield Button("Submit", id="submit", variant="primary")
                yield StatusLine(id="enrol-message")
        yield Footer()

    @property
    def shows_secret(self) -> bool:
        """Whether the QR code and the key are on screen (until MFA is enabled)."""
        return self._enrolment is not None

    @on(Input.Submitted, "#authenticator-code")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        enrolment, session = self._enrolment, self.session
        if enrolment is None:  # the button now reads "Back to profile"
            self.dismiss(None)
            return
        if self._busy or session is None:
            return
        field = self.query_one("#authenticator-code", Input)
        checked = field.validate(field.value)
        if checked is not None and not checked.is_valid:
            self._say(f"{INVALID_CODE}: the authenticator code is 6 digits")
            return
        code = typed_code(field.value)
        self._set_busy(True)
        self._say("Checking…", "info")
        caller, credential_id = session.caller, enrolment.credential_id
        call_service(
            self,
            lambda portal: portal.mfa.confirm_enrolment(
                caller, credential_id=credential_id, code=code
            ),
            self._enabled,
            self._failed,
        )

    def _enabled(self, enabled: MfaEnabled) -> None:
        self._forget_secret()
        self._set_busy(False)
        portal_app(self).account_changed(enabled.account)
        self.query_one("#authenticator-code", Input).disabled = True
        submit = self.query_one("#submit", Button)
        submit.label = "Back to profile"
        submit.focus()
        self._say(ENABLED, "success")

    def _forget_secret(self) -> None:
        """Take the QR code and the key off the screen, and out of the clipboard."""
        self._enrolment = self._renderings = None
        self.query_one("#qr", QrCode).remove()
        self.query_one("#secret-key", Static).update("")
        for step in self.query(".step").results(Static):
            step.display = False
        if self._copied:
            self._copied = False
            self.app.copy_to_clipboard("")

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
        if self._enrolment is None:
            return
        self.app.copy_to_clipboard(self._enrolment.secret)
        self._copied = True
        self.notify("Key copied to the clipboard")

    def action_back(self) -> None:
        """Leave without enabling (the pending enrolment expires by itself)."""
        if self._busy:
            return
        if self._copied:
            self._copied = False
            self.app.copy_to_clipboard("")
        self.dismiss(None)

    def _set_busy(self, busy: bool) -> None:
        # Only a flag: disabling the fields would restyle the form twice per attempt, on
        # the event loop, while the check's thread runs; a second Enter is ignored instead.
        self._busy = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)
