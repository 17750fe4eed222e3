"""Large organisation: 100,000 members, imported, then browsed on the Users screen.

The members are imported with ``tui-portal user import`` (timed). Then the real app, over
the real database, is driven with Pilot: an admin signs in, opens Users, types in the filter
and jumps to the last member. Each figure is the time from the key press until a frame
showing the new rows has been drawn. Peak memory is compared with the same steps on an
empty organisation, each in a process of its own. The anchor is a plain Textual DataTable
given every member at once, measured the same way.

    python benchmarks/large_org.py [--members N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import (
    ADMIN,
    ADMIN_PASSWORD,
    FrameWatch,
    Scratch,
    median,
    ms,
    percentile,
    print_header,
    print_table,
    ratio,
    scratch,
    seed_org,
    send_keys,
    until,
    verdict,
)

SIZE = (80, 24)  # the terminal the contract is written for
FIRST_PAGE_GOAL = 0.150
KEYSTROKE_GOAL = 0.050
MEMORY_GOAL_MIB = 20
OPENINGS = 5
# A person looking for "Maya T…", changing their mind, and looking for "Sara".
KEYSTROKES = [*"maya.t", *["backspace"] * 6, *"sara"]
COLUMNS = ("Username", "Name", "Email", "Role", "MFA", "Last sign-in")


def memory_mib() -> dict[str, float]:
    """This process's peak and current resident memory (Linux resets the peak at exec,
    unlike ``ru_maxrss``, which a child inherits from its parent)."""
    found = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                found[line[:5]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rss": found.get("VmHWM", peak), "now": found.get("VmRSS", peak)}


class PageProbe:
    """Notes each page the Users screen shows, and the first frame drawn after it."""

    def __init__(self, app: Any) -> None:
        from tui_portal.screens.users import UsersScreen

        self.shown: Any = None
        self.accept: Callable[[Any], bool] | None = None
        self.drawn_at: float | None = None
        original = UsersScreen._show_page
        probe = self

        def show_page(screen: Any, generation: int, cursor_at_end: bool, page: Any) -> None:
            original(screen, generation, cursor_at_end, page)
            if generation == screen._generation:
                probe.shown = page

        UsersScreen._show_page = show_page  # type: ignore[method-assign]
        FrameWatch(app).on_frame = self._frame

    def _frame(self, now: float) -> None:
        if self.accept is not None and self.shown is not None and self.accept(self.shown):
            self.drawn_at = now
            self.accept = None

    async def time(
        self, act: Callable[[], Awaitable[None]], accept: Callable[[Any], bool]
    ) -> float:
        """Seconds from ``act`` until a frame shows a page that ``accept`` takes."""
        self.shown, self.drawn_at, self.accept = None, None, accept
        start = time.perf_counter()
        await act()
        await until(lambda: self.drawn_at is not None)
        assert self.drawn_at is not None
        return self.drawn_at - start


async def sign_in(app: Any, pilot: Any) -> None:
    """Sign in as the admin through the sign-in screen."""
    from tui_portal.screens.profile import ProfileScreen

    await until(lambda: app._portal.done())
    await send_keys(app, *ADMIN, "enter", *ADMIN_PASSWORD, "enter")
    await until(lambda: isinstance(app.screen, ProfileScreen))


async def browse(space: Scratch, db: Path) -> dict[str, Any]:
    """Open Users, filter and jump to the end, timing each step."""
    from tui_portal.launch import make_app
    from tui_portal.screens.users import PAGE_SIZE, UsersScreen
    from tui_portal.services.validation import check_filter

    app = make_app(space.settings(db))
    probe = PageProbe(app)
    figures: dict[str, Any] = {"open": [], "keys": []}
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(app, pilot)
        for _ in range(OPENINGS):
            figures["open"].append(
                await probe.time(
                    lambda: send_keys(app, "u"),
                    lambda page: isinstance(app.screen, UsersScreen) and page.rows,
                )
            )
            members = probe.shown.total
            await send_keys(app, "escape")
            await until(lambda: not isinstance(app.screen, UsersScreen))
            await asyncio.sleep(0.5)  # the profile reloads the account when it comes back
        await send_keys(app, "u")
        await until(lambda: isinstance(app.screen, UsersScreen) and probe.shown is not None)
        await send_keys(app, "slash")
        await until(lambda: app.focused is not None and app.focused.id == "filter")
        await asyncio.sleep(0.3)  # let the footer catch up with the new focus
        typed = ""
        for key in KEYSTROKES:
            typed = typed[:-1] if key == "backspace" else typed + key
            wanted = check_filter(typed)
            figures["keys"].append(
                await probe.time(
                    lambda key=key: send_keys(app, key),
                    lambda page, wanted=wanted: page.prefix == wanted,
                )
            )
        await send_keys(app, *["backspace"] * len(typed))
        await until(lambda: probe.shown is not None and probe.shown.prefix == "")
        await send_keys(app, "enter")  # from the filter to the table
        last = max(0, members - PAGE_SIZE)
        figures["last"] = await probe.time(
            lambda: send_keys(app, "ctrl+end"),
            lambda page: page.offset == last and page.total == members,
        )
        figures["first"] = await probe.time(
            lambda: send_keys(app, "ctrl+home"), lambda page: page.offset == 0
        )
        figures["members"] = members
    return figures


async def memory_steps(space: Scratch, db: Path) -> dict[str, float]:
    """The same steps, signed in directly (no argon2, whose 64 MiB would hide the
    difference); the peak resident memory in MiB."""
    from argon2 import PasswordHasher

    from tui_portal.launch import make_app
    from tui_portal.screens.users import UsersScreen
    from tui_portal.security.passwords import Passwords
    from tui_portal.services.portal import open_portal
    from tui_portal.services.results import SignedIn

    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    portal = open_portal(space.settings(db), passwords=cheap)
    app = make_app(space.settings(db), portal=portal)
    probe = PageProbe(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app._portal.done())
        signed = portal.sign_in.sign_in(
            username=ADMIN, password=ADMIN_PASSWORD, source="local:benchmark"
        )
        assert isinstance(signed, SignedIn)
        app.signed_in(signed, portal.members.picker_organisations(signed.caller))
        await pilot.pause()
        await probe.time(lambda: send_keys(app, "u"), lambda page: True)
        assert isinstance(app.screen, UsersScreen)
        await send_keys(app, "slash")
        for key in [*"maya", *["backspace"] * 4]:
            await probe.time(lambda key=key: send_keys(app, key), lambda page: True)
        await send_keys(app, "enter")
        await probe.time(lambda: send_keys(app, "ctrl+end"), lambda page: True)
    return memory_mib()


def member_rows(db: Path) -> list[tuple[str, ...]]:
    """Every member of every organisation, as plain strings, in username order."""
    with sqlite3.connect(db) as connection:
        return [
            (username, name, email, role, "Disabled", last or "Never")
            for username, name, email, role, last in connection.execute(
                "SELECT u.username, u.name, u.email, m.role, u.last_sign_in_at "
                "FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY m.username_key"
            )
        ]


async def plain_table(db: Path, with_rows: bool) -> dict[str, float]:
    """The anchor: a plain DataTable given every member at once."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class PlainTable(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="members")

    loaded = time.perf_counter()
    rows = member_rows(db) if with_rows else []
    loaded = time.perf_counter() - loaded
    app = PlainTable()
    watch = FrameWatch(app)
    async with app.run_test(size=SIZE) as pilot:
        table: DataTable[str] = app.query_one(DataTable)
        table.add_columns(*COLUMNS)
        await pilot.pause()
        if not rows:  # the baseline for memory: nothing more to draw
            return {"load": loaded, "render": 0.0, "last": 0.0, **memory_mib()}
        frames = watch.frames
        start = time.perf_counter()
        table.add_rows(rows)
        await until(lambda: watch.frames > frames and table.row_count == len(rows))
        first_render = watch.last_frame - start
        table.focus()
        frames = watch.frames
        start = time.perf_counter()
        await send_keys(app, "ctrl+end")
        await until(lambda: watch.frames > frames)
        last = watch.last_frame - start
    return {"load": loaded, "render": first_render, "last": last, **memory_mib()}


