"""The Users table widget on its own: a harness app answers its windows from memory.

The harness plays the screen's part (answering ``WindowWanted`` as the directory would),
so these tests need no database: what is drawn is read back from the widget's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache

import pytest
from rich.segment import Segment
from textual import events
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from tests.tui.flows import wait_until
from tui_portal.services.members import PAGE_SIZE_MAX
from tui_portal.services.results import MemberPage, MemberRow
from tui_portal.services.validation import check_filter, text_key
from tui_portal.widgets.member_columns import (
    EMAIL,
    GAP,
    LAST_SIGN_IN,
    LAST_SIGN_IN_WIDTH,
    MARGIN,
    MFA,
    MFA_WIDTH,
    NAME,
    ROLE,
    ROLE_WIDTH,
    USERNAME,
    ColumnNeeds,
    fit,
    keeps_scrollbar,
    key_width,
    plan_columns,
    row_cells,
)
from tui_portal.widgets.member_window import Span, view_span, wanted_span, window_around
from tui_portal.widgets.members_table import LOADING, NO_MATCHES, NO_MEMBERS, MembersTable

ORG = 7
OTHER_ORG = 8
SIGNED_IN = datetime(2025, 3, 4, 5, 6)
LONG_USERNAME = "a" * 60 + ".dev"  # 64 characters, the longest a username may be
HEADER = ("Username", "Name", "Email", "Role", "MFA", "Last sign-in")


def member(number: int, **changes: object) -> MemberRow:
    row = MemberRow(
        user_id=number,
        username=f"user{number:06d}",
        name=f"Person {number}",
        email=f"user{number:06d}@example.com",
        role="admin" if number % 10 == 0 else "member",
        mfa_enabled=number % 3 == 0,
        last_sign_in_at=SIGNED_IN if number % 2 else None,
    )
    return replace(row, **changes) if changes else row  # type: ignore[arg-type]


@cache
def members(count: int) -> tuple[MemberRow, ...]:
    return tuple(member(number) for number in range(count))


def matches(row: MemberRow, key: str) -> bool:
    """Whether the username, name or email starts with ``key``, ignoring case."""
    return any(text_key(text).startswith(key) for text in (row.username, row.name, row.email))


class Directory:
    """Organisations' members in memory, paged and filtered as the directory service does."""

    def __init__(self, orgs: dict[int, Sequence[MemberRow]]) -> None:
        self.orgs = orgs

    def page(self, org_id: int, prefix: str, offset: int, limit: int) -> MemberPage:
        key = check_filter(prefix)
        rows = self.orgs.get(org_id, ())
        if key:
            rows = [row for row in rows if matches(row, key)]
        window = tuple(rows[offset : offset + limit])
        return MemberPage(org_id, "Acme", key, offset, len(rows), window)


class Harness(App[None]):
    """A screen's part: answer the table's windows (now, or when released) and note
    every message the table posts."""

    def __init__(self, directory: Directory, *, answering: bool = True) -> None:
        super().__init__()
        self.directory = directory
        self.answering = answering
        self.held: list[MembersTable.WindowWanted] = []
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield MembersTable(id="members")

    @property
    def table(self) -> MembersTable:
        return self.query_one(MembersTable)

    def on_members_table_window_wanted(self, message: MembersTable.WindowWanted) -> None:
        self.posted.append(message)
        if self.answering:
            self.answer(message)
        else:
            self.held.append(message)

    def answer(self, message: MembersTable.WindowWanted) -> bool:
        page = self.directory.page(message.org_id, message.prefix, message.offset, message.limit)
        return self.table.show_window(page)

    def release(self) -> None:
        """Answer every window held back, oldest first."""
        held, self.held = self.held, []
        for message in held:
            self.answer(message)

    def on_members_table_highlighted(self, message: MembersTable.Highlighted) -> None:
        self.posted.append(message)

    def on_members_table_selected(self, message: MembersTable.Selected) -> None:
        self.posted.append(message)

    def on_members_table_disable_wanted(self, message: MembersTable.DisableWanted) -> None:
        self.posted.append(message)

    def windows_asked(self) -> list[tuple[int, int]]:
        return [
            (m.offset, m.limit) for m in self.posted if isinstance(m, MembersTable.WindowWanted)
        ]

    def of_kind(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.posted if isinstance(m, kind)]


