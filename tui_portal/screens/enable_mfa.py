"""The Enable MFA screen: scan the QR code (or type the key), then confirm with a code.

Everything fits an 80x24 terminal: the QR code on the left, drawn in half-blocks black on
white; on the right the advice, the key in groups of four, the "Authenticator code" field
and Submit. Once a code confirms the authenticator, the QR code and the key leave the
screen, and a copy of the key in the clipboard is cleared; a first authenticator comes
with a set of recovery codes, shown next on their own screen.

When an organisation requires MFA of a person who has none, this is the screen they sign
in to (:meth:`EnableMfaScreen.required`): it says "NAME requires MFA", makes its own
enrolment once it is up, and Escape signs out, since there is nowhere else to go back to.
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
from tui_portal.screens.recovery_codes import RecoveryCodesScreen
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
        Binding("escape", "sign_out", "Sign out", id="sign-out"),
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

A first authenticator comes with ten **recovery codes**, shown next: keep them safe,
they sign you in if you lose your phone.

The QR code expires after 10 minutes; go back and start again for a new one.
If the portal says your device clock looks fast or slow, fix the phone's time and try a
new code.

When an organisation you belong to **requires MFA**, you can use the portal once MFA is
enabled; until then **Escape** signs you out.
"""

    def __init__(
        self,
        enrolment: Enrolment | None,
        renderings: QrRenderings | None = None,
        *,
        required_by: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self._enrolment: Enrolment | None = enrolment
        self._renderings = renderings
        self._required_by = required_by
        replacing = enrolment is not None and enrolment.replaces_existing
        self._heading = "Replace device" if replacing else "Enable MFA"
        self._preparing = enrolment is None
        self._busy = False
        self._copied = False

    @classmethod
    def required(cls, organisations: tuple[str, ...]) -> EnableMfaScreen:
        """The screen a session starts on when ``organisations`` require MFA of it."""
        return cls(None, required_by=organisations)

    @property
    def required_by(self) -> tuple[str, ...]:
        """The organisations that require this enrolment (none when the person chose it)."""
        return self._required_by

    def on_mount(self) -> None:
        if self._preparing:
            self._start_enrolment()

    def _start_enrolment(self) -> None:
        session = self.session
        if session is None:
            return
        caller = session.caller
        call_service(
            self,
            lambda portal: with_qr_code(portal.mfa.start_enrolment(caller)),
            self._enrolment_started,
            lambda error: self._say(str(error)),
        )

    def _enrolment_started(self, shown: EnrolmentShown) -> None:
        self._enrolment, self._renderings = shown
        self._preparing = False
        self.call_later(self._show_enrolment)

    async def _show_enrolment(self) -> None:
        await self.recompose()
        self.query_one("#authenticator-code", Input).focus()

    def compose(self) -> ComposeResult:
        enrolment = self._enrolment
        yield self.top_bar()
        with Horizontal(id="enrol-body"):
            if enrolment is not None:
                yield QrCode(enrolment.uri, id="qr", renderings=self._renderings)
            with Vertical(id="enrol-side"):
                yield Label(self._heading, id="enrol-title")
                for name in self._required_by:
                    yield Static(Content(f"{name} requires MFA"), classes="required")
                if enrolment is None:
                    message = StatusLine(id="enrol-message")
                    message.say("Preparing your QR code…", "info")
                    yield message
                    return
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
            self._leave()
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
        app = portal_app(self)
        app.account_changed(enabled.account)
        if self._required_by:
            app.enrolment_completed()
        codes = enabled.recovery_codes
        if codes is not None:  # a first authenticator: its recovery codes, this once
            self.app.switch_screen(RecoveryCodesScreen(codes, heading=ENABLED))
            return
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        enrolling = self._required_by and self._enrolment_needed()
        if action == "back":
            return not enrolling
        if action == "sign_out":
            return bool(enrolling)
        return True

    def _enrolment_needed(self) -> bool:
        session = self.session
        return session is not None and session.must_enrol

    def action_back(self) -> None:
        """Leave without enabling (the pending enrolment expires by itself)."""
        if self._busy:
            return
        if self._copied:
            self._copied = False
            self.app.copy_to_clipboard("")
        self._leave()

    def action_sign_out(self) -> None:
        """Sign out: a session that must enrol first has nowhere else to go."""
        portal_app(self).sign_out()

    def _leave(self) -> None:
        if self._required_by:  # this was the first screen: the profile comes next
            portal_app(self).open_profile()
        else:
            self.dismiss(None)

    def _set_busy(self, busy: bool) -> None:
        # Only a flag: disabling the fields would restyle the form twice per attempt, on
        # the event loop, while the check's thread runs; a second Enter is ignored instead.
        self._busy = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)