def in_own_process(space: Scratch, *args: str) -> dict[str, float]:
    """Run one pass of this script in a new process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=space.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{done.stderr[-2000:]}")
    answer: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def hash_seconds() -> float:
    """One argon2id hash with the portal's parameters (median of three)."""
    from tui_portal.security.passwords import Passwords

    passwords = Passwords()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        passwords.hash("a member's password")
        times.append(time.perf_counter() - start)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--pass", dest="one_pass", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_pass:
        run_one_pass(*args.one_pass)
        return
    command = "python benchmarks/large_org.py"
    if args.members != 100_000:
        command += f" --members {args.members}"
    print_header(f"Large organisation: {args.members:,} members on the Users screen", command)
    with scratch() as space:
        large, empty = space.db("large.db"), space.db("empty.db")
        import_seconds = seed_org(space, large, args.members)
        seed_org(space, empty, 0)
        one_hash = hash_seconds()
        figures = asyncio.run(browse(space, large))
        memory_large = in_own_process(space, "--pass", "memory", str(large))
        memory_empty = in_own_process(space, "--pass", "memory", str(empty))
        anchor_empty = in_own_process(space, "--pass", "anchor-empty", str(large))
        anchor = in_own_process(space, "--pass", "anchor", str(large))
    report(
        args.members,
        import_seconds,
        one_hash,
        figures,
        {key: memory_large[key] - memory_empty[key] for key in ("rss", "now")},
        anchor,
        {key: anchor[key] - anchor_empty[key] for key in ("rss", "now")},
    )


