"""Manage Access › Users: one organisation's members, paged and filtered by the database.

The table (:class:`~tui_portal.widgets.members_table.MembersTable`) draws only the members
in view and asks for the window of rows it needs; this screen answers from the members
service in a thread. The screen follows the session's chosen organisation even while a
modal is over it, and acts on a member with the organisation of the page the member was
read from, never with whatever is chosen now. The table takes the terminal's whole width,
so at 80 columns a 64-character username, the role and the MFA cell fit whole.

Above the table, the organisation's MFA policy: the title says how many members have no
MFA, "Require MFA" (for its admins and account managers) sets the policy after the
confirm-password modal, and "Without MFA only" shows just the members who have none. Both
follow the organisation picker and the session's reloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from tui_portal.errors import PortalError
from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.screens.service_calls import call_service
from tui_portal.screens.session_state import PortalSession
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.services.results import Account, MemberPage, MemberRow, OrgId, OrgSummary
from tui_portal.widgets.members_table import HighlightedMember, MembersQuery, MembersTable
from tui_portal.widgets.policy_switch import PolicySwitch, Toggle

if TYPE_CHECKING:
    from tui_portal.services.portal import Portal

NOT_IN_AN_ORGANISATION = "You are not in any organisation."
REQUIRE_MFA = "Require MFA"
WITHOUT_MFA_ONLY = "Without MFA only"


def users_title(org_name: str | None, summary: OrgSummary | None) -> Content:
    """ "Manage Access › Users — NAME — N without MFA" (the count once it is known)."""
    title = Content("Manage Access › Users")
    if org_name is not None:
        title = Content.assemble(title, " — ", (org_name, "bold"))
    if summary is not None:
        title = Content.assemble(title, f" — {summary.without_mfa:,} without MFA")
    return title


def policy_purpose(org_name: str, required: bool) -> str:
    """What confirming a change of ``org_name``'s MFA policy will do, in words."""
    if required:
        return (
            f"Require MFA in {org_name}. Members without MFA enable it at their next "
            "sign-in and can do nothing else until they have."
        )
    return f"Stop requiring MFA in {org_name}. Members may then sign in with a password alone."


class FilterInput(Input):
    """The filter field of the users table."""


