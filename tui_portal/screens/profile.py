"""The Profile screen: who you are, your organisations, and your MFA status and actions.

It shows the session's account and follows it: when MFA is enabled or disabled here, or
the account changes elsewhere (a role, a membership), the screen redraws from the session.
Further sections (recovery codes, password, sessions, activity) go below the MFA actions,
each a widget that draws itself from the account.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.screens.enable_mfa import EnableMfaScreen, EnrolmentShown, with_qr_code
from tui_portal.screens.service_calls import call_service, portal_app
from tui_portal.screens.session_state import PortalSession
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.services.results import Account


class ProfileScreen(SignedInScreen):
    """Username, display name, email, organisations and roles, and the MFA buttons."""

    DEFAULT_CSS = beside(__file__, "profile.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "enable_mfa", "Enable MFA", id="enable-mfa"),
        Binding("d", "disable_mfa", "Disable MFA", id="disable-mfa"),
        Binding("r", "replace_device", "Replace device", id="replace-device"),
        Binding("u", "users", "Users", id="users"),
    ]
    HELP = """\
# Profile

Your account, your organisations and your MFA status.

**Enable MFA**: install an authenticator app on your phone (Google Authenticator,
Microsoft Authenticator, 1Password, Authy, …), select **Enable MFA**, scan the QR code,
type the **Authenticator code** the app shows and select **Submit**.

**Disable MFA**: select **Disable MFA** and confirm your password.

**Replace device** (a new phone): select **Replace device**, confirm your password, and
scan the new QR code with the new phone. The old phone keeps working until the new one is
confirmed. Where your authenticator app supports it, restoring it from a backup onto the
new phone avoids this step.
"""

    def compose(self) -> ComposeResult:
        yield self.top_bar()
        with VerticalScroll(id="profile-body"), Vertical(id="profile-box") as box:
            box.border_title = "Profile"
            yield Static(id="details")
            yield Static(id="organisations")
            yield Label("", id="mfa-status")
            with Horizontal(id="mfa-actions"):
                yield Button("Enable MFA", id="enable-mfa", variant="primary")
                yield Button("Disable MFA", id="disable-mfa", variant="error")
                yield Button("Replace device", id="replace-device")
        yield Footer()

    def on_mount(self) -> None:
        if self.session is not None:
            self.session_changed(self.session)

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
        self.query_one("#details", Static).update(details)
        orgs = Text()
        orgs.append("Organisations\n", style="bold")
        for org in account.organisations:
            orgs.append(f"  {org.name}")
            orgs.append(f"  ({org.role})\n", style="dim")
        if not account.organisations:
            orgs.append("  none\n", style="dim")
        self.query_one("#organisations", Static).update(orgs)
        status = self.query_one("#mfa-status", Label)
        status.update("MFA: Enabled" if account.mfa_enabled else "MFA: Disabled")
        status.set_class(account.mfa_enabled, "enabled")
        self.query_one("#enable-mfa").display = not account.mfa_enabled
        self.query_one("#disable-mfa").display = account.mfa_enabled
        self.query_one("#replace-device").display = account.mfa_enabled
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        session = self.session
        if session is None:
            return False
        account = session.account
        if action == "enable_mfa":
            return not account.mfa_enabled
        if action in ("disable_mfa", "replace_device"):
            return account.mfa_enabled
        if action == "users":
            return account.can_manage_users
        return True

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
        caller = session.caller
        modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(
            "Disable MFA for your account. Signing in will then need only your password.",
            lambda portal, password: portal.mfa.disable_own(caller, password=password),
        )
        self.app.push_screen(modal, self._disabled)

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
