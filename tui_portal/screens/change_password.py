"""The Change password screen: the current password, then the new one twice.

Enter moves from field to field and, in "Repeat new password", submits. Two new passwords
that differ are refused here, without a service call; everything else (the current
password, the length, the common-password list) is the service's to check, in a thread,
since argon2id costs a noticeable moment. A change signs out the account's other sessions.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import IncorrectPassword, PortalError, Throttled
from tui_portal.screens.service_calls import call_service
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.widgets.status_line import StatusLine, Tone

TITLE = "Change password"
MISMATCH = "The new passwords do not match"
CHANGED = "Password changed"
FIELDS = ("#current-password", "#new-password", "#repeat-password")


def changed_message(others_ended: int) -> str:
    """What a change says: the words, and how many other sessions were signed out."""
    if others_ended == 0:
        return f"{CHANGED}."
    sessions = "session was" if others_ended == 1 else "sessions were"
    return f"{CHANGED}. {others_ended} other {sessions} signed out."


class ChangePasswordScreen(SignedInScreen):
    """Fields "Current password", "New password", "Repeat new password" (all masked)."""

    DEFAULT_CSS = beside(__file__, "change_password.tcss")
    AUTO_FOCUS = "#current-password"
    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding, as on the sign-in form: focus moves at once, so keys typed
        # right after Enter land in the next field.
        Binding("enter", "next_field", "Next", show=False, priority=True),
        Binding("escape", "back", "Back", id="back"),
    ]
    HELP = """\
# Change password

1. Type your **Current password** and press **Enter**.
2. Type the **New password**, press **Enter**, and type it again in **Repeat new
   password**; **Enter** there changes it.
3. **Password changed** means it is done: every other session of your account is signed
   out (on other computers too); this one stays.

A password is 8 to 256 characters long, and not one of the passwords most often found in
leaks ("Choose a less common password"). A long phrase you can remember is a good choice.
"""

    def __init__(self) -> None:
        super().__init__()
        self._busy = False
        self._done = False

    def compose(self) -> ComposeResult:
        yield self.top_bar()
        with VerticalScroll(id="password-body"), Vertical(id="password-box") as box:
            box.border_title = TITLE
            yield Label("Current password", classes="field-label")
            yield Input(id="current-password", password=True, max_length=256, compact=True)
            yield Label("New password", classes="field-label")
            yield Input(id="new-password", password=True, max_length=256, compact=True)
            yield Label("Repeat new password", classes="field-label")
            yield Input(id="repeat-password", password=True, max_length=256, compact=True)
            yield Static(
                "8 to 256 characters, not a common password. Your other sessions will be "
                "signed out.",
                classes="hint",
            )
            yield Button(TITLE, id="change", variant="primary", compact=True)
            yield StatusLine(id="password-message")
        yield Footer()

    def _field(self, selector: str) -> Input:
        return self.query_one(selector, Input)

    def action_next_field(self) -> None:
        """Enter moves to the next field; in the last one it submits."""
        focused = self.focused
        fields = [self._field(selector) for selector in FIELDS]
        if not isinstance(focused, Input) or focused not in fields:
            raise SkipAction()
        position = fields.index(focused)
        if position < len(fields) - 1:
            self.set_focus(fields[position + 1])
        else:
            focused.call_later(self._submit)  # once the field has every key typed before

    @on(Button.Pressed, "#change")
    def _pressed(self) -> None:
        if self._done:
            self.dismiss(None)
        else:
            self._submit()

    def _submit(self) -> None:
        session = self.session
        if self._busy or self._done or session is None:
            return
        current, new, repeat = (self._field(selector).value for selector in FIELDS)
        if not current:
            self._say(IncorrectPassword().args[0])
            self._field("#current-password").focus()
            return
        if new != repeat:
            self._field("#repeat-password").value = ""
            self._field("#repeat-password").focus()
            self._say(MISMATCH)
            return
        self._busy = True
        self._say("Changing…", "info")
        caller = session.caller
        call_service(
            self,
            lambda portal: portal.accounts.change_password(caller, current=current, new=new),
            self._changed,
            self._failed,
        )

    def _changed(self, others_ended: int) -> None:
        self._busy = False
        self._done = True
        for selector in FIELDS:
            field = self._field(selector)
            field.value = ""
            field.disabled = True
        button = self.query_one("#change", Button)
        button.label = "Back to profile"
        button.focus()
        self._say(changed_message(others_ended), "success")

    def _failed(self, error: PortalError) -> None:
        self._busy = False
        if isinstance(error, (IncorrectPassword, Throttled)):
            wrong = self._field("#current-password")
        else:  # a rule of the new password
            self._field("#repeat-password").value = ""
            wrong = self._field("#new-password")
        wrong.value = ""
        wrong.focus()
        self._say(str(error))

    def action_back(self) -> None:
        """Back to the profile, changing nothing (unless it is changed already)."""
        if not self._busy:
            self.dismiss(None)

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)
