"""The Users table widget against a plain DataTable given the same window, side by side.

Both tables show 100,000 members held in memory (no database: this measures drawing, not
queries) at 80x24 and 120x40. The widget is answered the windows it asks for at once; the
DataTable is refilled with the same window as the Users screen used to refill it (clear,
add the rows as Text cells, move the cursor). Each figure runs from the change until a
frame has been drawn whose text, as the compositor puts it together, shows a username of
the new rows whole, and includes building the escape sequences a terminal would be sent.
The two take turns every few seconds (a round of a few trials each, in a new app), so a
busy machine slows both alike; for scrolling, the frame's own CPU time on the event loop
is given too, which other jobs on the machine do not inflate.

    python benchmarks/members_table.py [--members N] [--rounds N] [--trials N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from _common import (
    FrameWatch,
    median,
    ms,
    people,
    percentile,
    print_header,
    print_table,
    ratio,
    send_keys,
    until,
    verdict,
)
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from tui_portal.services.results import MemberPage, MemberRow
from tui_portal.services.validation import text_key
from tui_portal.widgets.member_columns import TITLES, row_cells
from tui_portal.widgets.members_table import MembersTable

ORG_ID = 1
SIZES = ((80, 24), (120, 40))
WINDOW = MembersTable.WINDOW_SIZE
# The Users screen's goals for the whole path from a key to the frame; the table's share
# must leave room for the query and the screen.
KEYSTROKE_GOAL = 0.033
LAST_MEMBER_GOAL = 0.050
FILTERS = ("m", "ma", "may", "maya", "maya.", "maya.t", "s", "sa", "sar", "sara", "")


def make_members(count: int) -> list[MemberRow]:
    """``count`` members in username order, as the directory would list them."""
    start = datetime(2025, 1, 1)
    rows = [
        MemberRow(
            user_id=number,
            username=username,
            name=name,
            email=email,
            role="admin" if number % 50 == 0 else "member",
            mfa_enabled=number % 3 != 0,
            last_sign_in_at=start + timedelta(minutes=number) if number % 4 else None,
        )
        for number, (username, name, email) in enumerate(people(count))
    ]
    return sorted(rows, key=lambda row: row.username)


def filtered(rows: Sequence[MemberRow], prefix: str) -> list[MemberRow]:
    """The members a filter keeps, as the directory filters them."""
    key = text_key(prefix.strip())
    if not key:
        return list(rows)
    return [
        row
        for row in rows
        if any(text_key(text).startswith(key) for text in (row.username, row.name, row.email))
    ]


@dataclass(frozen=True)
class Organisation:
    """The members in username order, and the members each filter of :data:`FILTERS` keeps
    (worked out once, before anything is timed)."""

    members: list[MemberRow]
    lists: dict[str, list[MemberRow]]

    @classmethod
    def of(cls, members: list[MemberRow]) -> Organisation:
        return cls(members, {prefix: filtered(members, prefix) for prefix in FILTERS})


def cells(row: MemberRow) -> tuple[Text, ...]:
    """A member as DataTable cells, as the Users screen used to make them."""
    return tuple(Text(text) for text in row_cells(row))


def screen_text(app: App[None]) -> str:
    """The screen as the compositor puts it together."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


_SCREEN_UPDATE_LISTENERS: list[Callable[[float], None]] = []


def watch_screen_updates() -> None:
    """Time every screen update (layout, compositing, output: the work of one frame) and
    tell the listeners the CPU time it took on the event loop's thread, which other jobs on
    the machine do not inflate as they do wall time. Call before any app starts."""
    from textual.screen import Screen

    update = Screen._on_timer_update

    def timed_update(screen: Screen[object]) -> None:
        start = time.thread_time()
        update(screen)
        took = time.thread_time() - start
        for listener in _SCREEN_UPDATE_LISTENERS:
            listener(took)

    Screen._on_timer_update = timed_update  # type: ignore[method-assign]


