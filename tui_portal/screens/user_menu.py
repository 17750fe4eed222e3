"""The user menu that drops from the name in the top-right corner."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class UserMenu(ModalScreen[str | None]):
    """Profile, Users (for admins and account managers) and Sign out; dismisses with the
    id of the choice ("profile", "users", "sign-out"), or None. A session that must enrol
    MFA first is offered Sign out alone."""

    DEFAULT_CSS = """
    UserMenu {
        align: right top;
        background: transparent;
    }
    UserMenu OptionList {
        width: 24;
        height: auto;
        margin: 1 0 0 0;
        border: round $accent;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, *, can_manage_users: bool, enrolling: bool = False) -> None:
        super().__init__()
        self._can_manage_users = can_manage_users
        self._enrolling = enrolling

    def compose(self) -> ComposeResult:
        options: list[Option] = []
        if not self._enrolling:
            options.append(Option("Profile", id="profile"))
            if self._can_manage_users:
                options.append(Option("Users", id="users"))
        options.append(Option("Sign out", id="sign-out"))
        yield OptionList(*options)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        """Close the menu without choosing."""
        self.dismiss(None)

    def on_click(self, event: events.Click) -> None:
        """A click outside the menu closes it."""
        if event.widget is self:
            self.dismiss(None)
