"""PortalApp: the terminal portal's session state, navigation and command palette.

The app draws the sign-in screen first and opens the database in a thread worker right
after, so it appears at once; every later service call waits for that worker's result.

The signed-in session is one reactive value, :attr:`PortalApp.session` (a
:class:`~tui_portal.screens.session_state.PortalSession`). Screens watch it, on top or under
a modal, and redraw from it. A heartbeat reads the session's row every few seconds: a
session ended elsewhere returns to the sign-in screen, and a change to the account (roles,
memberships, MFA) reloads it and the organisation picker.

A session that an organisation holds to enrolling MFA first starts on the Enable MFA screen
and can reach nothing else (no profile, no Users, no command but Sign out) until it has.
What happened to the account since its last sign-in is shown over the first screen until
the person dismisses it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from tui_portal.errors import (
    OnlyAccountManagerCanReset,
    PermissionDenied,
    PortalError,
    SessionEnded,
    message_for,
)
from tui_portal.screens.idle_collection import IdleCollector
from tui_portal.screens.service_calls import call_service
from tui_portal.screens.session_state import PortalSession
from tui_portal.services.clock import Clock, system_clock

if TYPE_CHECKING:
    from textual.command import Provider

    from tui_portal.screens.profile import ProfileScreen
    from tui_portal.screens.service_calls import Failed
    from tui_portal.services.portal import Portal
    from tui_portal.services.results import (
        Account,
        Caller,
        Organisation,
        OrgId,
        SessionEndReason,
        SessionStatus,
        SignedIn,
    )

PortalOpener = Callable[[], "Portal"]
IDLE_TIMEOUT = timedelta(minutes=15)
IDLE_CHECK_SECONDS = 10.0
HEARTBEAT_SECONDS = 3.0
SIGN_IN_DEADLINE_EXIT = 3
NOT_SIGNED_IN_IN_TIME = "Not signed in in time; the connection is closed."
SIGNED_OUT = "You have been signed out"
NO_SCREENSHOTS = "Screenshots are not taken while someone is signed in."
SERVED_SOURCES = ("ssh:", "web:")
"""Where a served session comes from: its cursor does not blink (each blink is a frame sent
over the network, and an idle session would cost a share of a core for it)."""


class PortalUnavailable(PortalError):
    """The database or secrets key could not be opened; the message says why."""


def _literal_commands() -> type[Provider]:
    from tui_portal.screens.commands import LiteralCommands

    return LiteralCommands


class PortalApp(App[None]):
    """The developer portal: sign in, manage MFA, and manage an organisation's users."""

    TITLE = "Developer Portal"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {_literal_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False),
    ]

    session: var[PortalSession | None] = var(None, init=False)
    """The signed-in session, or None; screens watch it."""

    def __init__(
        self,
        open_portal: PortalOpener,
        *,
        demo_accounts: Iterable[tuple[str, str, str]] = (),
        clock: Clock = system_clock,
        idle_timeout: timedelta = IDLE_TIMEOUT,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        source: str = "local",
        sign_in_deadline: timedelta | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.demo_accounts = tuple(demo_accounts)
        self.open_error: str | None = None
        self._open_portal = open_portal
        self._portal: Future[Portal] = Future()
        self._clock = clock
        self._idle_timeout = idle_timeout
        self.heartbeat_seconds = heartbeat_seconds
        """Seconds between two reads of the session's row (set before the app runs)."""
        self._last_activity = clock()
        self._active_since_beat = False
        self._beating = False
        self._revision = 0
        self._sign_in_deadline = sign_in_deadline
        self._deadline_timer: Timer | None = None
        self._collector = IdleCollector(self)

    # -- the database, opened after the first frame -----------------------------------

    def on_mount(self) -> None:
        from tui_portal.screens.sign_in import SignInScreen

        self.push_screen(SignInScreen())
        self.set_interval(IDLE_CHECK_SECONDS, self.sign_out_if_idle)
        self.set_interval(self.heartbeat_seconds, self.heartbeat)
        self._collector.start()
        self._arm_sign_in_deadline()
        self.call_after_refresh(self._start_opening)

    def _start_opening(self) -> None:
        self.run_worker(
            self._open_in_background, name="open-portal", thread=True, exit_on_error=False
        )
        from tui_portal.screens.warm_up import warm_up

        warm_up(self)

    def _open_in_background(self) -> None:
        try:
            portal = self._open_portal()
        except Exception as error:
            # The operator reads the reason when the app exits; the screen says it plainly.
            self.open_error = message_for(error)
            unavailable = PortalUnavailable(message_for(error, audience="person"))
            self._portal.set_exception(unavailable)
            if self.is_running:
                self.call_from_thread(self.show_error, unavailable)
            return
        self._portal.set_result(portal)

    def wait_for_portal(self) -> Portal:
        """The opened portal; blocks a worker thread until the database is ready."""
        return self._portal.result()

    def on_unmount(self) -> None:
        if self._portal.done() and self._portal.exception() is None:
            self._portal.result().close()
        self._collector.stop()
        gc.unfreeze()  # what the app held can be collected again once it has gone

    # -- the sign-in deadline of served sessions --------------------------------------

    def _arm_sign_in_deadline(self) -> None:
        """A served session that nobody signs in to within the deadline is closed."""
        self._stop_sign_in_deadline()
        if self._sign_in_deadline is not None:
            self._deadline_timer = self.set_timer(
                self._sign_in_deadline.total_seconds(), self._sign_in_deadline_passed
            )

    def _stop_sign_in_deadline(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.stop()
            self._deadline_timer = None

    def _sign_in_deadline_passed(self) -> None:
        if self.session is None:
            self.exit(return_code=SIGN_IN_DEADLINE_EXIT, message=NOT_SIGNED_IN_IN_TIME)

    # -- served sessions --------------------------------------------------------------

    @property
    def served(self) -> bool:
        """Whether the person reaches the portal over the network (SSH or a browser)."""
        return self.source.startswith(SERVED_SOURCES)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """In a served session a text field's cursor stays lit instead of blinking."""
        from textual.widgets import Input

        if self.served and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # -- the session ------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._last_activity = self._clock()
            self._active_since_beat = True
            self._collector.input_arrived()
        await super().on_event(event)

    def signed_in(self, signed: SignedIn, organisations: Sequence[Organisation]) -> None:
        """Start the session that a completed sign-in opened, and show its first screen."""
        self._stop_sign_in_deadline()
        self._revision = signed.account.revision
        self._last_activity = self._clock()
        self._active_since_beat = False
        self.session = PortalSession.start(signed, organisations)
        self._reset_to(self._home_screen(), with_notice=True)

    def _home_screen(self) -> Screen[None]:
        """The first screen after sign-in: the profile, or, for a session that an
        organisation holds to enrolling MFA first, the Enable MFA screen (its QR code is
        made once the screen is up)."""
        session = self.session
        if session is not None and session.must_enrol:
            from tui_portal.screens.enable_mfa import EnableMfaScreen

            return EnableMfaScreen.required(session.required_by)
        from tui_portal.screens.profile import ProfileScreen

        return ProfileScreen()

    def _show_notice(self) -> None:
        """What happened since the last sign-in, over the first screen, until dismissed."""
        session = self.session
        if session is None or session.notice is None:
            return
        from tui_portal.screens.notice import SecurityNoticeModal

        self.push_screen(SecurityNoticeModal(session.notice), self._notice_dismissed)

    def _notice_dismissed(self, _result: None) -> None:
        if self.session is not None:
            self.session = self.session.without_notice()  # read: never kept, never again

    def enrolment_completed(self) -> None:
        """A session that had to enrol MFA first has: read the picker's organisations."""
        self.reload_session()

    def account_changed(self, account: Account) -> None:
        """Show ``account`` as it is after a change made in this session.

        An answer that arrives after the session ended (or changed hands) is dropped, so
        it cannot sign the person back in.
        """
        session = self.session
        if session is not None and session.account.id == account.id:
            self.session = session.reloaded(account, session.organisations)

    def select_organisation(self, org_id: OrgId) -> None:
        """Choose ``org_id`` (one of the picker's) for the screens that show one."""
        if self.session is not None:
            self.session = self.session.choosing(org_id)

    def sign_out(self, *, reason: SessionEndReason = "signed_out", message: str = "") -> None:
        """End the session here and in the database, and return to the sign-in screen."""
        session = self.session
        if session is not None:
            caller = session.caller
            call_service(
                self,
                lambda portal: portal.sessions.sign_out(caller, reason=reason),
                _ignore,
                _ignore,
            )
        self._signed_out(message)

    def session_ended(self) -> None:
        """The session was ended elsewhere (or expired): back to the sign-in screen."""
        if self.session is not None:
            self._signed_out(SIGNED_OUT)

    def _signed_out(self, message: str) -> None:
        from tui_portal.screens.sign_in import SignInScreen

        if self.clipboard:
            self.copy_to_clipboard("")  # an empty OSC 52: nothing copied here outlives it
        self.session = None
        self._arm_sign_in_deadline()
        self._reset_to(SignInScreen(message=message))

    def sign_out_if_idle(self) -> None:
        """End a session left alone for too long, as an unlocked terminal is an open door."""
        if self.session is None:
            return
        if self._clock() - self._last_activity >= self._idle_timeout:
            minutes = int(self._idle_timeout.total_seconds() // 60)
            self.sign_out(
                reason="idle", message=f"Signed out after {minutes} minutes without activity."
            )

    def reload_session(self) -> None:
        """Read the account and the organisation picker again, now."""
        session = self.session
        if session is None:
            return
        caller, enrolling = session.caller, session.must_enrol
        call_service(
            self,
            lambda portal: (
                portal.members.account(caller),
                () if enrolling else portal.members.picker_organisations(caller),
            ),
            partial(self._reloaded, caller, enrolling),
            group="heartbeat",
        )

    def heartbeat(self) -> None:
        """Read the session's row: has it ended elsewhere, or has the account changed?"""
        session = self.session
        if session is None or self._beating:
            return
        self._beating = True
        caller, active = session.caller, self._active_since_beat
        self._active_since_beat = False
        call_service(
            self,
            lambda portal: portal.sessions.heartbeat(caller, active=active),
            partial(self._beaten, caller),
            self._beat_failed,
            group="heartbeat",
        )

    def _beat_failed(self, _error: PortalError) -> None:
        self._beating = False  # the database may be back at the next beat

    def _beaten(self, caller: Caller, status: SessionStatus) -> None:
        self._beating = False
        session = self.session
        if session is None or session.caller != caller:
            return
        if not status.live:
            self.session_ended()
        elif status.revision != self._revision:
            self._revision = status.revision
            self.reload_session()

    def _reloaded(
        self,
        caller: Caller,
        enrolling: bool,
        reloaded: tuple[Account, Sequence[Organisation]],
    ) -> None:
        from tui_portal.screens.users import UsersScreen

        session = self.session
        if session is None or session.caller != caller:
            return
        if enrolling and not session.must_enrol:
            self.reload_session()  # read while enrolling, without the picker: read it now
            return
        account, organisations = reloaded
        self.session = session.reloaded(account, organisations)
        if not account.can_manage_users and any(
            isinstance(screen, UsersScreen) for screen in self.screen_stack
        ):
            self.open_profile()
            self.notify("You no longer manage any organisation's users.")

    # -- navigation -------------------------------------------------------------------

    def _reset_to(self, screen: Screen[None], *, with_notice: bool = False) -> None:
        async def reset() -> None:
            while len(self.screen_stack) > 2:
                await self.pop_screen()
            await self.switch_screen(screen)
            if with_notice:
                self._show_notice()

        self.call_later(reset)

    def _may_leave_enrolment(self) -> bool:
        """Whether the session may go beyond enrolling MFA (it must enrol first)."""
        return self.session is not None and not self.session.must_enrol

    def open_profile(self) -> None:
        """Show the profile (the signed-in home screen), closing what is above it."""
        from tui_portal.screens.profile import ProfileScreen

        if not self._may_leave_enrolment():
            return
        if not any(isinstance(screen, ProfileScreen) for screen in self.screen_stack):
            self._reset_to(ProfileScreen())  # after an enrolment that had to come first
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def open_users(self) -> None:
        """Show Manage Access › Users for the chosen organisation."""
        from tui_portal.screens.users import UsersScreen

        session = self.session
        if session is None or session.must_enrol:
            return
        if not session.account.can_manage_users:
            self.notify("Only organisation admins and account managers can manage users.")
            return
        if not any(isinstance(screen, UsersScreen) for screen in self.screen_stack):
            self.open_profile()
            self.push_screen(UsersScreen())
        else:
            while not isinstance(self.screen, UsersScreen):
                self.pop_screen()

    def start_enable_mfa(self) -> None:
        """The Enable MFA procedure, from wherever it was asked for."""
        self._on_profile(lambda profile: profile.action_enable_mfa())

    def start_disable_mfa(self) -> None:
        """The Disable MFA procedure (confirm password first), from wherever it was asked for."""
        self._on_profile(lambda profile: profile.action_disable_mfa())

    def start_change_password(self) -> None:
        """The Change password screen, from wherever it was asked for."""
        self._on_profile(lambda profile: profile.action_change_password())

    def start_regenerate_codes(self) -> None:
        """Regenerate recovery codes (confirm password first), from wherever it was asked for."""
        self._on_profile(lambda profile: profile.action_regenerate_codes())

    def _on_profile(self, action: Callable[[ProfileScreen], object]) -> None:
        from tui_portal.screens.profile import ProfileScreen

        if not self._may_leave_enrolment():
            return
        self.open_profile()
        profile = next((s for s in self.screen_stack if isinstance(s, ProfileScreen)), None)
        if profile is not None:
            self.call_later(action, profile)

    def action_help(self) -> None:
        """Show the steps of the current procedure."""
        from tui_portal.screens.help import HelpScreen, help_for

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_for(self.screen)))

    # -- command palette --------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        session = self.session
        enrolling = session is not None and session.must_enrol
        for command in super().get_system_commands(screen):
            if _offered(command.title, signed_in=session is not None, enrolling=enrolling):
                yield command
        if session is None:
            return
        if enrolling:  # nothing but enrolling, or leaving
            yield SystemCommand("Sign out", "End this session", self.sign_out)
            return
        account = session.account
        yield SystemCommand("Profile", "Your account and MFA status", self.open_profile)
        if account.mfa_enabled:
            if not account.organisations_requiring_mfa:  # else the service refuses it
                yield SystemCommand(
                    "Disable MFA",
                    "Turn off your authenticator (password first)",
                    self.start_disable_mfa,
                )
            yield SystemCommand(
                "Regenerate recovery codes",
                "A new set of recovery codes (password first); the old set stops working",
                self.start_regenerate_codes,
            )
        else:
            yield SystemCommand("Enable MFA", "Set up an authenticator app", self.start_enable_mfa)
        yield SystemCommand(
            "Change password",
            "A new password; your other sessions are signed out",
            self.start_change_password,
        )
        if account.can_manage_users:
            yield SystemCommand("Users", "Manage Access › Users", self.open_users)
        if len(session.organisations) > 1:
            for org in session.organisations:
                yield SystemCommand(
                    f"Switch organisation: {org.name}",
                    "Show this organisation's users",
                    partial(self.select_organisation, org.id),
                )
        yield SystemCommand("Sign out", "End this session", self.sign_out)

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Screenshots only before sign-in: signed-in screens show keys and QR codes."""
        if self.session is not None:
            self.notify(NO_SCREENSHOTS, severity="warning")
            return None
        return super().deliver_screenshot(filename, path, time_format)

    # -- errors -----------------------------------------------------------------------

    def show_error(self, error: PortalError) -> None:
        """Tell the person what went wrong."""
        self.notify(str(error), severity="error", timeout=8, markup=False)

    def service_failed(self, error: Exception, failed: Failed | None = None) -> None:
        """The one place a service call's failure is turned into words.

        An ended session signs out. Anything that is not a :class:`PortalError` is
        unexpected: it is logged by kind only, as its details may hold data, and the person
        reads a plain sentence. The screen's ``failed`` then shows the message where it
        belongs (or a toast does).
        """
        if isinstance(error, SessionEnded):
            self.session_ended()
            return
        if isinstance(error, PermissionDenied) and not isinstance(
            error, OnlyAccountManagerCanReset
        ):
            # Refused for want of a role: it may have been taken away a moment ago. Read
            # the account again now rather than at the next heartbeat (Users closes if
            # the person manages no organisation any more).
            self.reload_session()
        if not isinstance(error, PortalError):
            self.log.error(f"service call failed: {error.__class__.__name__}")
        shown = PortalError(message_for(error, audience="person"))
        if isinstance(error, PortalError) and str(error) == str(shown):
            shown = error  # keep its kind, and what it carries (a clock hint)
        if failed is not None:
            failed(shown)
        else:
            self.show_error(shown)


def _ignore(_result: object) -> None:
    """For calls whose answer changes nothing on screen."""


def _offered(title: str, *, signed_in: bool, enrolling: bool) -> bool:
    """Whether one of Textual's own commands is offered: not Screenshot while someone is
    signed in, and nothing but Quit while a session must enrol MFA first."""
    if enrolling:
        return title == "Quit"
    return not (signed_in and title == "Screenshot")
