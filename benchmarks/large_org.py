"""Large organisation: 100,000 members, imported, then browsed on the Users screen.

The members are imported with ``tui-portal user import`` (timed). Then the real app, over
the real database, is driven with Pilot at 80x24 and at 120x40: an admin signs in, opens
Users, types in the filter and jumps to the last member and back. Each figure is the time
from the key press until a frame showing what the key asked for has been drawn (and turned
into the bytes a terminal would be sent). The same steps are then timed from outside, on a
real pseudo-terminal, from writing the key until the terminal has been sent the rows.
Peak memory is compared with the same steps on an empty organisation, each in a process of
its own. The anchor is a plain Textual DataTable given every member at once, measured the
same way.

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
    PtySession,
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

SIZES = ((80, 24), (120, 40))
FIRST_PAGE_GOAL = 0.100
KEYSTROKE_GOAL = 0.033  # two frames at 60 Hz
LAST_MEMBER_GOAL = 0.050
OUTSIDE_GOAL = 1.5  # from outside, within this many times the in-process goals
MEMORY_GOAL_MIB = 20
OPENINGS = 5
# A person looking for "Maya T…", changing their mind, and looking for "Sara".
KEYSTROKES = [*"maya.t", *["backspace"] * 6, *"sara"]
COLUMNS = ("Username", "Name", "Email", "Role", "MFA", "Last sign-in")
CTRL_END, CTRL_HOME = "\x1b[1;5F", "\x1b[1;5H"


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


class DrawProbe:
    """Times a key until the first frame drawn while the Users table shows what the key
    asked for (the condition is read at each frame, right after it was drawn)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.accept: Callable[[], bool] | None = None
        self.drawn_at: float | None = None
        FrameWatch(app).on_frame = self._frame

    def _frame(self, now: float) -> None:
        if self.accept is not None and self.accept():
            self.drawn_at = now
            self.accept = None

    async def time(self, act: Callable[[], Awaitable[None]], accept: Callable[[], bool]) -> float:
        """Seconds from ``act`` until a frame is drawn while ``accept()`` holds."""
        self.drawn_at, self.accept = None, accept
        start = time.perf_counter()
        await act()
        await until(lambda: self.drawn_at is not None)
        assert self.drawn_at is not None
        return self.drawn_at - start


def users_table(app: Any) -> Any:
    """The Users screen's table, or None on any other screen."""
    from tui_portal.screens.users import UsersScreen
    from tui_portal.widgets.members_table import MembersTable

    screen = app.screen
    return screen.query_one(MembersTable) if isinstance(screen, UsersScreen) else None


def showing(app: Any, prefix: str, *, at: int | None = None) -> bool:
    """Whether the table shows the rows of ``prefix`` in view (with the cursor on ``at``)."""
    table = users_table(app)
    if table is None or table.shown_query is None or table.shown_query.prefix != prefix:
        return False
    page, total = table.loaded, table.total
    if page is None or total is None:
        return False
    if at is None:
        return page.offset == 0
    member = table.highlighted
    return member is not None and member.index == (total - 1 if at < 0 else at)


async def sign_in(app: Any, pilot: Any) -> None:
    """Sign in as the admin through the sign-in screen."""
    from tui_portal.screens.profile import ProfileScreen

    await until(lambda: app._portal.done())
    await send_keys(app, *ADMIN, "enter", *ADMIN_PASSWORD, "enter")
    await until(lambda: isinstance(app.screen, ProfileScreen))


async def browse(space: Scratch, db: Path, size: tuple[int, int]) -> dict[str, Any]:
    """Open Users, filter and jump to the end and back, timing each step."""
    from tui_portal.launch import make_app
    from tui_portal.screens.users import UsersScreen
    from tui_portal.services.validation import check_filter

    app = make_app(space.settings(db))
    probe = DrawProbe(app)
    figures: dict[str, Any] = {"open": [], "keys": []}
    async with app.run_test(size=size) as pilot:
        await sign_in(app, pilot)
        await asyncio.sleep(1.0)  # what is warmed up after the first frame is warm
        for _ in range(OPENINGS):
            figures["open"].append(
                await probe.time(lambda: send_keys(app, "u"), lambda: showing(app, ""))
            )
            figures["members"] = users_table(app).total
            await send_keys(app, "escape")
            await until(lambda: not isinstance(app.screen, UsersScreen))
            await asyncio.sleep(0.3)
        await send_keys(app, "u")
        await until(lambda: showing(app, ""))
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
                    lambda wanted=wanted: showing(app, wanted),
                )
            )
        await send_keys(app, *["backspace"] * len(typed))
        await until(lambda: showing(app, ""))
        await send_keys(app, "enter")  # from the filter to the table
        await asyncio.sleep(0.3)  # the last window is fetched ahead of ctrl+end
        figures["last"] = await probe.time(
            lambda: send_keys(app, "ctrl+end"), lambda: showing(app, "", at=-1)
        )
        figures["first"] = await probe.time(
            lambda: send_keys(app, "ctrl+home"), lambda: showing(app, "", at=0)
        )
    return figures


