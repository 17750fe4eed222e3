"""The Profile screen: who you are, your organisations, your MFA, password and sessions.

It shows the session's account and follows it: when MFA is enabled or disabled here, or
the account changes elsewhere (a role, a membership), the screen redraws from the session.
Below the account come "Active sessions" (where and when each live session started, this
one marked, and "Sign out other sessions") and "Security activity" (the account's own
events, newest first, a page at a time), read from the services whenever the profile comes
back into view. The profile scrolls at 80x24; every action has a key and a button.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from tui_portal.errors import MfaRequiredByPolicy, PortalError
from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.screens.enable_mfa import EnableMfaScreen, EnrolmentShown, with_qr_code
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.session_state import PortalSession
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.security.recovery_codes import LOW_WARNING
from tui_portal.services.results import Account, ActivityPage, RecoveryCodes, SessionSummary
from tui_portal.widgets.account_lists import activity_table, sessions_table
from tui_portal.widgets.status_line import StatusLine

ACTIVITY_PAGE = 10
"""Events shown at first, and added by each "Show older activity"."""
ACTIVITY_MOST = 100
"""The most events read at once (the service's limit)."""
REGENERATED = "New recovery codes: the old ones no longer work."


def recovery_codes_line(left: int) -> Text:
    """ "Recovery codes: N left", with advice to regenerate them when few are left."""
    text = Text(f"Recovery codes: {left} left")
    if left <= LOW_WARNING:
        text.append(
            "\nRunning low: select Regenerate recovery codes (g) for a new set.",
            style="not bold",
        )
    return text


def signed_out_message(ended: int) -> str:
    """What "Sign out other sessions" says it did."""
    if ended == 0:
        return "There were no other sessions to sign out."
    return f"{ended} other session{'' if ended == 1 else 's'} signed out."


class ProfileScreen(SignedInScreen):
    """Username, display name, email, organisations and roles, MFA and recovery codes, the
    password, the account's live sessions and its security activity."""

    DEFAULT_CSS = beside(__file__, "profile.tcss")
    # Not Textual's first focusable widget, which may be the top bar's hidden organisation
    # picker: the first action that applies (see _focus_an_action), so Up, Down and the
    # page keys scroll the profile and Enter does what the highlighted button says.
    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "enable_mfa", "Enable MFA", id="enable-mfa"),
        Binding("d", "disable_mfa", "Disable MFA", id="disable-mfa"),
        Binding("r", "replace_device", "Replace device", id="replace-device"),
        Binding("u", "users", "Users", id="users"),
        Binding("p", "change_password", "Password", id="change-password"),
        Binding(
            "g",
            "regenerate_codes",
            "Regenerate recovery codes",
            id="regenerate-codes",
            show=False,
        ),
        Binding(
            "o", "sign_out_others", "Sign out other sessions", id="sign-out-others", show=False
        ),
    ]
    HELP = """\
# Profile

Your account, your organisations, your MFA status, your sessions and what happened to
your account. **Up**, **Down** and **Page Up/Down** scroll; **Tab** moves between buttons.

**Enable MFA** (**e**): install an authenticator app on your phone (Google Authenticator,
Microsoft Authenticator, 1Password, Authy, …), select **Enable MFA**, scan the QR code,
type the **Authenticator code** the app shows and select **Submit**. Keep the recovery
codes shown next somewhere safe.

**Disable MFA** (**d**): select **Disable MFA** and confirm your password. Not while an
organisation of yours requires MFA: for a new phone use **Replace device**; for a lost
one, ask an admin to reset it.

**Replace device** (**r**, a new phone): select **Replace device**, confirm your password,
and scan the new QR code with the new phone. The old phone keeps working until the new one
is confirmed. Your recovery codes stay as they are.

**Regenerate recovery codes** (**g**): confirm your password; a new set of ten is shown
once, and the old set stops working.

**Change password** (**p**): your current password, then the new one twice. Your other
sessions are signed out.

**Active sessions**: every place you are signed in, this one marked *this session*.
**Sign out other sessions** (**o**) ends all but this one.

**Security activity**: your account's own events, newest first: sign-ins, failed attempts
and where they came from, MFA and password changes and who made them.
"""

    def __init__(self) -> None:
        super().__init__()
        self._activity: ActivityPage | None = None

    def compose(self) -> ComposeResult:
        yield self.top_bar()
        with (
            VerticalScroll(id="profile-body"),
            Vertical(id="profile-box", classes="profile-section") as box,
        ):
            box.border_title = "Profile"
            yield Static(id="details")
            yield Static(id="organisations")
            yield Label("", id="mfa-status")
            yield Static("", id="recovery-codes")
            with Horizontal(id="mfa-actions", classes="actions"):
                yield Button("Enable MFA", id="enable-mfa", variant="primary")
                yield Button("Disable MFA", id="disable-mfa", variant="error")
                yield Button("Replace device", id="replace-device")
            with Horizontal(id="account-actions", classes="actions"):
                yield Button("Change password", id="change-password")
                yield Button("Regenerate recovery codes", id="regenerate-codes")
        yield Footer()

    def on_mount(self) -> None:
        if self.session is not None:
            self.session_changed(self.session)
        # The sessions and the activity sit below the fold at 80x24: they are mounted
        # once the account is on screen, so the first frame after sign-in is not held
        # up by composing and styling them.
        self.call_after_refresh(self._mount_lists)

    async def _mount_lists(self) -> None:
        sessions = Vertical(
            Static("Loading…", id="sessions"),
            Horizontal(Button("Sign out other sessions", id="sign-out-others"), classes="actions"),
            StatusLine(id="sessions-message"),
            id="sessions-box",
            classes="profile-section",
        )
        sessions.border_title = "Active sessions"
        older = Button("Show older activity", id="older-activity")
        older.display = False
        activity = Vertical(
            Static("Loading…", id="activity"),
            Horizontal(older, classes="actions"),
            id="activity-box",
            classes="profile-section",
        )
        activity.border_title = "Security activity"
        await self.query_one("#profile-body", VerticalScroll).mount(sessions, activity)
        self.load_lists()

    def on_screen_resume(self) -> None:
        """Back in view (a screen above it closed): read the lists again."""
        self.load_lists()

    def session_changed(self, session: PortalSession) -> None:
        """Draw the account: details, organisations, MFA status and the buttons that apply."""
        account = session.account
        details = Text()
        for label, value in (
            ("Username", account.username),
            ("Name", account.name or "-"),
            ("Email", account.email or "-"),
        ):
            details.append(f"{label:<14}", style="bold")
            details.append(value + "\n")
        if account.is_account_manager:
            details.append(f"{'Staff':<14}", style="bold")
            details.append("Account manager\n")
        details.rstrip()
        self.query_one("#details", Static).update(details)
        orgs = Text()
        orgs.append("Organisations\n", style="bold")
        for org in account.organisations:
            orgs.append(f"  {org.name}")
            orgs.append(f"  ({org.role})", style="dim")
            if org.mfa_required:
                orgs.append("  requires MFA", style="dim")
            orgs.append("\n")
        if not account.organisations:
            orgs.append("  none\n", style="dim")
        orgs.rstrip()
        self.query_one("#organisations", Static).update(orgs)
        status = self.query_one("#mfa-status", Label)
        status.update("MFA: Enabled" if account.mfa_enabled else "MFA: Disabled")
        status.set_class(account.mfa_enabled, "enabled")
        codes = self.query_one("#recovery-codes", Static)
        codes.display = account.mfa_enabled
        codes.update(recovery_codes_line(account.recovery_codes_left))
        codes.set_class(account.recovery_codes_left <= LOW_WARNING, "low")
        self.query_one("#enable-mfa").display = not account.mfa_enabled
        self.query_one("#disable-mfa").display = account.mfa_enabled
        self.query_one("#replace-device").display = account.mfa_enabled
        self.query_one("#regenerate-codes").display = account.mfa_enabled
        self.refresh_bindings()
        self._focus_an_action()
        if self.is_active:
            self.load_lists()  # MFA, roles or the password changed: there are new events

    def _focus_an_action(self) -> None:
        """Focus the first button that applies, unless something in view has the focus
        (a button just hidden, Enable MFA once MFA is on, gives it up)."""
        focused = self.focused
        if focused is not None and focused.display:
            return
        for button in self.query("#profile-body Button").results(Button):
            if button.display:
                self.set_focus(button)
                return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        session = self.session
        if session is None:
            return False
        account = session.account
        if action == "enable_mfa":
            return not account.mfa_enabled
        if action in ("disable_mfa", "replace_device", "regenerate_codes"):
            return account.mfa_enabled
        if action == "users":
            return account.can_manage_users
        return True

    # -- MFA --------------------------------------------------------------------------

    @on(Button.Pressed, "#enable-mfa")
    def action_enable_mfa(self) -> None:
        """Start enrolling an authenticator and show its QR code."""
        session = self.session
        if session is None or session.account.mfa_enabled:
            return
        caller = session.caller
        call_service(
            self,
            lambda portal: with_qr_code(portal.mfa.start_enrolment(caller)),
            self._show_enrolment,
        )

    @on(Button.Pressed, "#replace-device")
    def action_replace_device(self) -> None:
        """Confirm the password, then enrol a new device in place of the old one."""
        session = self.session
        if session is None or not session.account.mfa_enabled:
            return
        caller = session.caller
        modal: ConfirmPasswordModal[EnrolmentShown] = ConfirmPasswordModal(
            "Replace your authenticator device. The old device keeps working until the "
            "new one is confirmed.",
            lambda portal, password: with_qr_code(
                portal.mfa.start_enrolment(caller, password=password)
            ),
        )
        self.app.push_screen(modal, self._replacement_started)

    @on(Button.Pressed, "#disable-mfa")
    def action_disable_mfa(self) -> None:
        """Confirm the password, then turn MFA off."""
        session = self.session
        if session is None or not session.account.mfa_enabled:
            return
        requiring = session.account.organisations_requiring_mfa
        if requiring:  # the service refuses it too; no password is asked for in vain
            self.notify(str(MfaRequiredByPolicy(requiring)), severity="warning", markup=False)
            return
        caller = session.caller
        modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(
            "Disable MFA for your account. Signing in will then need only your password, "
            "and your recovery codes stop working.",
            lambda portal, password: portal.mfa.disable_own(caller, password=password),
        )
        self.app.push_screen(modal, self._disabled)

    @on(Button.Pressed, "#regenerate-codes")
    def action_regenerate_codes(self) -> None:
        """Confirm the password, then show a new set of recovery codes (the old set ends)."""
        session = self.session
        if session is None or not session.account.mfa_enabled:
            return
        caller = session.caller
        modal: ConfirmPasswordModal[RecoveryCodes] = ConfirmPasswordModal(
            "Regenerate recovery codes. A new set of ten is shown once; the codes you have "
            "now stop working.",
            lambda portal, password: portal.mfa.regenerate_recovery_codes(
                caller, password=password
            ),
        )
        self.app.push_screen(modal, self._regenerated)

    def action_users(self) -> None:
        """Open Manage Access › Users."""
        portal_app(self).open_users()

    def _show_enrolment(self, shown: EnrolmentShown) -> None:
        enrolment, renderings = shown
        self.app.push_screen(EnableMfaScreen(enrolment, renderings))

    def _replacement_started(self, shown: EnrolmentShown | None) -> None:
        if shown is not None:
            self._show_enrolment(shown)

    def _disabled(self, account: Account | None) -> None:
        if account is not None:
            portal_app(self).account_changed(account)
            self.notify("MFA is now disabled")

    def _regenerated(self, codes: RecoveryCodes | None) -> None:
        if codes is None:
            return
        from tui_portal.screens.recovery_codes import RecoveryCodesScreen

        portal_app(self).reload_session()  # ten left again
        self.app.push_screen(RecoveryCodesScreen(codes, heading=REGENERATED))

    # -- the password -----------------------------------------------------------------

    @on(Button.Pressed, "#change-password")
    def action_change_password(self) -> None:
        """Open the Change password screen."""
        from tui_portal.screens.change_password import ChangePasswordScreen

        if self.session is not None:
            self.app.push_screen(ChangePasswordScreen())

    # -- sessions and activity --------------------------------------------------------

    def load_lists(self) -> None:
        """Read the live sessions and the latest activity (as many events as shown)."""
        session = self.session
        if session is None or not self.query("#sessions"):
            return  # not mounted yet: they are read once they are
        caller = session.caller
        shown = len(self._activity.entries) if self._activity is not None else 0
        limit = min(max(ACTIVITY_PAGE, shown), ACTIVITY_MOST)
        call_service(
            self,
            lambda portal: (
                portal.sessions.live(caller),
                portal.activity.recent(caller, limit=limit),
            ),
            self._show_lists,
            self._lists_failed,
            group="profile-lists",
        )

    def _show_lists(self, lists: tuple[tuple[SessionSummary, ...], ActivityPage]) -> None:
        sessions, activity = lists
        self.query_one("#sessions", Static).update(sessions_table(sessions))
        self._show_activity(activity)

    def _lists_failed(self, error: PortalError) -> None:
        for selector in ("#sessions", "#activity"):
            self.query_one(selector, Static).update(Text(str(error)))

    def _show_activity(self, page: ActivityPage) -> None:
        self._activity = page
        shown = self.query_one("#activity", Static)
        shown.update(activity_table(page.entries) if page.entries else Text("No events yet."))
        self.query_one("#older-activity").display = page.older is not None

    @on(Button.Pressed, "#older-activity")
    def _older_activity(self) -> None:
        session, page = self.session, self._activity
        if session is None or page is None or page.older is None:
            return
        caller, older = session.caller, page.older
        call_service(
            self,
            lambda portal: portal.activity.recent(caller, older_than=older, limit=ACTIVITY_PAGE),
            lambda more: self._more_activity(page, more),
            group="profile-lists",
        )

    def _more_activity(self, before: ActivityPage, more: ActivityPage) -> None:
        if self._activity is before:  # not reloaded meanwhile
            self._show_activity(ActivityPage((*before.entries, *more.entries), more.older))

    @on(Button.Pressed, "#sign-out-others")
    def action_sign_out_others(self) -> None:
        """End every other live session of this account."""
        session = self.session
        if session is None:
            return
        caller = session.caller
        message = self.query_one("#sessions-message", StatusLine)
        message.say("Signing out…", "info")
        call_service(
            self,
            lambda portal: portal.sessions.sign_out_others(caller),
            self._others_signed_out,
            lambda error: message.say(str(error)),
        )

    def _others_signed_out(self, ended: int) -> None:
        self.query_one("#sessions-message", StatusLine).say(signed_out_message(ended), "success")
        self.load_lists()
