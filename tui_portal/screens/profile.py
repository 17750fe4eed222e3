"""The Profile screen: who you are, your organisations, and your MFA status and actions."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, Static

from tui_portal.screens.service_calls import ServiceCalls
from tui_portal.services.results import Account, Caller, Enrolment
from tui_portal.widgets.top_bar import OrganisationChanged, TopBar


class ProfileScreen(Screen[None], ServiceCalls):
    """Username, display name, email, organisations and roles, and the MFA button."""

    CSS_PATH = "profile.tcss"
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
        yield TopBar(self.portal_app)
        with VerticalScroll(id="profile-body"), Vertical(id="profile-box") as box:
            box.border_title = "Profile"
            yield Static(id="details", markup=False)
            yield Static(id="organisations", markup=False)
            yield Label("", id="mfa-status")
            with Horizontal(id="mfa-actions"):
                yield Button("Enable MFA", id="enable-mfa", variant="primary")
                yield Button("Disable MFA", id="disable-mfa", variant="error")
                yield Button("Replace device", id="replace-device")
        yield Footer()

    def on_mount(self) -> None:
        self._show(self._account())

    def on_screen_resume(self) -> None:
        account = self.portal_app.account
        if account is None:  # signing out: this screen is about to go
            return
        self._show(account)
        caller = self.portal_app.caller
        if caller is not None:
            self.call_service(lambda portal: portal.members.account(caller), self._reloaded)

    def _caller(self) -> Caller:
        caller = self.portal_app.caller
        assert caller is not None
        return caller

    def _account(self) -> Account:
        account = self.portal_app.account
        assert account is not None
        return account

    def _reloaded(self, account: Account) -> None:
        self.portal_app.refresh_account(account)
        if self.is_attached:
            self._show(account)

    def _show(self, account: Account) -> None:
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
            orgs.append(f"  {org.name}", style="")
            orgs.append(f"  ({org.role})\n", style="dim")
        if not account.organisations:
            orgs.append("  none\n", style="dim")
        self.query_one("#organisations", Static).update(orgs)
        status = "MFA: Enabled" if account.mfa_enabled else "MFA: Disabled"
        self.query_one("#mfa-status", Label).update(status)
        self.query_one("#mfa-status").set_class(account.mfa_enabled, "enabled")
        self.query_one("#enable-mfa").display = not account.mfa_enabled
        self.query_one("#disable-mfa").display = account.mfa_enabled
        self.query_one("#replace-device").display = account.mfa_enabled
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        account = self.portal_app.account
        if account is None:
            return False
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
        account, caller = self._account(), self.portal_app.caller
        if account.mfa_enabled or caller is None:
            return
        self.call_service(lambda portal: portal.mfa.start_enrolment(caller), self._show_enrolment)

    @on(Button.Pressed, "#replace-device")
    def action_replace_device(self) -> None:
        """Confirm the password, then enrol a new device in place of the old one."""
        from tui_portal.screens.confirm_password import ConfirmPasswordModal

        account = self._account()
        if not account.mfa_enabled:
            return
        self.app.push_screen(
            ConfirmPasswordModal(
                "Replace your authenticator device. The old device keeps working until the "
                "new one is confirmed.",
                partial(_start_replacement, self._caller()),
            ),
            self._enrolment_confirmed_password,
        )

    @on(Button.Pressed, "#disable-mfa")
    def action_disable_mfa(self) -> None:
        """Confirm the password, then turn MFA off."""
        from tui_portal.screens.confirm_password import ConfirmPasswordModal

        account = self._account()
        if not account.mfa_enabled:
            return
        self.app.push_screen(
            ConfirmPasswordModal(
                "Disable MFA for your account. Signing in will then need only your password.",
                partial(_disable_own, self._caller()),
            ),
            self._disabled,
        )

    def action_users(self) -> None:
        """Open Manage Access › Users."""
        self.portal_app.open_users()

    def _show_enrolment(self, enrolment: Enrolment) -> None:
        from tui_portal.screens.enable_mfa import EnableMfaScreen

        self.app.push_screen(EnableMfaScreen(enrolment))

    def _enrolment_confirmed_password(self, enrolment: Any) -> None:
        if isinstance(enrolment, Enrolment):
            self._show_enrolment(enrolment)

    def _disabled(self, account: Any) -> None:
        if isinstance(account, Account):
            self.portal_app.refresh_account(account)
            self._show(account)
            self.notify("MFA is now disabled")

    def on_organisation_changed(self, message: OrganisationChanged) -> None:
        self.query_one(TopBar).show_organisation(message.org_id)


def _start_replacement(caller: Caller, portal: Any, password: str) -> Enrolment:
    enrolment: Enrolment = portal.mfa.start_enrolment(caller, password=password)
    return enrolment


def _disable_own(caller: Caller, portal: Any, password: str) -> Account:
    account: Account = portal.mfa.disable_own(caller, password=password)
    return account