def first_rows(db: Path, prefixes: list[str]) -> dict[str, tuple[int, str, str]]:
    """For each filter, how many members match, and the first and last matching usernames,
    as the directory orders them."""
    from tui_portal.services.validation import check_filter

    answers = {}
    with sqlite3.connect(db) as connection:
        for typed in prefixes:
            key = check_filter(typed)
            where, args = "", []
            if key:
                where = (
                    "WHERE substr(u.username_key, 1, ?) = ? OR substr(u.name_key, 1, ?) = ? "
                    "OR substr(u.email_key, 1, ?) = ?"
                )
                args = [len(key), key] * 3
            rows = connection.execute(
                "SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id "
                f"{where} ORDER BY u.username_key",
                args,
            ).fetchall()
            answers[typed] = (len(rows), rows[0][0] if rows else "", rows[-1][0] if rows else "")
    return answers


def browse_outside(space: Scratch, db: Path, size: tuple[int, int]) -> dict[str, Any]:
    """The same steps on a real pseudo-terminal: each figure runs from writing the key
    until the terminal has been sent what it asked for."""
    typed, prefixes = "", [""]
    for key in KEYSTROKES:
        typed = typed[:-1] if key == "backspace" else typed + key
        prefixes.append(typed)
    answers = first_rows(db, prefixes)
    total, first, last = answers[""]
    figures: dict[str, Any] = {"open": [], "keys": []}
    argv = [sys.executable, "-m", "tui_portal", "--db", str(db)]
    with PtySession(argv, space.env, size) as term:
        term.wait_for(b"Username")
        term.write(ADMIN.encode() + b"\r")
        time.sleep(0.2)
        term.write(ADMIN_PASSWORD.encode() + b"\r")
        term.wait_for(b"MFA: Disabled")
        time.sleep(1.5)  # what is warmed up after the first frame is warm
        for _ in range(OPENINGS):
            figures["open"].append(term.time_to(b"u", first.encode()))
            time.sleep(0.3)
            term.write(b"\x1b")
            term.wait_for(b"MFA: Disabled")
            time.sleep(0.3)
        term.write(b"u")
        term.wait_for(first.encode())
        term.write(b"/")
        time.sleep(0.5)
        typed, shown = "", total
        for key in KEYSTROKES:
            typed = typed[:-1] if key == "backspace" else typed + key
            count = answers[typed][0]
            data = b"\x7f" if key == "backspace" else key.encode()
            if count == shown or count == 0:
                term.write(data)  # the screen's words do not change: nothing to wait for
                time.sleep(0.2)
            else:
                figures["keys"].append(term.time_to(data, f"of {count:,}".encode()))
            shown = count
        term.write(b"\x7f" * len(typed))
        term.wait_for(f"of {total:,}".encode())
        term.write(b"\r")
        time.sleep(0.5)
        figures["last"] = term.time_to(CTRL_END.encode(), last.encode())
        figures["first"] = term.time_to(CTRL_HOME.encode(), first.encode())
    return figures


async def memory_steps(space: Scratch, db: Path) -> dict[str, float]:
    """The same steps, signed in directly (no argon2, whose 64 MiB would hide the
    difference); the peak resident memory in MiB."""
    from argon2 import PasswordHasher

    from tui_portal.launch import make_app
    from tui_portal.security.passwords import Passwords
    from tui_portal.services.portal import open_portal
    from tui_portal.services.results import SignedIn
    from tui_portal.services.validation import check_filter

    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    portal = open_portal(space.settings(db), passwords=cheap)
    app = make_app(space.settings(db), portal=portal)
    probe = DrawProbe(app)
    async with app.run_test(size=SIZES[0]) as pilot:
        await until(lambda: app._portal.done())
        signed = portal.sign_in.sign_in(
            username=ADMIN, password=ADMIN_PASSWORD, source="local:benchmark"
        )
        assert isinstance(signed, SignedIn)
        app.signed_in(signed, portal.members.picker_organisations(signed.caller))
        await pilot.pause()
        await probe.time(lambda: send_keys(app, "u"), lambda: showing(app, ""))
        await send_keys(app, "slash")
        typed = ""
        for key in [*"maya", *["backspace"] * 4]:
            typed = typed[:-1] if key == "backspace" else typed + key
            wanted = check_filter(typed)
            await probe.time(
                lambda key=key: send_keys(app, key), lambda wanted=wanted: showing(app, wanted)
            )
        await send_keys(app, "enter")
        await probe.time(lambda: send_keys(app, "ctrl+end"), lambda: showing(app, "", at=-1))
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


