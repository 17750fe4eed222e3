"""PortalApp: the terminal portal's session state, navigation and command palette.

The app draws the sign-in screen first and opens the database in a background thread right
after, so it appears at once; every later service call waits for that thread's result.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from tui_portal.errors import PortalError, message_for
from tui_portal.services.clock import Clock, system_clock

if TYPE_CHECKING:
    from tui_portal.screens.profile import ProfileScreen
    from tui_portal.services.portal import Portal
    from tui_portal.services.results import Account, Caller, Organisation, SignedIn

PortalOpener = Callable[[], "Portal"]
IDLE_TIMEOUT = timedelta(minutes=15)
IDLE_CHECK_SECONDS = 10.0
SIGN_IN_DEADLINE_EXIT = 3
NOT_SIGNED_IN_IN_TIME = "Not signed in in time; the connection is closed."


class PortalUnavailable(PortalError):
    """The database or secrets key could not be opened; the message says why."""


class PortalApp(App[None]):
    """The developer portal: sign in, manage MFA, and manage an organisation's users."""

    TITLE = "Developer Portal"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False),
    ]

    def __init__(
        self,
        open_portal: PortalOpener,
        *,
        demo_accounts: Iterable[tuple[str, str, str]] = (),
        clock: Clock = system_clock,
        idle_timeout: timedelta = IDLE_TIMEOUT,
        source: str = "local",
        sign_in_deadline: timedelta | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self._sign_in_deadline = sign_in_deadline
        self._deadline_timer: Timer | None = None
        self._open_portal = open_portal
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._last_activity = clock()
        self._portal: Future[Portal] = Future()
        self.demo_accounts = tuple(demo_accounts)
        self.account: Account | None = None
        self.caller: Caller | None = None
        self.org_id: int | None = None
        self.organisations: tuple[Organisation, ...] = ()
        self.open_error: str | None = None

    # -- the database, opened after the first frame -----------------------------------

    def on_mount(self) -> None:
        from tui_portal.screens.sign_in import SignInScreen

        self.push_screen(SignInScreen())
        self.set_interval(IDLE_CHECK_SECONDS, self.sign_out_if_idle)
        self._arm_sign_in_deadline()
        self.call_after_refresh(self._start_opening)

    def _arm_sign_in_deadline(self) -> None:
        """A served session that nobody signs in to within the deadline is closed."""
        if self._deadline_timer is not None:
            self._deadline_timer.stop()
            self._deadline_timer = None
        if self._sign_in_deadline is not None:
            self._deadline_timer = self.set_timer(
                self._sign_in_deadline.total_seconds(), self._sign_in_deadline_passed
            )

    def _sign_in_deadline_passed(self) -> None:
        if self.account is None:
            self.exit(return_code=SIGN_IN_DEADLINE_EXIT, message=NOT_SIGNED_IN_IN_TIME)

    def _start_opening(self) -> None:
        threading.Thread(target=self._open_in_background, name="open-portal", daemon=True).start()

    def _open_in_background(self) -> None:
        try:
            portal = self._open_portal()
        except Exception as error:
            # The operator reads the reason when the app exits; the screen says it plainly.
            self.open_error = (
                message_for(error)
                if isinstance(error, PortalError)
                else f"cannot open the portal ({error.__class__.__name__})"
            )
            unavailable = PortalUnavailable(message_for(error, audience="person"))
            self._portal.set_exception(unavailable)
            with contextlib.suppress(RuntimeError):  # the app may have stopped already
                self.call_from_thread(self.show_error, unavailable)
        else:
            self._portal.set_result(portal)
        # Everything loaded by now (Textual, SQLAlchemy, the schema) lives as long as the
        # app. Collected once and then moved out of the cycle collector's sight, it is not
        # walked again by every full collection, each of which stops the event loop (for
        # about 0.25 s on a 2-core machine before, 0.1 s after).
        if self.is_running:
            gc.collect()
            gc.freeze()

    def wait_for_portal(self) -> Portal:
        """The opened portal; blocks a worker thread until the database is ready."""
        return self._portal.result()

    def on_unmount(self) -> None:
        if self._portal.done() and self._portal.exception() is None:
            self._portal.result().close()
        gc.unfreeze()  # what the app held can be collected again once it has gone

    # -- session ----------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._last_activity = self._clock()
        await super().on_event(event)

    def sign_out_if_idle(self) -> None:
        """End a session left alone for too long, as an unlocked terminal is an open door."""
        if self.account is None:
            return
        if self._clock() - self._last_activity >= self._idle_timeout:
            minutes = int(self._idle_timeout.total_seconds() // 60)
            self.sign_out()
            self.notify(f"Signed out after {minutes} minutes without activity.", timeout=30)

    def signed_in(self, signed: SignedIn, organisations: Iterable[Organisation]) -> None:
        """Start a session for the account signed in and show the profile."""
        from tui_portal.screens.profile import ProfileScreen

        account = signed.account
        self.account = account
        self.caller = signed.caller
        if self._deadline_timer is not None:
            self._deadline_timer.stop()
            self._deadline_timer = None
        self.organisations = tuple(organisations)
        own = [o.org_id for o in account.organisations]
        self.org_id = own[0] if own else (self.organisations[0].id if self.organisations else None)
        self._reset_to(ProfileScreen())

    def refresh_account(self, account: Account) -> None:
        """Keep the session's copy of the account current after a change.

        A reload that finishes after the session ended (or changed hands) is dropped, so it
        cannot sign the person back in.
        """
        if self.account is not None and self.account.id == account.id:
            self.account = account

    def sign_out(self) -> None:
        """End the session and return to the sign-in screen."""
        from tui_portal.screens.sign_in import SignInScreen

        caller = self.caller
        if caller is not None and self._portal.done() and self._portal.exception() is None:
            portal = self._portal.result()
            threading.Thread(
                target=portal.sessions.sign_out, args=(caller,), name="sign-out", daemon=True
            ).start()
        self.account = None
        self.caller = None
        self.org_id = None
        self.organisations = ()
        self._arm_sign_in_deadline()
        self._reset_to(SignInScreen())

    def _reset_to(self, screen: Screen[Any]) -> None:
        async def reset() -> None:
            while len(self.screen_stack) > 2:
                await self.pop_screen()
            await self.switch_screen(screen)

        self.call_later(reset)

    def select_organisation(self, org_id: int) -> None:
        """Make ``org_id`` the organisation the Users screen shows."""
        if org_id != self.org_id and any(o.id == org_id for o in self.organisations):
            self.org_id = org_id
            from tui_portal.widgets.top_bar import OrganisationChanged

            self.screen.post_message(OrganisationChanged(org_id))

    # -- navigation -------------------------------------------------------------------

    def open_profile(self) -> None:
        """Show the profile (the signed-in home screen)."""
        from tui_portal.screens.profile import ProfileScreen

        if self.account is None:
            return
        if not isinstance(self.screen, ProfileScreen):
            while len(self.screen_stack) > 2 and not isinstance(self.screen, ProfileScreen):
                self.pop_screen()

    def open_users(self) -> None:
        """Show Manage Access › Users for the selected organisation."""
        from tui_portal.screens.users import UsersScreen

        if self.account is None or not self.account.can_manage_users:
            self.notify("Only organisation admins and account managers can manage users.")
            return
        if not isinstance(self.screen, UsersScreen):
            self.push_screen(UsersScreen())

    def _profile(self) -> ProfileScreen | None:
        from tui_portal.screens.profile import ProfileScreen

        return next((s for s in self.screen_stack if isinstance(s, ProfileScreen)), None)

    def start_enable_mfa(self) -> None:
        """The Enable MFA procedure, from wherever it was asked for."""
        self.open_profile()
        profile = self._profile()
        if profile is not None:
            self.call_later(profile.action_enable_mfa)

    def start_disable_mfa(self) -> None:
        """The Disable MFA procedure (confirm password first), from wherever it was asked for."""
        self.open_profile()
        profile = self._profile()
        if profile is not None:
            self.call_later(profile.action_disable_mfa)

    def action_help(self) -> None:
        """Show the steps of the current procedure."""
        from tui_portal.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        text = getattr(self.screen, "HELP", None) or HelpScreen.GENERAL
        self.push_screen(HelpScreen(text))

    # -- command palette --------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        account = self.account
        if account is None:
            return
        yield SystemCommand("Profile", "Your account and MFA status", self.open_profile)
        if account.mfa_enabled:
            yield SystemCommand(
                "Disable MFA",
                "Turn off your authenticator (password first)",
                self.start_disable_mfa,
            )
        else:
            yield SystemCommand("Enable MFA", "Set up an authenticator app", self.start_enable_mfa)
        if account.can_manage_users:
            yield SystemCommand("Users", "Manage Access › Users", self.open_users)
        if len(self.organisations) > 1:
            for org in self.organisations:
                yield SystemCommand(
                    f"Switch organisation: {org.name}",
                    "Show this organisation's users",
                    lambda org_id=org.id: self.select_organisation(org_id),
                )
        yield SystemCommand("Sign out", "End this session", self.sign_out)

    # -- errors -----------------------------------------------------------------------

    def show_error(self, error: PortalError) -> None:
        """Tell the person what went wrong."""
        self.notify(str(error), severity="error", timeout=8, markup=False)

    def report_unexpected(
        self, error: Exception, failed: Callable[[PortalError], Any] | None = None
    ) -> None:
        """An error no screen expects: say so without details (they may hold data)."""
        self.log.error(f"service call failed: {error.__class__.__name__}")
        wrapped = PortalError(message_for(error, audience="person"))
        if failed is not None:
            failed(wrapped)
        else:
            self.show_error(wrapped)
