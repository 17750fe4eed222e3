"""The help screen: the steps of the current procedure, in the portal's own words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

GENERAL = """\
# Developer Portal

- **Sign in** with your username and password. If your account has MFA, enter the
  6-digit code from your authenticator app.
- Open the menu under **your name** (top right) for your **Profile**, where you can
  enable or disable MFA, and, if you are an organisation admin, **Users**.
- **ctrl+p** opens the command palette; **ctrl+q** quits.
"""


def help_for(screen: Screen[object]) -> str:
    """The help of ``screen`` (its ``HELP`` text), or the portal's general help."""
    text = getattr(type(screen), "HELP", "")
    return text if isinstance(text, str) and text else GENERAL


class HelpScreen(ModalScreen[None]):
    """Shows a screen's help text (the portal's own words); Escape, F1 or ``q`` closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            yield Markdown(self._text)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
