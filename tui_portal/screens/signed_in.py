"""What every screen of a signed-in person shares: the top bar, and following the session.

A :class:`SignedInScreen` watches the app's ``session`` from the moment it is mounted until
it is gone, whether it is on top or under a modal, so it never shows (or acts on) an
organisation or an account that is no longer the session's.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.screen import Screen

from tui_portal.screens.service_calls import portal_app
from tui_portal.screens.session_state import PortalSession
from tui_portal.widgets.top_bar import TopBar


class SignedInScreen(Screen[None]):
    """Base of the signed-in screens: compose :meth:`top_bar` first, and redraw from the
    session in :meth:`session_changed`."""

    HELP: ClassVar[str] = ""

    @property
    def session(self) -> PortalSession | None:
        """The session the screen shows, or None once it has ended."""
        return portal_app(self).session

    def top_bar(self) -> TopBar:
        """The top bar, showing the session as it is now."""
        session = self.session
        if session is None:
            return TopBar(portal_app(self).TITLE, "", (), None)
        return TopBar(
            portal_app(self).TITLE,
            session.account.display_name,
            session.organisations,
            session.org_id,
        )

    def on_mount(self) -> None:
        self.watch(self.app, "session", self._follow_session, init=False)

    def _follow_session(self, session: PortalSession | None) -> None:
        if session is None:
            return  # signing out: the screen is about to go
        for bar in self.query(TopBar).results(TopBar):
            bar.show(session.account.display_name, session.organisations, session.org_id)
        self.session_changed(session)

    def session_changed(self, session: PortalSession) -> None:
        """Show ``session`` (its account, or its chosen organisation, changed)."""

    @on(TopBar.OrganisationPicked)
    def _organisation_picked(self, message: TopBar.OrganisationPicked) -> None:
        portal_app(self).select_organisation(message.org_id)

    @on(TopBar.MenuRequested)
    def _menu_requested(self) -> None:
        from tui_portal.screens.user_menu import UserMenu

        session = self.session
        can_manage = session is not None and session.account.can_manage_users
        enrolling = session is not None and session.must_enrol
        self.app.push_screen(
            UserMenu(can_manage_users=can_manage, enrolling=enrolling), self._menu_chosen
        )

    def _menu_chosen(self, choice: str | None) -> None:
        app = portal_app(self)
        if choice == "profile":
            app.open_profile()
        elif choice == "users":
            app.open_users()
        elif choice == "sign-out":
            app.sign_out()
