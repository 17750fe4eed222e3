"""The notice over the first screen after sign-in: what happened to the account since the
person last signed in (failed attempts, MFA disabled, a device replaced, a recovery code
used, the password changed or set), by whom and how many.

It stays until dismissed (the "Dismiss" button, Enter or Escape). The services never tell
the same events twice, and nothing here keeps the notice once it has been dismissed.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui_portal.services.results import SecurityNotice

TITLE = "What happened since your last sign-in"


class SecurityNoticeModal(ModalScreen[None]):
    """The notice's text under its title, and Dismiss."""

    AUTO_FOCUS = "#dismiss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_notice", "Dismiss", id="dismiss"),
    ]
    DEFAULT_CSS = """
    SecurityNoticeModal {
        align: center middle;
    }
    SecurityNoticeModal #notice-box {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    SecurityNoticeModal #notice-title {
        text-style: bold;
        color: $text-warning;
        width: 100%;
    }
    SecurityNoticeModal #notice-scroll {
        height: auto;
        max-height: 12;
        margin: 1 0;
    }
    SecurityNoticeModal #notice-advice {
        color: $text-muted;
    }
    SecurityNoticeModal #notice-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    """
    HELP = """\
# What happened since your last sign-in

The portal tells you what happened to your account while you were away: failed attempts
to sign in as you (how many, from where), MFA codes used a second time, MFA disabled or a
device replaced (and by whom), a recovery code used, your password changed or set.

If you do not recognise something, change your password from your profile, look at
**Active sessions** and **Security activity** there, and tell an administrator.
Select **Dismiss** (or press **Enter** or **Escape**) to go on; the same events are not
shown again.
"""

    def __init__(self, notice: SecurityNotice) -> None:
        super().__init__()
        self._text = notice.text

    def compose(self) -> ComposeResult:
        with Vertical(id="notice-box"):
            yield Label(TITLE, id="notice-title")
            with VerticalScroll(id="notice-scroll"):
                yield Static(Content(self._text), id="notice-text")
            yield Static(
                "Not you? Change your password and look at Active sessions and Security "
                "activity on your profile.",
                id="notice-advice",
            )
            with Horizontal(id="notice-buttons"):
                yield Button("Dismiss", id="dismiss", variant="primary")

    @on(Button.Pressed, "#dismiss")
    def action_dismiss_notice(self) -> None:
        """Close the notice; it is not shown again."""
        self.dismiss(None)
