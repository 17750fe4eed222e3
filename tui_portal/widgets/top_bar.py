"""The top bar of every signed-in screen: title, organisation picker, and the user's name.

The name sits in the top-right corner; selecting it opens the user menu (Profile, Users,
Sign out). The organisation drop-down appears when there is more than one to choose from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Label, Select

if TYPE_CHECKING:
    from tui_portal.app import PortalApp


class OrganisationChanged(Message):
    """The selected organisation changed (from the drop-down or the command palette)."""

    def __init__(self, org_id: int) -> None:
        super().__init__()
        self.org_id = org_id


class TopBar(Horizontal):
    """Title on the left; organisation drop-down and the user's name on the right."""

    DEFAULT_CSS = """
    TopBar {
        height: 1;
        dock: top;
        background: $panel;
    }
    TopBar #title {
        width: 1fr;
        padding: 0 1;
        text-style: bold;
        color: $text;
    }
    TopBar #org-picker {
        width: 30;
        height: 1;
    }
    TopBar #org-picker SelectCurrent {
        border: none;
        height: 1;
        padding: 0 1;
    }
    TopBar #org-picker SelectOverlay {
        width: 30;
    }
    TopBar #user-menu-button {
        height: 1;
        min-width: 8;
        max-width: 40;
        border: none;
        padding: 0 1;
        margin-left: 1;
    }
    """

    def __init__(self, app: PortalApp) -> None:
        super().__init__()
        self._portal_app = app

    def compose(self) -> ComposeResult:
        app = self._portal_app
        yield Label(app.TITLE, id="title")
        if len(app.organisations) > 1:
            yield Select(
                [(Text(org.name), org.id) for org in app.organisations],
                value=app.org_id if app.org_id is not None else Select.NULL,
                allow_blank=False,
                id="org-picker",
                compact=True,
                tooltip="Organisation",
            )
        name = app.account.display_name if app.account is not None else ""
        yield Button(Text(f"{name} ▾"), id="user-menu-button", compact=True, tooltip="Account menu")

    @on(Select.Changed, "#org-picker")
    def _org_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self._portal_app.select_organisation(event.value)

    @on(Button.Pressed, "#user-menu-button")
    def _open_menu(self, event: Button.Pressed) -> None:
        event.stop()
        from tui_portal.screens.user_menu import UserMenu

        self._portal_app.push_screen(UserMenu(), self._menu_chosen)

    def _menu_chosen(self, choice: str | None) -> None:
        app = self._portal_app
        if choice == "profile":
            app.open_profile()
        elif choice == "users":
            app.open_users()
        elif choice == "sign-out":
            app.sign_out()

    def show_organisation(self, org_id: int) -> None:
        """Make the drop-down show ``org_id`` (after a palette switch)."""
        for picker in self.query("#org-picker").results(Select):
            if picker.value != org_id:
                with picker.prevent(Select.Changed):
                    picker.value = org_id