async def plain_table(db: Path, with_rows: bool, size: tuple[int, int]) -> dict[str, float]:
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
    async with app.run_test(size=size) as pilot:
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
        runs = {}
        for size in SIZES:
            inside = asyncio.run(browse(space, large, size))
            outside = browse_outside(space, large, size)
            anchor = in_own_process(space, "--pass", f"anchor:{size[0]}x{size[1]}", str(large))
            runs[size] = (inside, outside, anchor)
        memory_large = in_own_process(space, "--pass", "memory", str(large))
        memory_empty = in_own_process(space, "--pass", "memory", str(empty))
        anchor_empty = in_own_process(space, "--pass", "anchor-empty:80x24", str(large))
        anchor_full = runs[SIZES[0]][2]
    report_import(args.members, import_seconds, one_hash)
    for size, (inside, outside, anchor) in runs.items():
        report_size(size, inside, outside, anchor)
    report_memory(
        {key: memory_large[key] - memory_empty[key] for key in ("rss", "now")},
        {key: anchor_full[key] - anchor_empty[key] for key in ("rss", "now")},
    )


def run_one_pass(kind: str, db: str) -> None:
    """One measurement in this process, printed as JSON for the parent."""
    space = Scratch(Path(db).parent, dict(__import__("os").environ))
    if kind == "memory":
        answer = asyncio.run(memory_steps(space, Path(db)))
    else:
        name, _, dimensions = kind.partition(":")
        width, height = (int(n) for n in dimensions.split("x"))
        answer = asyncio.run(plain_table(Path(db), name == "anchor", (width, height)))
    print(json.dumps(answer))


def report_import(members: int, import_seconds: float, one_hash: float) -> None:
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


def report_size(
    size: tuple[int, int], inside: dict[str, Any], outside: dict[str, Any], anchor: dict[str, float]
) -> None:
    opens, keys = inside["open"], inside["keys"]
    out_opens, out_keys = outside["open"], outside["keys"]
    print(
        f"Users screen, {inside['members']:,} members, {size[0]}x{size[1]}; in process (Pilot) "
        f"and from outside (a pseudo-terminal); anchor: a plain DataTable given all "
        f"{inside['members']:,} rows at once (loading them took {ms(anchor['load'])} more)"
    )
    print()

    def goal(value: float, target: float, factor: float = 1.0) -> str:
        limit = target * factor
        return f"≤ {ms(limit)}: {verdict(value <= limit)}"

    rows = [
        [
            f"open Users until the first page is drawn (median of {len(opens)})",
            ms(median(opens)),
            goal(median(opens), FIRST_PAGE_GOAL),
            ms(median(out_opens)),
            goal(median(out_opens), FIRST_PAGE_GOAL, OUTSIDE_GOAL),
            ms(anchor["render"]),
            ratio(median(opens), anchor["render"]),
        ],
        [
            "  first opening / slowest",
            f"{ms(opens[0])} / {ms(max(opens))}",
            "",
            f"{ms(out_opens[0])} / {ms(max(out_opens))}",
            "",
            "",
            "",
        ],
        [
            f"filter keystroke until the new rows are drawn (median of {len(keys)}; "
            f"outside {len(out_keys)})",
            ms(median(keys)),
            goal(median(keys), KEYSTROKE_GOAL),
            ms(median(out_keys)),
            goal(median(out_keys), KEYSTROKE_GOAL, OUTSIDE_GOAL),
            "",
            "",
        ],
        [
            "  p95 / slowest keystroke",
            f"{ms(percentile(keys, 0.95))} / {ms(max(keys))}",
            "",
            f"{ms(percentile(out_keys, 0.95))} / {ms(max(out_keys))}",
            "",
            "",
            "",
        ],
        [
            "jump to the last member (ctrl+end)",
            ms(inside["last"]),
            goal(inside["last"], LAST_MEMBER_GOAL),
            ms(outside["last"]),
            goal(outside["last"], LAST_MEMBER_GOAL, OUTSIDE_GOAL),
            ms(anchor["last"]),
            ratio(inside["last"], anchor["last"]),
        ],
        [
            "back to the first member (ctrl+home)",
            ms(inside["first"]),
            "",
            ms(outside["first"]),
            "",
            "",
            "",
        ],
    ]
    print_table(
        ["figure", "in process", "goal", "from outside", "goal (1.5×)", "anchor", "ratio"], rows
    )


def report_memory(growth: dict[str, float], anchor_growth: dict[str, float]) -> None:
    print(
        f"Memory, {SIZES[0][0]}x{SIZES[0][1]}: the same steps in a process of their own, less "
        "the same steps on an empty organisation; anchor: the plain DataTable"
    )
    print()
    print_table(
        ["figure", "portal", "anchor", "ratio", "goal"],
        [
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
        ],
    )


if __name__ == "__main__":
    main()
