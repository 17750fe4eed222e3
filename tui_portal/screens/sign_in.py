"""The sign-in screen: username and password, then on to the MFA code when the account has it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label

from tui_portal.errors import PortalError
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.styles import beside
from tui_portal.widgets.status_line import StatusLine, Tone

if TYPE_CHECKING:
    from textual.widgets import Button, DataTable

    from tui_portal.services.portal import Portal
    from tui_portal.services.results import Organisation, SignInStep

# The results module and DataTable (only the demo's account list uses it) are imported
# where they are used: the sign-in screen is the first frame, and start-up waits for its
# imports.

INVALID_CREDENTIALS = "Invalid username or password"


def with_organisations(portal: Portal, step: SignInStep) -> tuple[SignInStep, list[Organisation]]:
    """A sign-in step, with the organisations the top bar's picker offers once signed in
    (none while the session may do nothing but enrol MFA)."""
    from tui_portal.services.results import SignedIn

    if isinstance(step, SignedIn) and not step.account.mfa_required_by:
        return step, portal.members.picker_organisations(step.caller)
    return step, []


class SignInScreen(Screen[None]):
    """Username, masked password, and the Sign in button; Enter moves on, then submits."""

    DEFAULT_CSS = beside(__file__, "sign_in.tcss")
    AUTO_FOCUS = "#username"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", show=False),
        # A priority binding moves focus at once, so keys typed right after Enter land in
        # the password field even when they arrive together (fast typists, scripts).
        # ctrl+j is Enter typed before the app took the terminal over: until then the
        # terminal is in its line mode, which turns a carriage return into a newline.
        Binding("enter,ctrl+j", "next_field", "Next", show=False, priority=True),
    ]
    HELP = """\
# Sign in

1. Type your **Username** and press **Enter**.
2. Type your **Password** and press **Enter** (or select **Sign in**).
3. If your account has MFA, the next screen asks for the **6-digit code** from your
   authenticator app.

If you lost your authenticator, ask an admin of your organisation or an account manager
to disable MFA for you; then sign in with your password alone and enrol again.
"""

    def __init__(self, *, message: str = "") -> None:
        super().__init__()
        self._busy = False
        self._message = message

    def compose(self) -> ComposeResult:
        app = portal_app(self)
        with Center(), Vertical(id="sign-in-box") as box:
            box.border_title = "Sign in"
            yield Label("Username", classes="field-label")
            yield Input(id="username", max_length=64, placeholder="username", compact=True)
            yield Label("Password", classes="field-label")
            yield Input(
                id="password",
                password=True,
                max_length=256,
                placeholder="password",
                compact=True,
            )
            status = StatusLine(id="message")
            if self._message:
                status.say(self._message, "info")
            yield status
        if app.demo_accounts:
            from textual.widgets import DataTable

            with Center(), Vertical(id="demo-box") as demo:
                demo.border_title = "Demo accounts"
                # Rich Text, not Content: DataTable measures its cells by Text (both literal).
                table: DataTable[Text] = DataTable(id="demo-accounts", cursor_type="row")
                table.add_columns("Username", "Password", "Try")
                for username, password, note in app.demo_accounts:
                    table.add_row(Text(username), Text(password), Text(note), key=username)
                yield table

    def on_mount(self) -> None:
        # The button and the footer come right after the first frame: the form a person
        # reads first is drawn without waiting for their styles.
        self.call_after_refresh(self._add_button_and_footer)

    async def _add_button_and_footer(self) -> None:
        from textual.widgets import Button, Footer

        if not self.is_attached:  # the app is already closing
            return
        await self.query_one("#sign-in-box").mount(
            Button("Sign in", id="sign-in", variant="primary", compact=True),
            before="#message",
        )
        await self.mount(Footer())
        self.refresh_bindings()  # the footer shows the keys once it hears of them

    def action_next_field(self) -> None:
        """Enter in Username moves to Password; Enter in Password signs in."""
        username = self.query_one("#username", Input)
        password = self.query_one("#password", Input)
        if self.focused is username:
            self.set_focus(password)
        elif self.focused is password:
            # Submit once the field has taken every key typed before this Enter.
            password.call_later(self._submit)
        else:
            raise SkipAction()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The Sign in button signs in, as Enter in Password does."""
        if event.button.id == "sign-in":
            self._submit()

    def _submit(self) -> None:
        if self._busy:
            return
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username or not password:
            self._say(INVALID_CREDENTIALS)
            return
        self._set_busy(True)
        self._say("Signing in…", "info")
        source = portal_app(self).source
        call_service(
            self,
            lambda portal: with_organisations(
                portal,
                portal.sign_in.sign_in(username=username, password=password, source=source),
            ),
            self._signed_in,
            self._failed,
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A demo account chosen in the list fills in the form."""
        if event.data_table.id != "demo-accounts":
            return
        for username, password, _note in portal_app(self).demo_accounts:
            if username == event.row_key.value:
                self.query_one("#username", Input).value = username
                self.query_one("#password", Input).value = password
                self.query_one("#password", Input).focus()

    def _signed_in(self, outcome: tuple[SignInStep, list[Organisation]]) -> None:
        from tui_portal.screens.mfa_code import MfaCodeScreen
        from tui_portal.services.results import SignedIn

        step, organisations = outcome
        self._set_busy(False)
        self.query_one("#password", Input).value = ""
        self._say("")
        if isinstance(step, SignedIn):
            portal_app(self).signed_in(step, organisations)
        else:
            self.app.push_screen(MfaCodeScreen(step))

    def _failed(self, error: PortalError) -> None:
        self._set_busy(False)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()
        self._say(str(error))

    def _set_busy(self, busy: bool) -> None:
        # Only a flag: disabling the fields would restyle the form twice per attempt, on
        # the event loop, while the check's thread runs; a second Enter is ignored instead.
        self._busy = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)

    def action_clear(self) -> None:
        """Clear both fields and start again."""
        self.query_one("#username", Input).value = ""
        self.query_one("#password", Input).value = ""
        self.query_one("#username", Input).focus()
        self._say("")
