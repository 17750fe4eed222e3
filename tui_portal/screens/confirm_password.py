"""The confirm-password modal that comes before every MFA disable and device replacement.

The modal runs the change itself, with the password, in one service call: the service checks
the password and the permission together, so nothing changes unless both are right. It is
generic over what the change returns, so the screen that opens it gets that back, typed::

    modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(
        "Disable MFA for your account.",
        lambda portal, password: portal.mfa.disable_own(caller, password=password),
    )
    self.app.push_screen(modal, self._disabled)   # _disabled(account: Account | None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui_portal.errors import IncorrectPassword, PortalError
from tui_portal.screens.service_calls import call_service
from tui_portal.widgets.status_line import StatusLine, Tone

if TYPE_CHECKING:
    from tui_portal.services.portal import Portal

T = TypeVar("T")


class ConfirmPasswordModal(ModalScreen[T | None]):
    """Title "Confirm your password"; Enter confirms; Escape cancels and changes nothing.

    Dismisses with what ``action(portal, password)`` returned, or ``None`` when cancelled.
    A wrong password keeps the modal open; so does a refusal, which it shows in words.
    """

    TITLE_TEXT = "Confirm your password"
    AUTO_FOCUS = "#confirm-password"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]
    DEFAULT_CSS = """
    ConfirmPasswordModal {
        align: center middle;
    }
    ConfirmPasswordModal #confirm-box {
        width: 60;
        max-width: 100%;
        height: auto;
        border: thick $accent;
        border-title-align: center;
        background: $surface;
        padding: 1 2;
    }
    ConfirmPasswordModal #confirm-title {
        text-style: bold;
        width: 100%;
        content-align: center middle;
    }
    ConfirmPasswordModal #confirm-purpose {
        margin: 1 0;
        color: $text-muted;
    }
    ConfirmPasswordModal #confirm-buttons {
        height: auto;
        align-horizontal: right;
    }
    ConfirmPasswordModal #confirm-buttons Button {
        margin-left: 2;
    }
    """
    HELP = """\
# Confirm your password

Before MFA is disabled, or a device replaced, type **your own** password and press
**Enter**. **Escape** cancels and nothing changes.
"""

    def __init__(self, purpose: str, action: Callable[[Portal, str], T]) -> None:
        super().__init__()
        self._purpose = purpose
        self._action = action
        self._busy = False

    @property
    def purpose(self) -> str:
        """What confirming will do, in words."""
        return self._purpose

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(self.TITLE_TEXT, id="confirm-title")
            yield Static(Content(self._purpose), id="confirm-purpose")
            yield Label("Password")
            yield Input(id="confirm-password", password=True, max_length=256)
            yield StatusLine(id="confirm-message")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Confirm", id="confirm", variant="error")

    def on_key(self, event: events.Key) -> None:
        """Keys typed before the field has focus (right after the modal opened) go into it."""
        field = self.query_one("#confirm-password", Input)
        if self.focused is None and event.is_printable and event.character and not self._busy:
            event.stop()
            field.focus()
            field.insert_text_at_cursor(event.character)

    @on(Input.Submitted, "#confirm-password")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self._busy:
            return
        password = self.query_one("#confirm-password", Input).value
        if not password:
            self._say(IncorrectPassword().args[0])
            return
        self._set_busy(True)
        self._say("Checking…", "info")
        action = self._action
        call_service(self, lambda portal: action(portal, password), self._done, self._failed)

    def _done(self, result: T) -> None:
        self.dismiss(result)

    def _failed(self, error: PortalError) -> None:
        self._set_busy(False)
        field = self.query_one("#confirm-password", Input)
        field.value = ""
        field.focus()
        self._say(str(error))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without changing anything."""
        if not self._busy:
            self.dismiss(None)

    def _set_busy(self, busy: bool) -> None:
        # Only a flag: disabling the fields would restyle the form twice per attempt, on
        # the event loop, while the check's thread runs; a second Enter is ignored instead.
        self._busy = busy

    def _say(self, message: str, tone: Tone = "error") -> None:
        self.query_one(StatusLine).say(message, tone)