def lines(table: MembersTable) -> list[str]:
    """The text of every line the table draws in its view."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def on_screen(app: App[None]) -> list[str]:
    """The text of every line of the screen as the compositor puts it together (with the
    scrollbars over the table), which is what a terminal is sent."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def body(table: MembersTable) -> list[str]:
    return lines(table)[1:]


def usernames_drawn(table: MembersTable) -> list[str]:
    return [line.split()[0] for line in body(table) if line.strip()]


async def opened(
    pilot: Pilot[None], org_id: int = ORG, prefix: str = "", **kwargs: int
) -> MembersTable:
    """Show a query and wait until its first window is drawn (or held back)."""
    app = pilot.app
    assert isinstance(app, Harness)
    table = app.table
    table.focus()
    table.show_query(org_id, prefix, **kwargs)
    await wait_until(pilot, lambda: table.total is not None or bool(app.held), "the first window")
    await pilot.pause()
    return table


async def scroll_wheel(pilot: Pilot[None], table: MembersTable, notches: int) -> None:
    x, y = table.region.x + 5, table.region.y + 3
    for _ in range(notches):
        pilot.app.post_message(
            events.MouseScrollDown(None, x, y, 0, 0, 0, False, False, False, x, y)
        )
    await pilot.pause()


# -- what is drawn --------------------------------------------------------------------------


async def test_the_header_and_the_cells_of_the_contract() -> None:
    rows = [member(1), member(2, mfa_enabled=True), member(4, last_sign_in_at=None)]
    app = Harness(Directory({ORG: rows}))
    async with app.run_test(size=(120, 12)) as pilot:
        table = await opened(pilot)
        header, *drawn = lines(table)
        assert header.strip().split(maxsplit=5) == [*HEADER[:5], "Last sign-in"]
        assert [header.index(word) for word in HEADER] == sorted(
            header.index(word) for word in HEADER
        )
        first, second, third = drawn[:3]
        assert first.split() == [
            "user000001", "Person", "1", "user000001@example.com", "member", "Disabled",
            "2025-03-04", "05:06",
        ]  # fmt: skip
        assert "Enabled" in second.split()
        assert third.split()[-2:] == ["Disabled", "Never"]
        assert drawn[3].strip() == ""


