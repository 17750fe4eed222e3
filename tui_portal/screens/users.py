"""Manage Access › Users: one organisation's members, paged and filtered by the database.

The table only ever holds one page. Moving past either end of the page, or jumping to the
first or last member, asks the database for the next window; typing in the filter asks for
the first window of the matches. An organisation of 100,000 members opens as fast as one
of ten.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from tui_portal.errors import PortalError
from tui_portal.screens.service_calls import ServiceCalls
from tui_portal.services.results import Account, Caller, MemberPage, MemberRow
from tui_portal.widgets.top_bar import OrganisationChanged, TopBar

PAGE_SIZE = 100
COLUMNS = ("Username", "Name", "Email", "Role", "MFA", "Last sign-in")


class FilterInput(Input):
    """The filter field of the users table."""


class MembersTable(DataTable[Text]):
    """The users table. It asks for the next page when the cursor runs off either end."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "disable_mfa", "Disable MFA", id="table-disable-mfa"),
        Binding("ctrl+home", "first_member", "First", show=False),
        Binding("ctrl+end", "last_member", "Last member", id="last-member"),
    ]

    class PageWanted(Message):
        """Load the page starting at ``offset``; put the cursor on its first or last row."""

        def __init__(self, offset: int, cursor_at_end: bool) -> None:
            super().__init__()
            self.page_offset = offset
            self.cursor_at_end = cursor_at_end

    class DisableWanted(Message):
        """Disable MFA for the highlighted user was asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.page_offset = 0
        self.page_total = 0

    @property
    def _at_last_row_with_more(self) -> bool:
        on_last_row = self.cursor_row >= self.row_count - 1
        return on_last_row and self.page_offset + self.row_count < self.page_total

    def _turn_page(self, forward: bool) -> bool:
        """At the end of the page, ask for the next (or previous) one; say if it did."""
        if forward and self._at_last_row_with_more:
            self.post_message(self.PageWanted(self.page_offset + self.row_count, False))
            return True
        if not forward and self.cursor_row <= 0 and self.page_offset > 0:
            self.post_message(self.PageWanted(max(0, self.page_offset - PAGE_SIZE), True))
            return True
        return False

    def action_cursor_down(self) -> None:
        if not self._turn_page(forward=True):
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if not self._turn_page(forward=False):
            super().action_cursor_up()

    def action_page_down(self) -> None:
        if not self._turn_page(forward=True):
            super().action_page_down()

    def action_page_up(self) -> None:
        if not self._turn_page(forward=False):
            super().action_page_up()

    def action_first_member(self) -> None:
        """Jump to the first member."""
        self.post_message(self.PageWanted(0, False))

    def action_last_member(self) -> None:
        """Jump to the last member."""
        self.post_message(self.PageWanted(max(0, self.page_total - PAGE_SIZE), True))

    def action_disable_mfa(self) -> None:
        """Start Disable MFA for the highlighted user."""
        self.post_message(self.DisableWanted())


class UsersScreen(Screen[None], ServiceCalls):
    """Title, filter, the members table, and Disable MFA for the highlighted user."""

    CSS_PATH = "users.tcss"
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
        self._generation = 0
        self._rows: dict[str, MemberRow] = {}

    def compose(self) -> ComposeResult:
        yield TopBar(self.portal_app)
        with Vertical(id="users-body"):
            yield Label("", id="users-title")
            with Horizontal(id="users-toolbar"):
                yield FilterInput(
                    id="filter",
                    placeholder="Filter by username, name or email  ( / )",
                    max_length=100,
                )
                yield Button("Disable MFA", id="disable-mfa", variant="error")
            table = MembersTable(id="members")
            for column in COLUMNS:
                table.add_column(column, key=column)
            yield table
            yield Static("", id="users-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show_title()
        self._load(0, cursor_at_end=False)

    # -- loading ----------------------------------------------------------------------

    def _org_name(self) -> str:
        app = self.portal_app
        return next((o.name for o in app.organisations if o.id == app.org_id), "")

    def _show_title(self) -> None:
        title = Text("Manage Access › Users")
        if name := self._org_name():
            title.append(" — ")
            title.append(name, style="bold")
        self.query_one("#users-title", Label).update(title)

    def _load(self, offset: int, *, cursor_at_end: bool) -> None:
        app = self.portal_app
        caller, org_id = app.caller, app.org_id
        if caller is None:
            return
        if org_id is None:
            self._say("You are not in any organisation.")
            return
        self._generation += 1
        generation = self._generation
        prefix = self.query_one("#filter", FilterInput).value
        self.call_service(
            lambda portal: portal.members.member_page(
                caller, org_id=org_id, prefix=prefix, offset=offset, limit=PAGE_SIZE
            ),
            partial(self._show_page, generation, cursor_at_end),
            partial(self._load_failed, generation),
        )

    def _show_page(self, generation: int, cursor_at_end: bool, page: MemberPage) -> None:
        if generation != self._generation or not self.is_attached:
            return  # a newer request is on its way
        table = self.query_one(MembersTable)
        table.clear()
        table.page_offset, table.page_total = page.offset, page.total
        self._rows = {str(row.user_id): row for row in page.rows}
        for row in page.rows:
            table.add_row(*cells(row), key=str(row.user_id))
        if page.rows:
            table.move_cursor(row=len(page.rows) - 1 if cursor_at_end else 0)
        self._show_status(page)

    def _load_failed(self, generation: int, error: PortalError) -> None:
        if generation != self._generation or not self.is_attached:
            return
        table = self.query_one(MembersTable)
        table.clear()
        table.page_offset = table.page_total = 0
        self._rows = {}
        self._say(str(error))

    def _show_status(self, page: MemberPage) -> None:
        if page.total == 0:
            text = "No members match this filter." if page.prefix else "No members yet."
        else:
            first, last = page.offset + 1, page.offset + len(page.rows)
            text = f"Members {first:,}–{last:,} of {page.total:,}"
        self._say(text)

    def _say(self, text: str) -> None:
        self.query_one("#users-status", Static).update(text)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._load(0, cursor_at_end=False)

    @on(MembersTable.PageWanted)
    def _page_wanted(self, message: MembersTable.PageWanted) -> None:
        self._load(message.page_offset, cursor_at_end=message.cursor_at_end)

    def on_organisation_changed(self, message: OrganisationChanged) -> None:
        self.query_one(TopBar).show_organisation(message.org_id)
        self._show_title()
        self._load(0, cursor_at_end=False)

    # -- disabling MFA ----------------------------------------------------------------

    @on(MembersTable.DisableWanted)
    @on(Button.Pressed, "#disable-mfa")
    def _disable_wanted(self) -> None:
        from tui_portal.screens.confirm_password import ConfirmPasswordModal

        table = self.query_one(MembersTable)
        app = self.portal_app
        if table.row_count == 0 or app.account is None or app.org_id is None:
            self.notify("Highlight a user in the table first.")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = self._rows.get(key or "")
        if row is None:
            return
        if not row.mfa_enabled:
            self.notify(f"MFA is already disabled for {row.username}.", markup=False)
            return
        caller, org_id, org_name = app.caller, app.org_id, self._org_name()
        assert caller is not None
        self.app.push_screen(
            ConfirmPasswordModal(
                f"Disable MFA for {row.username} in {org_name}. They will sign in with their "
                "password alone and can enrol again.",
                partial(_disable_for_user, caller, row.user_id, org_id),
            ),
            partial(self._disabled, row),
        )

    def _disabled(self, row: MemberRow, result: Any) -> None:
        if not isinstance(result, Account):
            return
        self._rows[str(row.user_id)] = MemberRow(
            row.user_id,
            row.username,
            row.name,
            row.email,
            row.role,
            result.mfa_enabled,
            row.last_sign_in_at,
        )
        table = self.query_one(MembersTable)
        if str(row.user_id) in table.rows:  # it may have paged away; the next load is right
            table.update_cell(str(row.user_id), "MFA", mfa_cell(result.mfa_enabled))
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
        self.set_focus(self.query_one(MembersTable))

    def action_back(self) -> None:
        """Back to the profile."""
        self.dismiss(None)


def mfa_cell(enabled: bool) -> Text:
    """The MFA column's cell."""
    return Text("Enabled", style="green") if enabled else Text("Disabled", style="yellow")


def cells(row: MemberRow) -> tuple[Text, ...]:
    """A member as table cells; every text is literal, never markup."""
    last = row.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if row.last_sign_in_at else "Never"
    return (
        Text(row.username),
        Text(row.name),
        Text(row.email),
        Text(row.role),
        mfa_cell(row.mfa_enabled),
        Text(last, style="dim" if row.last_sign_in_at is None else ""),
    )


def _disable_for_user(
    caller: Caller, user_id: int, org_id: int, portal: Any, password: str
) -> Account:
    account: Account = portal.mfa.disable_for_user(
        caller, password=password, target_user_id=user_id, org_id=org_id
    )
    return account