class DrawnProbe:
    """The time of the first frame, after a change, whose text contains what is expected,
    and the event-loop time the screen updates took until then (that frame included)."""

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self.expected: str | None = None
        self.drawn_at: float | None = None
        self.work = 0.0
        self._counting = False
        self._looking = 0.0
        FrameWatch(app).on_frame = self._frame
        _SCREEN_UPDATE_LISTENERS[:] = [self._updated]

    def _frame(self, now: float) -> None:
        if self.expected is not None:
            started = time.thread_time()
            shown = self.expected in screen_text(self.app)
            self._looking += time.thread_time() - started  # the probe's, not the frame's
            if shown:
                self.drawn_at = now
                self.expected = None

    def _updated(self, took: float) -> None:
        if self._counting:
            self.work += took - self._looking
            self._counting = self.drawn_at is None
        self._looking = 0.0

    async def time(self, change: Callable[[], Awaitable[None] | None], expected: str) -> float:
        """Seconds from ``change`` until a frame shows ``expected``; :attr:`work` is then
        the seconds of screen updates on the way."""
        self.drawn_at, self.expected, self.work, self._counting = None, expected, 0.0, True
        self._looking = 0.0
        start = time.perf_counter()
        done = change()
        if done is not None:
            await done
        await until(lambda: self.drawn_at is not None and not self._counting, timeout=30)
        assert self.drawn_at is not None
        return self.drawn_at - start


class WidgetApp(App[None]):
    """The widget, answered from memory at once."""

    def __init__(self, org: Organisation) -> None:
        super().__init__()
        self.lists = org.lists

    def compose(self) -> ComposeResult:
        yield MembersTable(id="members")

    def on_mount(self) -> None:
        self.query_one(MembersTable).focus()

    def on_members_table_window_wanted(self, message: MembersTable.WindowWanted) -> None:
        rows = self.lists[message.prefix]
        window = tuple(rows[message.offset : message.offset + message.limit])
        page = MemberPage(ORG_ID, "Acme", message.prefix, message.offset, len(rows), window)
        self.query_one(MembersTable).show_window(page)


class PlainTableApp(App[None]):
    """A DataTable refilled with one window at a time, as the Users screen did."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+end", "window(-1)", priority=True),
        Binding("ctrl+home", "window(0)", priority=True),
    ]

    def __init__(self, org: Organisation) -> None:
        super().__init__()
        self.members = org.members

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="members", cursor_type="row", zebra_stripes=True)
        table.add_columns(*TITLES)
        yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def fill(self, rows: Sequence[MemberRow], cursor_at_end: bool = False) -> None:
        """Put a window in the table, as the Users screen did with each page."""
        table: DataTable[Text] = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*cells(row), key=str(row.user_id))
        if rows:
            table.move_cursor(row=len(rows) - 1 if cursor_at_end else 0)

    def action_window(self, where: int) -> None:
        """The first window, or (-1) the last, with the cursor on its first or last row."""
        if where < 0:
            self.fill(self.members[-WINDOW:], cursor_at_end=True)
        else:
            self.fill(self.members[:WINDOW])


@dataclass
class Figures:
    """Samples of each figure for one kind of table at one size."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)


class Bench:
    """What a round does to a table; each kind of table says how it is done to it."""

    def __init__(self, app: App[None], org: Organisation, size: tuple[int, int]) -> None:
        self.app = app
        self.members = org.members
        self.lists = org.lists
        self.rows_in_view = size[1] - 1

    def show_all(self) -> None:
        """Every member, from the first, the cursor on the first."""
        raise NotImplementedError

    def show_filtered(self, prefix: str) -> None:
        """The members a filter keeps, from the first."""
        raise NotImplementedError

    def show_around(self, index: int) -> None:
        """A window holding member ``index``, in view."""
        raise NotImplementedError

    def put_cursor(self, index: int) -> None:
        """The cursor on member ``index`` of what is shown (it is in the first window)."""
        raise NotImplementedError

    def cursor(self) -> int:
        """Where the cursor is, among the members shown."""
        raise NotImplementedError

    def first_shown(self, index: int) -> str:
        """The username the view shows first when member ``index`` was asked for."""
        return self.members[index].username