class UsersScreen(SignedInScreen):
    """Title, filter, the members table, and Disable MFA for the highlighted member."""

    DEFAULT_CSS = beside(__file__, "users.tcss")
    AUTO_FOCUS = "#members"
    # "/", Enter and Down move focus as priority bindings: focus moves at once, so the keys
    # typed right after them land in the right place even when they arrive together.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="filter", priority=True),
        Binding("enter,down", "to_table", "To table", show=False, priority=True),
        Binding("escape", "back", "Back", id="back"),
        Binding("m", "require_mfa", REQUIRE_MFA, id="require-mfa"),
        Binding("w", "without_mfa", "Without MFA", id="without-mfa"),
    ]
    HELP = """\
# Manage Access › Users

For organisation admins and account managers.

1. Choose the organisation in the drop-down at the top (if you are in several).
2. Press **/** and type the start of a username, name or email to filter; **Enter** or
   **Down** moves to the table. **ctrl+end** jumps to the last member.
3. To recover the account of someone who lost their authenticator, highlight them and
   press **d** (or select **Disable MFA**), then confirm **your own** password.
4. They can now sign in with their password alone and enable MFA again from their
   Profile.

The title says how many members have no MFA. **w** (or **Without MFA only**) shows just
them. **m** (or the **Require MFA** switch) makes MFA a must in the organisation, after
you confirm your password: members without MFA then enable it at their next sign-in and
can do nothing else until they have. Only the organisation's admins and account managers
can change it.
"""

    def __init__(self) -> None:
        super().__init__()
        self._org_id: OrgId | None = None
        self._summary: OrgSummary | None = None

    def compose(self) -> ComposeResult:
        yield self.top_bar()
        with Vertical(id="users-body"):
            yield Label("", id="users-title")
            with Horizontal(id="users-toolbar"):
                yield FilterInput(
                    id="filter",
                    placeholder="Filter by username, name or email  ( / )",
                    max_length=100,
                )
                yield Button("Disable MFA", id="disable-mfa", variant="error")
            with Horizontal(id="users-policy"):
                yield PolicySwitch(REQUIRE_MFA, id="require-mfa", compact=True)
                yield Toggle(WITHOUT_MFA_ONLY, id="without-mfa", compact=True)
            yield MembersTable(id="members")
            yield Static("", id="users-status")
        yield Footer()

    def on_mount(self) -> None:
        if self.session is not None:
            self.session_changed(self.session)

    @property
    def table(self) -> MembersTable:
        """The members table."""
        return self.query_one(MembersTable)

    # -- following the session --------------------------------------------------------

    def session_changed(self, session: PortalSession) -> None:
        """Show the chosen organisation: its name and count in the title, its policy, its
        members in the table."""
        org_id = session.org_id
        switch = self.query_one("#require-mfa", PolicySwitch)
        switch.display = org_id is not None and _may_set_policy(session.account, org_id)
        if org_id != self._org_id:
            self._org_id = org_id
            self._summary = None
            self._show_members()  # the count follows the first window (see _window_read)
        else:
            self.load_summary()  # the policy or the count may have changed with the session
        self._draw_title()

    def _draw_title(self) -> None:
        session = self.session
        organisation = session.organisation if session is not None else None
        summary = self._summary if self._summary is not None else None
        name = organisation.name if organisation is not None else None
        self.query_one("#users-title", Label).update(users_title(name, summary))

    def _show_members(self) -> None:
        """Show the chosen organisation's members, as the filter and the toggle say."""
        org_id = self._org_id
        if org_id is None:
            self.table.show_notice(NOT_IN_AN_ORGANISATION)
            return
        self.table.show_query(
            org_id,
            self.query_one("#filter", FilterInput).value,
            only_without_mfa=self.query_one("#without-mfa", Checkbox).value,
        )

    def load_summary(self) -> None:
        """Read the organisation's policy and how many of its members have no MFA."""
        session, org_id = self.session, self._org_id
        if session is None or org_id is None:
            return
        caller = session.caller
        call_service(
            self,
            lambda portal: portal.members.summary(caller, org_id=org_id),
            self._show_summary,
            lambda _error: None,  # the table says why the organisation cannot be shown
            group="users-summary",
        )

    def _show_summary(self, summary: OrgSummary) -> None:
        if summary.org_id != self._org_id:
            return  # an answer for the organisation chosen before
        self._summary = summary
        self.query_one("#require-mfa", PolicySwitch).show(summary.mfa_required)
        self._draw_title()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._show_members()

    @on(Checkbox.Changed, "#without-mfa")
    def _without_mfa_changed(self) -> None:
        self._show_members()

    # -- the table's windows ----------------------------------------------------------

    @on(MembersTable.WindowWanted)
    def _window_wanted(self, wanted: MembersTable.WindowWanted) -> None:
        session = self.session
        if session is None:
            return
        caller, table, query = session.caller, wanted.table, wanted.query
        org_id, prefix, offset, limit = wanted.org_id, wanted.prefix, wanted.offset, wanted.limit
        only_without_mfa = wanted.only_without_mfa
        call_service(
            self,
            lambda portal: portal.members.member_page(
                caller,
                org_id=org_id,
                prefix=prefix,
                offset=offset,
                limit=limit,
                only_without_mfa=only_without_mfa,
            ),
            lambda page: self._window_read(table, page),
            lambda error: self._window_failed(table, query, error),
            group="member-windows",
        )

    def _window_read(self, table: MembersTable, page: MemberPage) -> None:
        """Draw the window; then, the first time for this organisation, count its members
        without MFA (counting a large organisation takes longer than its first window, so
        the rows come first)."""
        table.show_window(page)
        if self._summary is None or self._summary.org_id != self._org_id:
            self.load_summary()

    def _window_failed(self, table: MembersTable, query: MembersQuery, error: PortalError) -> None:
        if table.shown_query == query:
            table.show_notice(str(error))

    @on(MembersTable.Highlighted)
    def _highlighted(self, message: MembersTable.Highlighted) -> None:
        total = message.table.total
        if total is None or message.table.shown_query is None or total == 0:
            text = ""
        else:
            text = f"Member {message.index + 1:,} of {total:,}"
        self.query_one("#users-status", Static).update(Content(text))

    # -- disabling a member's MFA -----------------------------------------------------

    @on(MembersTable.DisableWanted)
    def _disable_wanted(self, message: MembersTable.DisableWanted) -> None:
        self._disable(message.member)

    @on(Button.Pressed, "#disable-mfa")
    def _disable_pressed(self) -> None:
        self._disable(self.table.highlighted)

    def _disable(self, member: HighlightedMember | None) -> None:
        session, page = self.session, self.table.loaded
        if member is None or session is None or page is None:
            self.notify("Highlight a user in the table first.")
            return
        row = member.row
        if not row.mfa_enabled:
            self.notify(f"MFA is already disabled for {row.username}.", markup=False)
            return
        caller, org_id, user_id = session.caller, member.org_id, row.user_id
        org_name = page.org_name if page.org_id == org_id else ""
        modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(
            f"Disable MFA for {row.username} in {org_name}. They will sign in with their "
            "password alone and can enrol again.",
            lambda portal, password: portal.mfa.disable_for_user(
                caller, password=password, target_user_id=user_id, org_id=org_id
            ),
        )
        self.app.push_screen(modal, lambda account: self._disabled(row, account))

    def _disabled(self, row: MemberRow, account: Account | None) -> None:
        if account is None:
            return
        from dataclasses import replace

        self.table.update_member(replace(row, mfa_enabled=account.mfa_enabled))
        self.notify(f"MFA disabled for {row.username}", markup=False)
        self.load_summary()

    # -- the organisation's MFA policy ------------------------------------------------

    def action_require_mfa(self) -> None:
        """Turn the "Require MFA" switch (after the confirm-password modal)."""
        switch = self.query_one("#require-mfa", PolicySwitch)
        if switch.display:
            switch.toggle()

    @on(PolicySwitch.Wanted, "#require-mfa")
    def _policy_wanted(self, wanted: PolicySwitch.Wanted) -> None:
        session, summary = self.session, self._summary
        if session is None or summary is None or summary.org_id != self._org_id:
            self.notify("The organisation is still loading; try again in a moment.")
            return
        caller, org_id, required = session.caller, summary.org_id, wanted.value

        def set_policy(portal: Portal, password: str) -> bool:
            portal.governance.set_mfa_policy_for(
                caller, org_id=org_id, required=required, password=password
            )
            return required

        modal: ConfirmPasswordModal[bool] = ConfirmPasswordModal(
            policy_purpose(summary.name, required), set_policy
        )
        self.app.push_screen(modal, lambda done: self._policy_set(summary, done))

    def _policy_set(self, summary: OrgSummary, required: bool | None) -> None:
        if required is None:
            return  # cancelled: nothing changed, and the switch never moved
        if summary.org_id == self._org_id:
            self.query_one("#require-mfa", PolicySwitch).show(required)
        state = "now requires" if required else "no longer requires"
        self.notify(f"{summary.name} {state} MFA", markup=False)
        self.load_summary()

    def action_without_mfa(self) -> None:
        """Show just the members without MFA, or everyone again."""
        self.query_one("#without-mfa", Checkbox).toggle()

    # -- keys -------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter (in the filter itself, "/" is just typed)."""
        field = self.query_one("#filter", FilterInput)
        if self.focused is field:
            raise SkipAction()
        self.set_focus(field)

    def action_to_table(self) -> None:
        """From the filter, Enter or Down moves to the table."""
        if not isinstance(self.focused, FilterInput):
            raise SkipAction()
        self.set_focus(self.table)

    def action_back(self) -> None:
        """Back to the profile."""
        self.dismiss(None)


def _may_set_policy(account: Account, org_id: OrgId) -> bool:
    """Whether the Require MFA switch applies: an admin of the organisation, or staff."""
    return account.is_account_manager or account.role_in(org_id) == "admin"