def run_one_pass(kind: str, db: str) -> None:
    """One measurement in this process, printed as JSON for the parent."""
    space = Scratch(Path(db).parent, dict(__import__("os").environ))
    if kind == "memory":
        answer = asyncio.run(memory_steps(space, Path(db)))
    else:
        answer = asyncio.run(plain_table(Path(db), with_rows=kind == "anchor"))
    print(json.dumps(answer))


def report(
    members: int,
    import_seconds: float,
    one_hash: float,
    figures: dict[str, Any],
    growth: dict[str, float],
    anchor: dict[str, float],
    anchor_growth: dict[str, float],
) -> None:
    hashed = one_hash * members
    print(f"Import of {members:,} members with `tui-portal user import`")
    print()
    print_table(
        ["figure", "portal", "anchor: hashing every password instead", "ratio"],
        [
            [
                "import time",
                f"{import_seconds:,.1f} s ({members / import_seconds:,.0f} rows/s)",
                f"{hashed / 60:,.0f} min (est.: {members:,} × {ms(one_hash)})",
                ratio(import_seconds, hashed),
            ]
        ],
    )
    opens, keys = figures["open"], figures["keys"]
    print(
        f"Users screen, {figures['members']:,} members, {SIZE[0]}x{SIZE[1]}; anchor: a plain "
        f"DataTable given all {figures['members']:,} rows at once (loading them took "
        f"{ms(anchor['load'])} more)"
    )
    print()
    rows = [
        [
            f"open Users until the first page is drawn (median of {len(opens)})",
            ms(median(opens)),
            ms(anchor["render"]),
            ratio(median(opens), anchor["render"]),
            f"≤ {ms(FIRST_PAGE_GOAL)}: {verdict(median(opens) <= FIRST_PAGE_GOAL)}",
        ],
        [
            "  first opening / slowest",
            f"{ms(opens[0])} / {ms(max(opens))}",
            "",
            "",
            "",
        ],
        [
            f"filter keystroke until the new rows are drawn (median of {len(keys)})",
            ms(median(keys)),
            "",
            "",
            f"≤ {ms(KEYSTROKE_GOAL)}: {verdict(median(keys) <= KEYSTROKE_GOAL)}",
        ],
        [
            "  p95 / slowest keystroke",
            f"{ms(percentile(keys, 0.95))} / {ms(max(keys))}",
            "",
            "",
            "",
        ],
        [
            "jump to the last member (ctrl+end)",
            ms(figures["last"]),
            ms(anchor["last"]),
            ratio(figures["last"], anchor["last"]),
            "",
        ],
        ["back to the first member (ctrl+home)", ms(figures["first"]), "", "", ""],
        [
            "peak memory over an empty organisation",
            f"{growth['rss']:+,.1f} MiB",
            f"{anchor_growth['rss']:+,.1f} MiB",
            ratio(growth["rss"], anchor_growth["rss"]),
            f"< {MEMORY_GOAL_MIB} MiB: {verdict(growth['rss'] < MEMORY_GOAL_MIB)}",
        ],
        [
            "  resident at the end, over an empty organisation",
            f"{growth['now']:+,.1f} MiB",
            f"{anchor_growth['now']:+,.1f} MiB",
            ratio(growth["now"], anchor_growth["now"]),
            "",
        ],
    ]
    print_table(["figure", "portal", "anchor", "ratio", "goal"], rows)


if __name__ == "__main__":
    main()