class WidgetBench(Bench):
    """The widget, answered from memory at once."""

    @property
    def table(self) -> MembersTable:
        return self.app.query_one(MembersTable)

    def show_all(self) -> None:
        self.table.show_query(ORG_ID, "")

    def show_filtered(self, prefix: str) -> None:
        self.table.show_query(ORG_ID, prefix)

    def show_around(self, index: int) -> None:
        self.table.move_cursor(index)

    def put_cursor(self, index: int) -> None:
        self.table.move_cursor(index)

    def cursor(self) -> int:
        return self.table.cursor_index


class PlainBench(Bench):
    """The DataTable, refilled with the window, as the Users screen did."""

    @property
    def table(self) -> DataTable[Text]:
        table: DataTable[Text] = self.app.query_one(DataTable)
        return table

    def show_all(self) -> None:
        assert isinstance(self.app, PlainTableApp)
        self.app.fill(self.members[:WINDOW])

    def show_filtered(self, prefix: str) -> None:
        assert isinstance(self.app, PlainTableApp)
        self.app.fill(self.lists[prefix][:WINDOW])

    def show_around(self, index: int) -> None:
        assert isinstance(self.app, PlainTableApp)
        self.app.fill(self.members[index : index + WINDOW])

    def put_cursor(self, index: int) -> None:
        self.table.move_cursor(row=index)

    def cursor(self) -> int:
        return self.table.cursor_row


async def settle() -> None:
    """Let the last change be drawn, and the next change come at any moment of the screen's
    60 Hz update cycle rather than just after a frame."""
    await asyncio.sleep(random.uniform(0.03, 0.05))


async def one_round(bench: Bench, trials: int, figures: Figures, seed: int) -> None:
    """Every figure, ``trials`` times, on one table."""
    app, members, rows = bench.app, bench.members, bench.rows_in_view
    probe = DrawnProbe(app)
    rng = random.Random(seed)
    first, last = members[0].username, members[-1].username
    await probe.time(bench.show_all, first)
    for trial in range(trials):
        await settle()
        figures.add("last", await probe.time(lambda: send_keys(app, "ctrl+end"), last))
        await settle()
        figures.add("first", await probe.time(lambda: send_keys(app, "ctrl+home"), first))
        await settle()
        prefix = FILTERS[trial % len(FILTERS)]
        shown = bench.lists[prefix][0].username
        figures.add("reset", await probe.time(lambda p=prefix: bench.show_filtered(p), shown))
        await probe.time(bench.show_all, first)
    for _ in range(trials):
        index = rng.randrange(WINDOW, len(members) - WINDOW)
        figures.add(
            "jump",
            await probe.time(lambda i=index: bench.show_around(i), members[index].username),
        )
        await settle()
    await probe.time(bench.show_all, first)
    bench.put_cursor(rows - 1)
    await settle()
    for _ in range(trials):
        await settle()
        below = members[bench.cursor() + 1].username
        figures.add("down", await probe.time(lambda: send_keys(app, "down"), below))
        figures.add("down frame", probe.work)
    for _ in range(trials):
        bench.put_cursor(0)
        await settle()
        figures.add(
            "pagedown",
            await probe.time(lambda: send_keys(app, "pagedown"), members[rows].username),
        )
        figures.add("pagedown frame", probe.work)


async def measure(
    kind: str, org: Organisation, size: tuple[int, int], trials: int, figures: Figures
) -> None:
    """One round on a new app of the ``kind`` given ("widget" or "plain")."""
    app: App[None] = WidgetApp(org) if kind == "widget" else PlainTableApp(org)
    async with app.run_test(size=size):
        bench: Bench = (WidgetBench if kind == "widget" else PlainBench)(app, org, size)
        await one_round(bench, trials, figures, seed=size[0])


