"""Manage Access › Users: one organisation's members, paged and filtered by the database.

The table (:class:`~tui_portal.widgets.members_table.MembersTable`) draws only the members
in view and asks for the window of rows it needs; this screen answers from the members
service in a thread. The screen follows the session's chosen organisation even while a
modal is over it, and acts on a member with the organisation of the page the member was
read from, never with whatever is chosen now. The table takes the terminal's whole width,
so at 80 columns a 64-character username, the role and the MFA cell fit whole.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Footer, Input, Label, Static

from tui_portal.errors import PortalError
from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.screens.service_calls import call_service
from tui_portal.screens.session_state import PortalSession
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.services.results import Account, MemberRow
from tui_portal.widgets.members_table import HighlightedMember, MembersTable

NOT_IN_AN_ORGANISATION = "You are not in any organisation."


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
"""

    def __init__(self) -> None:
        super().__init__()
        self._org_id: int | None = None

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
        """Show the chosen organisation: its name in the title, its members in the table."""
        organisation = session.organisation
        title = Content("Manage Access › Users")
        if organisation is not None:
            title = Content.assemble(title, " — ", (organisation.name, "bold"))
        self.query_one("#users-title", Label).update(title)
        org_id = session.org_id
        if org_id == self._org_id:
            return
        self._org_id = org_id
        if org_id is None:
            self.table.show_notice(NOT_IN_AN_ORGANISATION)
        else:
            self.table.show_query(org_id, self.query_one("#filter", FilterInput).value)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._org_id is not None:
            self.table.show_query(self._org_id, event.value)

    # -- the table's windows ----------------------------------------------------------

    @on(MembersTable.WindowWanted)
    def _window_wanted(self, wanted: MembersTable.WindowWanted) -> None:
        session = self.session
        if session is None:
            return
        caller, table = session.caller, wanted.table
        org_id, prefix, offset, limit = wanted.org_id, wanted.prefix, wanted.offset, wanted.limit
        call_service(
            self,
            lambda portal: portal.members.member_page(
                caller, org_id=org_id, prefix=prefix, offset=offset, limit=limit
            ),
            table.show_window,
            lambda error: self._window_failed(table, org_id, prefix, error),
            group="member-windows",
        )

    def _window_failed(
        self, table: MembersTable, org_id: int, prefix: str, error: PortalError
    ) -> None:
        shown = table.shown_query
        if shown is not None and (shown.org_id, shown.prefix) == (org_id, prefix):
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