async def test_at_80x24_a_64_character_username_and_the_mfa_cell_are_whole() -> None:
    rows = [member(1), member(2, username=LONG_USERNAME), *members(1000)[3:]]
    app = Harness(Directory({ORG: rows}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        assert table.max_scroll_y > 0  # a screenful and more: the scrollbar gives way
        header, *drawn = on_screen(app)
        assert drawn[1].startswith(LONG_USERNAME + " ")
        assert drawn[1].split()[-2:] == ["member", "Disabled"]
        assert drawn[0].split() == ["user000001", "member", "Disabled"]
        assert header.split() == ["Username", "Role", "MFA"]


async def test_at_80x24_the_mfa_cell_and_the_last_sign_in_are_readable() -> None:
    app = Harness(Directory({ORG: members(500)}))
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        header, *drawn = on_screen(app)
        assert header.split()[-3:] == ["MFA", "Last", "sign-in"]
        assert "Enabled" in drawn[0].split() and "Disabled" in drawn[1].split()
        assert drawn[1].rstrip().endswith("Disabled 2025-03-04 05:06")


async def test_names_and_emails_too_long_for_the_view_end_in_an_ellipsis() -> None:
    long_name = "Maximiliana Theodora Featherstonehaugh-Cholmondeley"
    rows = [member(1, name=long_name, email="maximiliana.featherstonehaugh@example.com")]
    app = Harness(Directory({ORG: rows}))
    async with app.run_test(size=(80, 10)) as pilot:
        table = await opened(pilot)
        line = body(table)[0]
        assert "user000001" in line and "Disabled" in line
        assert long_name not in line
        assert line.count("…") == 2
        assert "Maximiliana" in line


async def test_user_text_is_drawn_literally_never_as_markup() -> None:
    rows = [
        member(1, name="[bold]x[/]", email="[link=https://x]y@example.com"),
        member(2, name="[/] closes nothing", email="z@example.com"),
        member(3, name="Eve \x1b[31mred"),  # refused at input; never sent to the terminal
        member(4, name="שלום עולם", email="مرحبا@example.com"),
    ]
    app = Harness(Directory({ORG: rows}))
    async with app.run_test(size=(120, 10)) as pilot:
        table = await opened(pilot)
        drawn = body(table)
        assert "[bold]x[/]" in drawn[0] and "[link=https://x]y@example.com" in drawn[0]
        assert "[bold]x[/]" in on_screen(app)[1]
        assert "[/] closes nothing" in drawn[1]
        assert "\x1b" not in drawn[2] and "Eve \ufffd[31mred" in drawn[2]
        assert "שלום עולם" in drawn[3] and "مرحبا@example.com" in drawn[3]
        table.move_cursor(3)  # the cursor row is drawn in its own style; check the others
        await pilot.pause()
        first_row: list[Segment] = list(table.render_line(1))
        assert not any(s.style and (s.style.bold or s.style.link) for s in first_row)


async def test_an_empty_organisation_and_an_empty_filter_are_said_and_keys_are_safe() -> None:
    app = Harness(Directory({ORG: [], OTHER_ORG: members(5)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        assert table.total == 0
        assert body(table)[0].strip() == NO_MEMBERS
        await pilot.press("down", "pagedown", "ctrl+end", "up", "ctrl+home", "enter", "d")
        await pilot.click(MembersTable, offset=(3, 1))
        (disable,) = app.of_kind(MembersTable.DisableWanted)
        assert isinstance(disable, MembersTable.DisableWanted) and disable.member is None
        assert not app.of_kind(MembersTable.Selected)
        table = await opened(pilot, OTHER_ORG, "nobody-by-this-name")
        assert table.total == 0
        assert body(table)[0].strip() == NO_MATCHES
        assert table.highlighted is None


async def test_a_filter_that_breaks_the_rules_is_said_and_asks_for_nothing() -> None:
    app = Harness(Directory({ORG: members(5)}))
    async with app.run_test(size=(80, 24)) as pilot:
        app.table.show_query(ORG, "x" * 101)
        await pilot.pause()
        assert "printable characters" in body(app.table)[0]
        assert app.windows_asked() == []


# -- windows --------------------------------------------------------------------------------


async def test_the_table_is_as_tall_as_the_organisation_and_holds_one_window() -> None:
    app = Harness(Directory({ORG: members(100_000)}))
    async with app.run_test(size=(120, 40)) as pilot:
        table = await opened(pilot)
        assert table.total == 100_000
        assert table.virtual_size.height == 1 + 100_000  # the header and every member
        assert table.max_scroll_y == 100_001 - 40
        assert table.loaded is not None and len(table.loaded.rows) <= PAGE_SIZE_MAX
        size = MembersTable.WINDOW_SIZE
        assert app.windows_asked() == [(0, size), (100_000 - size, size)]  # and the last ones
        assert usernames_drawn(table) == [f"user{n:06d}" for n in range(39)]


async def test_the_last_and_the_first_member_of_the_whole_organisation() -> None:
    app = Harness(Directory({ORG: members(100_000)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: table.highlighted is not None, "the last member")
        highlighted = table.highlighted
        assert highlighted is not None
        assert (highlighted.index, highlighted.row.username) == (99_999, "user099999")
        assert usernames_drawn(table)[-1] == "user099999"
        offset, limit = app.windows_asked()[-1]
        assert offset + limit == 100_000
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: table.highlighted is not None, "the first member")
        assert table.highlighted is not None and table.highlighted.row.username == "user000000"
        assert usernames_drawn(table)[0] == "user000000"


async def test_rows_not_loaded_yet_are_drawn_as_loading_never_as_other_members() -> None:
    app = Harness(Directory({ORG: members(100_000)}), answering=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        assert body(table)[0].strip() == LOADING
        app.release()
        await pilot.pause()
        assert usernames_drawn(table)[0] == "user000000"
        await pilot.press("ctrl+end")
        await pilot.pause()
        drawn = body(table)
        assert all(line.strip() == LOADING for line in drawn)
        assert table.highlighted is None
        await pilot.press("d")
        (disable,) = app.of_kind(MembersTable.DisableWanted)
        assert isinstance(disable, MembersTable.DisableWanted) and disable.member is None
        app.release()
        await pilot.pause()
        assert usernames_drawn(table)[-1] == "user099999"


async def test_a_window_for_another_organisation_or_filter_is_ignored() -> None:
    directory = Directory({ORG: members(1000), OTHER_ORG: members(1000)})
    app = Harness(directory, answering=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot, ORG, "user0001")
        assert not table.show_window(directory.page(ORG, "", 0, 200))
        assert not table.show_window(directory.page(OTHER_ORG, "user0001", 0, 200))
        await pilot.pause()
        assert body(table)[0].strip() == LOADING
        table.show_query(ORG, "user0002")  # typed on before the first answer came
        await pilot.pause()
        app.release()  # both answers arrive, the older one first
        await pilot.pause()
        assert table.total == 100
        assert usernames_drawn(table)[0] == "user000200"
        assert all(name.startswith("user0002") for name in usernames_drawn(table))


async def test_the_wheel_scrolls_and_the_table_asks_for_the_window_it_needs() -> None:
    app = Harness(Directory({ORG: members(100_000)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        await scroll_wheel(pilot, table, 150)
        await wait_until(pilot, lambda: table.scroll_offset.y >= 250, "the wheel to scroll")
        await pilot.pause()
        top = table.scroll_offset.y
        assert table.cursor_index == 0  # the wheel moves the view, as in a DataTable
        assert len(app.windows_asked()) > 1
        offset, limit = app.windows_asked()[-1]
        assert offset <= top and top + 23 <= offset + limit
        assert usernames_drawn(table)[0] == f"user{top:06d}"


async def test_the_next_window_is_asked_for_before_the_view_reaches_the_edge() -> None:
    app = Harness(Directory({ORG: members(100_000)}), answering=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        app.release()
        await pilot.pause()
        asked = len(app.windows_asked())  # the first window, and the last ahead of ctrl+end
        while len(app.windows_asked()) == asked:
            assert table.scroll_offset.y < MembersTable.WINDOW_SIZE
            await pilot.press("pagedown")
        top = table.scroll_offset.y
        assert top + 23 <= MembersTable.WINDOW_SIZE  # the view is still in the window held
        assert LOADING not in body(table)[-1]
        offset, limit = app.windows_asked()[-1]
        assert offset < top and top + 23 + 23 <= offset + limit


async def test_scrolling_far_asks_for_a_window_around_the_view_only() -> None:
    app = Harness(Directory({ORG: members(100_000)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        table.move_cursor(50_000)
        await pilot.pause()
        offset, limit = app.windows_asked()[-1]
        assert offset <= 50_000 < offset + limit <= 50_000 + MembersTable.WINDOW_SIZE
        assert table.highlighted is not None and table.highlighted.index == 50_000
        assert f"user{50_000:06d}" in usernames_drawn(table)


# -- keys and mouse -------------------------------------------------------------------------


async def test_keys_move_the_cursor_as_in_a_data_table() -> None:
    app = Harness(Directory({ORG: members(1000)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        rows = 23  # below the header
        await pilot.press("up")
        assert table.cursor_index == 0
        await pilot.press("down", "down", "down")
        assert table.cursor_index == 3
        await pilot.press("pagedown")
        assert table.cursor_index == 3 + rows
        assert table.scroll_offset.y == rows
        await pilot.press("pageup")
        assert (table.cursor_index, table.scroll_offset.y) == (3, 0)
        await pilot.press("ctrl+end")
        assert table.cursor_index == 999
        await pilot.press("down")
        assert table.cursor_index == 999
        await pilot.press("ctrl+home")
        assert (table.cursor_index, table.scroll_offset.y) == (0, 0)
        highlighted = [
            (m.index, m.member is not None)
            for m in app.of_kind(MembersTable.Highlighted)
            if isinstance(m, MembersTable.Highlighted)
        ]
        loading, loaded = False, True
        # The last members were fetched ahead of ctrl+end, and the first ones were kept.
        assert highlighted == [
            (0, loading), (0, loaded), (1, loaded), (2, loaded), (3, loaded),
            (3 + rows, loaded), (3, loaded), (999, loaded), (0, loaded),
        ]  # fmt: skip


async def test_home_end_left_and_right_scroll_sideways_when_the_table_is_wider() -> None:
    rows = [member(1, username=LONG_USERNAME)]
    app = Harness(Directory({ORG: rows}))
    async with app.run_test(size=(60, 10)) as pilot:
        table = await opened(pilot)
        assert body(table)[0].startswith("a" * 60)
        await pilot.press("end")
        assert table.scroll_offset.x > 0
        assert body(table)[0].rstrip().endswith("member Disabled")
        await pilot.press("home")
        assert table.scroll_offset.x == 0
        await pilot.press("right")
        assert table.scroll_offset.x > 0


async def test_a_click_highlights_a_row_and_a_click_on_the_highlighted_row_selects_it() -> None:
    app = Harness(Directory({ORG: members(100)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        await pilot.click(MembersTable, offset=(4, 3))  # the header, then rows 0, 1, 2
        assert table.cursor_index == 2
        assert not app.of_kind(MembersTable.Selected)
        await pilot.click(MembersTable, offset=(4, 3))
        (selected,) = app.of_kind(MembersTable.Selected)
        assert isinstance(selected, MembersTable.Selected)
        assert selected.member.row.username == "user000002"
        await pilot.click(MembersTable, offset=(4, 0))  # the header selects nothing
        assert table.cursor_index == 2
        await pilot.press("enter")
        assert len(app.of_kind(MembersTable.Selected)) == 2


async def test_d_asks_to_disable_mfa_of_the_highlighted_member_in_its_organisation() -> None:
    app = Harness(Directory({ORG: members(100)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        await pilot.press("down", "d")
        (disable,) = app.of_kind(MembersTable.DisableWanted)
        assert isinstance(disable, MembersTable.DisableWanted)
        assert disable.member is not None
        assert (disable.member.org_id, disable.member.row.username) == (ORG, "user000001")
        assert disable.control is table


async def test_a_changed_member_is_redrawn_in_place() -> None:
    app = Harness(Directory({ORG: members(10)}))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(pilot)
        assert "Enabled" in body(table)[3].split()
        assert table.update_member(member(3, mfa_enabled=False))
        await pilot.pause()
        assert "Disabled" in body(table)[3].split()
        assert not table.update_member(member(4242))


async def test_column_widths_do_not_depend_on_when_rows_arrive() -> None:
    directory = Directory({ORG: members(100_000)})
    app = Harness(directory, answering=False)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = []
        for wait in (0.0, 0.05, 0.0, 0.1):
            table = await opened(pilot)
            await pilot.pause(wait)
            app.release()
            await pilot.pause()
            seen.append(lines(table))
        assert all(drawn == seen[0] for drawn in seen)
        assert seen[0][1].split()[:3] == ["user000000", "Person", "0"]


async def test_a_known_longest_username_fixes_the_column_from_the_start() -> None:
    app = Harness(Directory({ORG: members(10)}))
    async with app.run_test(size=(100, 24)) as pilot:
        table = await opened(pilot, longest_username=30)
        header = lines(table)[0]
        assert header.index("Name") == MARGIN + 30 + GAP


# -- the column rule ------------------------------------------------------------------------


def needs_of(rows: Iterable[MemberRow]) -> ColumnNeeds:
    return ColumnNeeds.of(row_cells(row) for row in rows)


TYPICAL = ColumnNeeds(username=21, name=17, email=33)


def test_at_80_columns_username_role_mfa_and_last_sign_in_are_whole() -> None:
    plan = plan_columns(79, TYPICAL)  # 80 less the scrollbar
    widths = plan.widths
    assert (widths[USERNAME], widths[ROLE], widths[MFA]) == (21, ROLE_WIDTH, MFA_WIDTH)
    assert widths[LAST_SIGN_IN] == LAST_SIGN_IN_WIDTH
    assert 6 <= widths[NAME] < 17 and 6 <= widths[EMAIL] < 33
    assert plan.total_width == 79


def test_at_100_columns_the_email_is_cut_and_the_name_is_whole() -> None:
    widths = plan_columns(99, TYPICAL).widths
    assert widths[NAME] == 17
    assert widths[EMAIL] == 99 - MARGIN - 21 - 17 - ROLE_WIDTH - MFA_WIDTH - 16 - 5 * GAP
    assert widths[LAST_SIGN_IN] == LAST_SIGN_IN_WIDTH


def test_at_120_columns_everything_is_whole() -> None:
    plan = plan_columns(119, TYPICAL)
    assert plan.widths == (21, 17, 33, ROLE_WIDTH, MFA_WIDTH, LAST_SIGN_IN_WIDTH)
    assert plan.margin == MARGIN
    assert plan.total_width <= 119


def test_a_64_character_username_keeps_role_and_mfa_at_80_columns() -> None:
    needs = needs_of([member(1, username=LONG_USERNAME)])
    assert needs.username == 64
    plan = plan_columns(80, needs)
    assert plan.widths == (64, 0, 0, ROLE_WIDTH, MFA_WIDTH, 0)
    assert plan.total_width == 80
    assert not keeps_scrollbar(80, 1, needs)  # the scrollbar gives its cell up
    assert keeps_scrollbar(100, 1, needs) and keeps_scrollbar(60, 1, needs)
    wider = plan_columns(79, needs)  # with no cell to spare the table scrolls sideways
    assert wider.widths[USERNAME] == 64 and wider.total_width == 80


def test_at_120_columns_a_64_character_username_leaves_room_for_the_rest() -> None:
    plan = plan_columns(119, ColumnNeeds(username=64, name=17, email=33))
    assert plan.widths[USERNAME] == 64 and plan.widths[LAST_SIGN_IN] == LAST_SIGN_IN_WIDTH
    assert plan.widths[NAME] >= 6 and plan.widths[EMAIL] >= 6
    assert plan.total_width == 119


def test_columns_too_narrow_to_say_anything_are_left_out() -> None:
    assert plan_columns(40, TYPICAL).widths == (21, 0, 0, ROLE_WIDTH, MFA_WIDTH, 0)
    only_name = plan_columns(46, TYPICAL).widths
    assert only_name[NAME] >= 6 and only_name[EMAIL] == 0


def test_the_rule_depends_on_the_width_and_the_contents_only() -> None:
    rows = [member(n, name="N" * (n % 40)) for n in range(200)]
    forwards, backwards = needs_of(rows), needs_of(reversed(rows))
    assert forwards == backwards
    for width in range(20, 200):
        plan = plan_columns(width, forwards)
        assert plan == plan_columns(width, backwards)
        assert plan.total_width <= max(width, key_width(forwards))


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Ada Lovelace", 12, "Ada Lovelace"),
        ("Ada Lovelace", 14, "Ada Lovelace  "),
        ("Ada Lovelace", 8, "Ada Lov…"),
        ("Ada Lovelace", 4, "Ada…"),
        ("日本語のなまえ", 6, "日本… "),
        ("x", 0, ""),
    ],
)
def test_a_cell_fits_its_width_exactly(text: str, width: int, expected: str) -> None:
    assert fit(text, width) == expected


# -- the window rule ------------------------------------------------------------------------


def test_a_window_is_centred_on_the_view_within_the_list() -> None:
    assert window_around(Span(0, 23), None, 200) == Span(0, 200)
    assert window_around(Span(5000, 5023), 100_000, 200) == Span(4911, 5111)
    assert window_around(Span(99_977, 100_000), 100_000, 200) == Span(99_800, 100_000)
    assert window_around(Span(0, 3), 3, 200) == Span(0, 3)


def test_the_rows_wanted_are_the_view_and_a_screenful_either_side() -> None:
    view = view_span(5000, 23, 100_000)
    assert wanted_span(view, 100_000, 200) == Span(4977, 5046)
    assert wanted_span(view_span(0, 23, 10), 10, 200) == Span(0, 10)
    assert window_around(view, 100_000, 200).covers(wanted_span(view, 100_000, 200))


def test_the_table_never_asks_for_more_than_the_directory_gives() -> None:
    assert MembersTable.WINDOW_SIZE <= MembersTable.MAX_WINDOW <= PAGE_SIZE_MAX