async def widget_memory(org: Organisation) -> float:
    """MiB the widget holds more after 50 jumps across the organisation than after its
    first window (Python allocations, by tracemalloc)."""
    members = org.members
    app = WidgetApp(org)
    rng = random.Random(7)
    async with app.run_test(size=(120, 40)):
        probe = DrawnProbe(app)
        table = app.query_one(MembersTable)
        await probe.time(lambda: table.show_query(ORG_ID, ""), members[0].username)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(50):
            index = rng.randrange(len(members))
            await probe.time(lambda index=index: table.move_cursor(index), members[index].username)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / 2**20


FIGURES: tuple[tuple[str, str, float | None], ...] = (
    ("reset", "filter-like reset: a new query and its first window, until drawn", KEYSTROKE_GOAL),
    ("last", "ctrl+end: the last window, until the last member is drawn", LAST_MEMBER_GOAL),
    ("first", "ctrl+home: the first window again, until drawn", LAST_MEMBER_GOAL),
    ("jump", "a new window far away (cursor moved there), until drawn", LAST_MEMBER_GOAL),
    ("down", "a frame while scrolling: down at the bottom of the view", KEYSTROKE_GOAL),
    ("pagedown", "a frame while scrolling: page down", KEYSTROKE_GOAL),
    ("down frame", "  the frame's own CPU time on the event loop: down", None),
    ("pagedown frame", "  the frame's own CPU time on the event loop: page down", None),
)


def report(
    results: dict[tuple[int, int], tuple[Figures, Figures]], rounds: int, trials: int
) -> None:
    for size, (widget, plain) in results.items():
        count = rounds * trials
        print(
            f"{size[0]}x{size[1]}: median of {count} (p95 beside it); ratio = widget / "
            "DataTable; goal = the Users screen's whole budget from key to frame"
        )
        print()
        rows = []
        for key, title, goal in FIGURES:
            mine, theirs = widget.samples[key], plain.samples[key]
            figure = median(mine)
            rows.append(
                [
                    title,
                    f"{ms(figure)} ({ms(percentile(mine, 0.95))})",
                    f"{ms(median(theirs))} ({ms(percentile(theirs, 0.95))})",
                    ratio(figure, median(theirs)),
                    "" if goal is None else f"≤ {ms(goal)}: {verdict(figure <= goal)}",
                ]
            )
        print_table(["figure", "MembersTable", "DataTable, same window", "ratio", "goal"], rows)


async def run(members_count: int, rounds: int, trials: int) -> None:
    org = Organisation.of(make_members(members_count))
    gc.collect()
    gc.freeze()  # as the portal freezes what start-up loaded: no collection walks the data
    results: dict[tuple[int, int], tuple[Figures, Figures]] = {}
    for size in SIZES:
        widget, plain = Figures(), Figures()
        for _ in range(rounds):
            await measure("widget", org, size, trials, widget)
            await measure("plain", org, size, trials, plain)
        results[size] = (widget, plain)
    report(results, rounds, trials)
    grown = await widget_memory(org)
    print(
        f"Memory: after 50 jumps across {members_count:,} members the widget holds "
        f"{grown:+,.2f} MiB more than after its first window (one window of {WINDOW} rows "
        "at a time)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    watch_screen_updates()
    command = "python benchmarks/members_table.py"
    for flag, default in (("members", 100_000), ("rounds", 10), ("trials", 3)):
        if getattr(args, flag) != default:
            command += f" --{flag} {getattr(args, flag)}"
    print_header(f"Users table: {args.members:,} members, the widget beside a DataTable", command)
    asyncio.run(run(args.members, args.rounds, args.trials))


if __name__ == "__main__":
    main()
