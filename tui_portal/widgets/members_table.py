"""The Users table: an organisation's members, drawn line by line from a window of rows.

The table is as tall as the whole filtered list (its scrollbar shows where the view is
among all members) but draws from one window of rows, a :class:`MemberPage`, and draws
only the lines in view (Textual's line API: ``render_line`` per visible line). When the
view comes near the edge of the window, or leaves it, the table asks its screen for the
window it needs; until that arrives, rows it does not have are drawn as "Loading…", never
as other members. Besides the window it draws from, it keeps two more of the same query:
the last members (asked for as soon as the list's size is known, so ctrl+end needs no
query) and the window the view last left. Column widths come from one pure rule
(:mod:`.member_columns`).

How a screen uses it::

    def compose(self) -> ComposeResult:
        yield MembersTable(id="members")

    # 1. Show an organisation (in on_mount, or later), and again whenever the organisation
    #    or the filter changes: the table resets and posts WindowWanted for the rows it needs.
    #    only_without_mfa=True shows just the members who have no MFA.
    table.show_query(org_id, filter_text, only_without_mfa=False)

    # 2. Answer every WindowWanted from the members service, in a thread worker.
    @on(MembersTable.WindowWanted)
    def _window_wanted(self, wanted: MembersTable.WindowWanted) -> None:
        call_service(
            self,
            lambda portal: portal.members.member_page(
                caller, org_id=wanted.org_id, prefix=wanted.prefix,
                offset=wanted.offset, limit=wanted.limit,
                only_without_mfa=wanted.only_without_mfa,
            ),
            wanted.table.show_window,   # on the event loop; pages of an older query are ignored
            lambda error: wanted.table.show_notice(str(error)),
        )

    # 3. Act on the highlighted member, with the organisation of the page it came from.
    @on(MembersTable.DisableWanted)
    def _disable(self, message: MembersTable.DisableWanted) -> None:
        member = message.member      # None while nothing (or a row still loading) is highlighted
        ...                          # member.org_id, member.row.user_id, member.row.username

    # 4. After a change to a member, show it without reloading.
    table.update_member(new_row)

No generation counter is needed in the screen: every page carries its ``org_id`` and
``prefix``, and the table takes only pages of the query it shows. ``show_notice(text)``
replaces the rows with one line of text (an error, "You are not in any organisation.").
``table.highlighted`` is the highlighted member at any time; ``table.total`` the size of
the filtered list once known. Give the table the full width of the terminal: at 80
columns a 64-character username, the role and the MFA cell then fit whole.

Keys (as DataTable's): up/down, page up/down, ctrl+home/ctrl+end for the first and last
member of the whole list, home/end and left/right for the sides when the table is wider
than the view, enter to select; ``d`` posts :class:`MembersTable.DisableWanted`. The wheel
scrolls; a click highlights a row and a click on the highlighted row selects it. Besides
``WindowWanted`` and ``DisableWanted``, the table posts ``Highlighted`` when the cursor
moves or its row arrives (for a status line) and ``Selected`` for enter or that click.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_portal.errors import InvalidInput, message_for
from tui_portal.services.results import MemberPage, MemberRow, OrgId
from tui_portal.services.validation import check_filter
from tui_portal.widgets.member_columns import (
    GAP,
    LAST_SIGN_IN,
    MFA,
    MFA_ENABLED,
    NEVER_SIGNED_IN,
    TITLES,
    ColumnNeeds,
    ColumnPlan,
    fit,
    keeps_scrollbar,
    key_width,
    plan_columns,
    row_cells,
)
from tui_portal.widgets.member_window import Span, view_span, wanted_span, window_around

LOADING = "Loading…"
NO_MEMBERS = "No members yet."
NO_MATCHES = "No members match this filter."
EVERYONE_HAS_MFA = "Every member has MFA."


@dataclass(frozen=True)
class MembersQuery:
    """What the table shows: one organisation's members whose username, name or email
    starts with ``prefix`` (in the case-folded form the directory puts in its pages), and
    of those only the ones without MFA when ``only_without_mfa``."""

    org_id: OrgId
    prefix: str
    only_without_mfa: bool = False

    def answered_by(self, page: MemberPage) -> bool:
        """Whether ``page`` is a window of this query, not of an older one."""
        return (
            page.org_id == self.org_id
            and page.prefix == self.prefix
            and page.only_without_mfa == self.only_without_mfa
        )


@dataclass(frozen=True)
class HighlightedMember:
    """The member under the cursor, with the organisation of the page it was read from."""

    org_id: OrgId
    index: int
    row: MemberRow


@dataclass(frozen=True)
class _FrameGeometry:
    """What every line of one frame shares: the scroll position, widths and base style."""

    scroll: Offset
    width: int
    plan: ColumnPlan
    full_width: int
    style: Style


@dataclass(frozen=True)
class _Ask:
    """A window asked for and not answered yet."""

    query: MembersQuery
    span: Span
    at: float


class MembersTable(ScrollView, can_focus=True):
    """A focusable, virtual table of an organisation's members (see the module docstring)."""

    ALLOW_SELECT = False
    WINDOW_SIZE: ClassVar[int] = 200
    """Rows asked for at a time (more when the view is taller than a third of this)."""
    MAX_WINDOW: ClassVar[int] = 500
    """The most rows the directory returns at once."""
    SPARE_WINDOWS: ClassVar[int] = 2
    """Windows kept besides the one drawn (the last members; the window last left)."""
    ASK_AGAIN_AFTER: ClassVar[float] = 2.0
    """Seconds after which an unanswered window is taken as lost and asked for again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "first_member", "First member", show=False),
        Binding("ctrl+end", "last_member", "Last member", id="last-member"),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("d", "disable_mfa", "Disable MFA", id="table-disable-mfa"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "members-table--header",
        "members-table--cursor",
        "members-table--even-row",
        "members-table--muted",
        "members-table--mfa-enabled",
        "members-table--mfa-disabled",
    }

    DEFAULT_CSS = """
    MembersTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        &.-no-room-for-scrollbar {
            scrollbar-size-vertical: 0;
        }
        & > .members-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .members-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .members-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .members-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .members-table--muted {
            color: $text-muted;
        }
        & > .members-table--mfa-enabled {
            color: $text-success;
        }
        & > .members-table--mfa-disabled {
            color: $text-warning;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .members-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    class WindowWanted(Message):
        """Load ``limit`` members of the query from ``offset`` and give them to
        :meth:`MembersTable.show_window`."""

        def __init__(
            self,
            table: MembersTable,
            query: MembersQuery,
            offset: int,
            limit: int,
        ) -> None:
            super().__init__()
            self.table = table
            self.query = query
            self.org_id = query.org_id
            self.prefix = query.prefix
            self.only_without_mfa = query.only_without_mfa
            self.offset = offset
            self.limit = limit

        @property
        def control(self) -> MembersTable:
            """The table that asks."""
            return self.table

    class Highlighted(Message):
        """The cursor moved, or the row under it arrived; ``member`` is None while the
        row is still loading or there is none."""

        def __init__(
            self, table: MembersTable, index: int, member: HighlightedMember | None
        ) -> None:
            super().__init__()
            self.table = table
            self.index = index
            self.member = member

        @property
        def control(self) -> MembersTable:
            """The table whose cursor moved."""
            return self.table

    class Selected(Message):
        """Enter, or a click on the highlighted row."""

        def __init__(self, table: MembersTable, member: HighlightedMember) -> None:
            super().__init__()
            self.table = table
            self.member = member

        @property
        def control(self) -> MembersTable:
            """The table where the member was selected."""
            return self.table

    class DisableWanted(Message):
        """``d``: disable MFA for ``member`` (None when no member is highlighted)."""

        def __init__(self, table: MembersTable, member: HighlightedMember | None) -> None:
            super().__init__()
            self.table = table
            self.member = member

        @property
        def control(self) -> MembersTable:
            """The table where ``d`` was pressed."""
            return self.table

    def __init__(
        self,
        *,
        zebra_stripes: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.zebra_stripes = zebra_stripes
        self._query: MembersQuery | None = None
        self._notice: str | None = None
        self._total: int | None = None
        self._page: MemberPage | None = None
        self._cells: tuple[tuple[str, ...], ...] = ()
        self._cursor = 0
        self._needs = ColumnNeeds()
        self._asked: _Ask | None = None
        self._spares: tuple[MemberPage, ...] = ()
        self._tail_asked = False
        self._end_wanted = False
        self._last_highlight: tuple[object, ...] | None = None
        self._lines: LRUCache[tuple[int, bool], Strip] = LRUCache(512)
        self._lines_plan: tuple[ColumnPlan, int] | None = None
        self._frame: _FrameGeometry | None = None

    # -- what a screen calls ----------------------------------------------------------

    @property
    def shown_query(self) -> MembersQuery | None:
        """The query shown, or None before :meth:`show_query` or after a notice."""
        return self._query

    @property
    def total(self) -> int | None:
        """How many members the query matches, once its first window has arrived."""
        return self._total

    @property
    def cursor_index(self) -> int:
        """The position of the cursor among all the members the query matches."""
        return self._cursor

    @property
    def loaded(self) -> MemberPage | None:
        """The window of rows the table holds."""
        return self._page

    @property
    def highlighted(self) -> HighlightedMember | None:
        """The member under the cursor, or None while its row is loading or there is none."""
        row = self._row_at(self._cursor)
        if row is None or self._page is None:
            return None
        return HighlightedMember(self._page.org_id, self._cursor, row)

    def show_query(
        self,
        org_id: OrgId,
        prefix: str = "",
        *,
        only_without_mfa: bool = False,
        longest_username: int | None = None,
    ) -> None:
        """Show the members of ``org_id`` matching ``prefix`` (only those without MFA, when
        asked), from the first; the table then asks for its first window.
        ``longest_username`` (in cells), when the screen knows it for the query, fixes the
        Username column's width from the start."""
        try:
            key = check_filter(prefix)
        except InvalidInput as error:
            self.show_notice(message_for(error, audience="person"))
            return
        self._reset(MembersQuery(org_id, key, only_without_mfa), None)
        if longest_username is not None:
            self._needs = self._needs.widened(ColumnNeeds(username=longest_username))
        self._layout_changed()
        self._ensure_window()
        self._post_highlighted()

    def show_notice(self, text: str) -> None:
        """Show one line of ``text`` instead of rows, and no query."""
        self._reset(None, text)
        self._layout_changed()
        self._post_highlighted()

    def show_window(self, page: MemberPage) -> bool:
        """Take a window the table asked for; say whether it is drawn now. A window of
        another organisation or filter than the one shown is ignored; one that shows less
        of the view than the window already held is kept aside, as the window of the last
        members is, for when the view reaches it."""
        query = self._query
        if query is None or not query.answered_by(page):
            return False
        if self._asked is not None and self._asked.span.start == page.offset:
            self._asked = None
        if not self._is_worth_taking(page):
            self._keep_spare(page)
            return False
        if self._page is not None:
            self._keep_spare(self._page)
        self._take(page)
        self._ask_for_tail()
        return True

    def _take(self, page: MemberPage) -> None:
        """Make ``page`` the window the table draws from."""
        self._spares = tuple(spare for spare in self._spares if spare is not page)
        self._page = page
        self._cells = tuple(row_cells(row) for row in page.rows)
        self._needs = self._needs.widened(ColumnNeeds.of(self._cells))
        self._total = page.total
        self._cursor = min(self._cursor, max(0, page.total - 1))
        self._layout_changed()
        if self.scroll_offset.y > self.max_scroll_y:  # the list got shorter
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        if self._end_wanted:
            self._end_wanted = False
            self.move_cursor(page.total - 1)
        self._ensure_window()
        self._post_highlighted()

    def _keep_spare(self, page: MemberPage) -> None:
        """Keep a window of the query for later (the last members, or the window the view
        just left), so that ctrl+end and coming back need no query."""
        spares = [spare for spare in self._spares if spare.offset != page.offset]
        self._spares = (page, *spares)[: self.SPARE_WINDOWS]

    def _ask_for_tail(self) -> None:
        """Once the list's size is known, fetch its last window ahead of ctrl+end."""
        query, total = self._query, self._total
        if query is None or total is None or self._tail_asked:
            return
        self._tail_asked = True
        size = self._window_size()
        held = self._loaded_span()
        tail = window_around(Span(max(0, total - self._body_rows()), total), total, size)
        if held is not None and held.covers(tail):
            return
        self.post_message(self.WindowWanted(self, query, tail.start, max(1, len(tail))))

    def update_member(self, row: MemberRow) -> bool:
        """Show a changed member (the same ``user_id``) if it is in the window held."""
        self._spares = tuple(_with_row(spare, row) for spare in self._spares)
        page = self._page
        if page is None:
            return False
        for number, held in enumerate(page.rows):
            if held.user_id == row.user_id:
                rows = (*page.rows[:number], row, *page.rows[number + 1 :])
                self._page = replace(page, rows=rows)
                cells = row_cells(row)
                self._cells = (*self._cells[:number], cells, *self._cells[number + 1 :])
                self._needs = self._needs.widened(ColumnNeeds.of([cells]))
                self._layout_changed()
                self._post_highlighted()
                return True
        return False

    def move_cursor(self, index: int) -> None:
        """Highlight the member at ``index`` among all matches, scrolling it into view."""
        total = self._total or 0
        if total == 0:
            return
        index = max(0, min(index, total - 1))
        if index != self._cursor:
            self.refresh_line(self._cursor + 1)
            self.refresh_line(index + 1)
            self._cursor = index
        self._scroll_to_cursor()
        self._ensure_window()
        self._post_highlighted()

    # -- keys and mouse ---------------------------------------------------------------

    def action_cursor_up(self) -> None:
        """Highlight the member above."""
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Highlight the member below."""
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """Scroll up a screenful, and the cursor with it."""
        rows = self._body_rows()
        self.scroll_to(y=self.scroll_offset.y - rows, animate=False, force=True)
        self.move_cursor(self._cursor - rows)

    def action_page_down(self) -> None:
        """Scroll down a screenful, and the cursor with it."""
        rows = self._body_rows()
        self.scroll_to(y=self.scroll_offset.y + rows, animate=False, force=True)
        self.move_cursor(self._cursor + rows)

    def action_first_member(self) -> None:
        """Highlight the first member of the whole list."""
        self._end_wanted = False
        self.move_cursor(0)

    def action_last_member(self) -> None:
        """Highlight the last member of the whole list (once its size is known)."""
        if self._total is None:
            self._end_wanted = self._query is not None
            return
        self.move_cursor(self._total - 1)

    def action_scroll_home(self) -> None:
        """Scroll to the left edge (the table is wider than the view only when the key
        columns do not fit)."""
        self.scroll_to(x=0, animate=False)

    def action_scroll_end(self) -> None:
        """Scroll to the right edge."""
        self.scroll_to(x=self.max_scroll_x, animate=False)

    def action_select_cursor(self) -> None:
        """Select the highlighted member."""
        member = self.highlighted
        if member is not None:
            self.post_message(self.Selected(self, member))

    def action_disable_mfa(self) -> None:
        """Ask for Disable MFA for the highlighted member."""
        self.post_message(self.DisableWanted(self, self.highlighted))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or not self._total:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index >= self._total:
            return
        event.stop()
        again = index == self._cursor
        self.move_cursor(index)
        if again:
            self.action_select_cursor()

    # -- geometry ---------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._ensure_window()

    def _on_resize(self, event: events.Resize) -> None:
        self._fit_scrollbar()
        self._forget_lines()
        self._scroll_to_cursor()
        self._ensure_window()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_lines()

    def _body_rows(self) -> int:
        """Lines below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _view(self) -> Span:
        return view_span(self.scroll_offset.y, self._body_rows(), self._total)

    def _scroll_to_cursor(self) -> None:
        top, rows = self.scroll_offset.y, self._body_rows()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False, force=True)

    def _layout_changed(self) -> None:
        """Size the virtual canvas for the list and the columns, and redraw."""
        lines = 1 + max(1, self._total or 0)
        self.virtual_size = Size(key_width(self._needs), lines)
        self._fit_scrollbar()
        self._forget_lines()
        self.refresh()

    def _fit_scrollbar(self) -> None:
        keep = keeps_scrollbar(self.size.width, 1, self._needs)
        self.set_class(not keep, "-no-room-for-scrollbar")

    def _plan(self) -> ColumnPlan:
        return plan_columns(self.scrollable_content_region.width, self._needs)

    # -- windows ----------------------------------------------------------------------

    def _reset(self, query: MembersQuery | None, notice: str | None) -> None:
        self._query, self._notice = query, notice
        self._total, self._page, self._cells = None, None, ()
        self._cursor, self._needs, self._asked, self._end_wanted = 0, ColumnNeeds(), None, False
        self._spares, self._tail_asked = (), False
        self.scroll_to(x=0, y=0, animate=False, force=True)

    def _window_size(self) -> int:
        return min(self.MAX_WINDOW, max(self.WINDOW_SIZE, 3 * self._body_rows()))

    def _loaded_span(self) -> Span | None:
        page = self._page
        return None if page is None else Span(page.offset, page.offset + len(page.rows))

    def _is_worth_taking(self, page: MemberPage) -> bool:
        view = self._view()
        offered = Span(page.offset, page.offset + len(page.rows))
        held = self._loaded_span()
        if held is None:  # the first window: the one that holds the view (or an empty list)
            return offered.overlap(view) > 0 or page.total == 0 or not page.rows
        return offered.overlap(view) >= held.overlap(view)

    def _ensure_window(self) -> None:
        """Ask for the window the view needs, unless it is held or already asked for."""
        query = self._query
        if query is None:
            return
        view, size = self._view(), self._window_size()
        wanted = wanted_span(view, self._total, size)
        held = self._loaded_span()
        if held is not None and held.covers(wanted):
            return
        if self._swap_in_spare(view, wanted):
            return
        now = time.monotonic()
        if self._is_on_its_way(query, view, now):
            return
        window = window_around(view, self._total, size)
        if held is not None and held.start == window.start:
            return  # that window was the last answer: it is all there is
        self._asked = _Ask(query, window, now)
        self.post_message(self.WindowWanted(self, query, window.start, max(1, len(window))))

    def _swap_in_spare(self, view: Span, wanted: Span) -> bool:
        """Draw from a spare window that holds the view, without asking for one."""
        held = self._loaded_span()
        holds_view = held is not None and held.covers(view)
        for spare in self._spares:
            span = Span(spare.offset, spare.offset + len(spare.rows))
            if span.covers(wanted) or (len(view) and span.covers(view) and not holds_view):
                if self._page is not None:
                    self._keep_spare(self._page)
                self._take(spare)
                return True
        return False

    def _is_on_its_way(self, query: MembersQuery, view: Span, now: float) -> bool:
        """Whether a window holding the view has been asked for and may still come."""
        asked = self._asked
        if asked is None or asked.query != query or now - asked.at >= self.ASK_AGAIN_AFTER:
            return False
        return asked.span.covers(view)

    def _row_at(self, index: int) -> MemberRow | None:
        page = self._page
        if page is None or not page.offset <= index < page.offset + len(page.rows):
            return None
        return page.rows[index - page.offset]

    def _post_highlighted(self) -> None:
        member = self.highlighted
        key = (self._query, self._cursor, member)
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, self._cursor, member))

    # -- drawing ----------------------------------------------------------------------

    def _forget_lines(self) -> None:
        self._lines.clear()
        self._lines_plan = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in ``crop``, working out what they share once for them all."""
        self._frame = self._frame_geometry()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_geometry(self) -> _FrameGeometry:
        plan = self._plan()
        width = self.size.width
        full_width = max(plan.total_width, width)
        if self._lines_plan != (plan, full_width):
            self._lines.clear()
            self._lines_plan = (plan, full_width)
        return _FrameGeometry(self.scroll_offset, width, plan, full_width, self.rich_style)

    def render_line(self, y: int) -> Strip:
        """The line ``y`` of the view: the header, a member, "Loading…", or blank."""
        frame = self._frame or self._frame_geometry()
        scroll_x, scroll_y = frame.scroll
        index = -1 if y == 0 else scroll_y + y - 1
        key = (index, index == self._cursor)
        line = self._lines.get(key)
        if line is None:
            line = self._draw_line(index, frame.plan, frame.full_width)
            self._lines[key] = line
        return line.crop_extend(scroll_x, scroll_x + frame.width, frame.style)

    def _draw_line(self, index: int, plan: ColumnPlan, full_width: int) -> Strip:
        if index < 0:
            style = self.get_component_rich_style("members-table--header")
            return self._cells_line(TITLES, style, plan, full_width, coloured=False)
        total = self._total
        if self._notice is not None or total is None or total == 0:
            return self._message_line(index, plan, full_width)
        if index >= total:
            return Strip.blank(full_width, self.rich_style)
        on_cursor = index == self._cursor
        style = self._row_style(index, on_cursor)
        row = self._row_at(index)
        if row is None:
            return self._text_line(LOADING, style, plan, full_width, muted=not on_cursor)
        page = self._page
        assert page is not None
        cells = self._cells[index - page.offset]
        return self._cells_line(cells, style, plan, full_width, coloured=not on_cursor)

    def _message_line(self, index: int, plan: ColumnPlan, full_width: int) -> Strip:
        if index != 0:
            return Strip.blank(full_width, self.rich_style)
        if self._notice is not None:
            text = self._notice
        elif self._total is None:
            text = LOADING
        else:
            text = _empty_text(self._query)
        return self._text_line(text, self.rich_style, plan, full_width, muted=True)

    def _row_style(self, index: int, on_cursor: bool) -> Style:
        if on_cursor:
            return self.get_component_rich_style("members-table--cursor")
        if self.zebra_stripes and index % 2 == 0:
            return self.get_component_rich_style("members-table--even-row")
        return self.rich_style

    def _text_line(
        self, text: str, style: Style, plan: ColumnPlan, full_width: int, *, muted: bool
    ) -> Strip:
        text_style = style + self._muted() if muted else style
        segments = [
            Segment(" " * plan.margin, style),
            Segment(fit(text, max(0, full_width - plan.margin)), text_style),
        ]
        return Strip(segments, full_width)

    def _muted(self) -> Style:
        return self.get_component_rich_style("members-table--muted", partial=True)

    def _cells_line(
        self,
        cells: tuple[str, ...],
        style: Style,
        plan: ColumnPlan,
        full_width: int,
        *,
        coloured: bool,
    ) -> Strip:
        segments = [Segment(" " * plan.margin, style)] if plan.margin else []
        for number, (column, _x, width) in enumerate(plan.spans()):
            if number:
                segments.append(Segment(" " * GAP, style))
            text = cells[column]
            cell_style = style + self._cell_style(column, text) if coloured else style
            segments.append(Segment(fit(text, width), cell_style))
        if full_width > plan.total_width:
            segments.append(Segment(" " * (full_width - plan.total_width), style))
        return Strip(segments, full_width)

    def _cell_style(self, column: int, text: str) -> Style:
        if column == MFA:
            name = "enabled" if text == MFA_ENABLED else "disabled"
            return self.get_component_rich_style(f"members-table--mfa-{name}", partial=True)
        if column == LAST_SIGN_IN and text == NEVER_SIGNED_IN:
            return self._muted()
        return Style.null()


def _with_row(page: MemberPage, row: MemberRow) -> MemberPage:
    """``page`` with ``row`` in place of the member with the same ``user_id``, if any."""
    if not any(held.user_id == row.user_id for held in page.rows):
        return page
    return replace(page, rows=tuple(row if h.user_id == row.user_id else h for h in page.rows))


__all__ = ["HighlightedMember", "MembersQuery", "MembersTable"]


def _empty_text(query: MembersQuery | None) -> str:
    """What an empty list says: no members, none matching, or nobody without MFA."""
    if query is not None and query.prefix:
        return NO_MATCHES
    if query is not None and query.only_without_mfa:
        return EVERYONE_HAS_MFA
    return NO_MEMBERS
