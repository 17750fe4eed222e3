"""Shared helpers for the benchmark scripts: machine facts, statistics, tables and set-up.

Every script measures the portal and its anchor side by side in one run, so that a busy
machine slows both alike, and prints a Markdown table of figures with their ratios.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a clone without installing the package
    sys.path.insert(0, str(ROOT))

ADMIN = "olivia.admin"
ADMIN_PASSWORD = "correct horse battery staple"
ORG = "Initech"


# -- the machine --------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it (or the platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """One line: cores, CPU, Python, Textual and SQLite versions."""
    import sqlite3

    from textual import __version__ as textual_version

    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
        f"Textual {textual_version}, SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )


def print_header(title: str, command: str) -> None:
    """What is measured, where, and the command that reproduces it."""
    print(f"# {title}")
    print()
    print(f"machine: {machine_summary()}")
    print(f"command: {command}")
    print()


# -- statistics and tables ----------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median (0 for no values)."""
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile by the nearest-rank rule."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return f"{seconds * 1000:,.1f} ms"


def ratio(value: float, anchor: float) -> str:
    """``value / anchor`` as ``1.07x``."""
    if anchor <= 0:
        return "n/a"
    if value <= 0:
        return "none"
    figure = value / anchor
    return f"{figure:,.2f}x" if figure >= 0.01 else f"{figure:.4f}x"


def verdict(ok: bool) -> str:
    """Whether a goal is met."""
    return "met" if ok else "MISSED"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Markdown table, aligned for reading in a terminal and pasting into the README."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    print()


# -- a scratch portal ---------------------------------------------------------------------


@dataclass
class Scratch:
    """A temporary folder with the environment a portal needs: data and config folders,
    and an inline secrets key, so nothing outside the folder is read or written."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def db(self, name: str = "portal.db") -> Path:
        """A database file path inside the folder."""
        return self.root / name

    def settings(self, db: Path) -> Any:
        """The portal's settings for ``db`` in this environment."""
        from tui_portal.config import resolve_settings

        return resolve_settings(db=str(db), environ=self.env)


@contextmanager
def scratch() -> Iterator[Scratch]:
    """A :class:`Scratch` folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tui-portal-bench-") as name:
        root = Path(name)
        env = dict(os.environ)
        env.update(
            {
                "TUI_PORTAL_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "XDG_DATA_HOME": str(root / "data"),
                "XDG_CONFIG_HOME": str(root / "config"),
                "XDG_CACHE_HOME": str(root / "cache"),
                "TERM": "xterm-256color",
                "COLORTERM": "truecolor",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
                ),
            }
        )
        for variable in ("TUI_PORTAL_DB", "TUI_PORTAL_KEY_FILE", "TEXTUAL", "NO_COLOR"):
            env.pop(variable, None)
        yield Scratch(root, env)


def open_portal_at(space: Scratch, db: Path, **kwargs: Any) -> Any:
    """Open (creating) the portal database ``db`` with the real services."""
    from tui_portal.services.portal import open_portal

    return open_portal(space.settings(db), **kwargs)


# -- people -------------------------------------------------------------------------------

FIRST_NAMES = (  # noqa: SIM905 - easier to read as words
    "Ada Alan Alice Amir Anna Ben Carla Chen Chloe Dan Diego Elena Emma Eva Farah Felix "
    "Grace Hana Hugo Ines Ivan Jack Jana Jonas Kai Kim Lara Leo Lina Luca Maya Mei Mia "
    "Nina Noah Omar Oscar Paula Priya Quinn Rosa Sam Sara Tariq Theo Uma Vera Wei Yara "
    "Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905 - easier to read as words
    "Abbott Bauer Castro Dubois Evans Fischer Garcia Hansen Ito Jensen Kowalski Larsen "
    "Martin Novak Okafor Patel Quist Rossi Schmidt Tanaka Ueda Varga Weber Xu Yilmaz "
    "Zhou Berg Costa Dahl Engel Fontaine Gomez Horvat Ibsen Jovanovic Keller Lindqvist "
    "Moreau Nilsson Olsen Petrov Ruiz Silva Torres Vogel Wagner Young Ziegler Kaur "
    "Nakamura"
).split()


def people(count: int, seed: int = 20261130) -> Iterator[tuple[str, str, str]]:
    """``count`` distinct (username, display name, email), varied like a real company's."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}.{last}{rng.randrange(10_000)}".lower()
        if username in seen:
            continue
        seen.add(username)
        yield username, f"{first} {last}", f"{username}@example.com"


def write_members_csv(
    path: Path, count: int, org: str, password_hash: str, *, admins: int = 0
) -> None:
    """An import file of ``count`` members of ``org`` (the first ``admins`` as admins)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["username", "name", "email", "org", "role", "password_hash"])
        for number, (username, name, email) in enumerate(people(count)):
            role = "admin" if number < admins else "member"
            out.writerow([username, name, email, org, role, password_hash])


def run_cli(space: Scratch, db: Path, *args: str, stdin: str | None = None) -> str:
    """Run ``tui-portal --db DB ARGS…`` as an operator would; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "tui_portal", "--db", str(db), *args],
        env=space.env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tui-portal {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def seed_org(space: Scratch, db: Path, members: int) -> float:
    """An organisation with an admin (who signs in with :data:`ADMIN_PASSWORD`) and
    ``members`` imported members; the seconds ``tui-portal user import`` took."""
    from tui_portal.security.passwords import Passwords

    run_cli(space, db, "org", "create", ORG)
    run_cli(
        space,
        db,
        "user",
        "create",
        ADMIN,
        "--name",
        "Olivia Admin",
        "--email",
        "olivia@example.com",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    run_cli(space, db, "org", "add-member", ORG, ADMIN, "--admin")
    if not members:
        return 0.0
    # One real argon2id hash, reused: the import checks hashes, it never computes them.
    password_hash = Passwords().hash("a member's password")
    csv_path = space.root / f"members-{members}.csv"
    write_members_csv(csv_path, members, ORG, password_hash)
    start = time.perf_counter()
    run_cli(space, db, "user", "import", str(csv_path))
    return time.perf_counter() - start


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds a call took, and its result."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


# -- drawing, as a terminal would see it ----------------------------------------------------


class FrameWatch:
    """Times the frames a headless app draws, and turns each into terminal output.

    Under ``run_test`` the app lays out and renders every update but writes nothing; this
    watch also builds the escape sequences a real terminal would be sent, so their cost is
    counted, and calls ``on_frame`` with the time of each finished frame.
    """

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.frames = 0
        self.last_frame = 0.0
        self.on_frame: Callable[[float], None] | None = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            now = time.perf_counter()
            self.frames += 1
            self.last_frame = now
            if self.on_frame is not None:
                self.on_frame(now)

        app._display = display


_KEY_CHARACTERS = {"enter": "\r", "escape": "\x1b", "backspace": "\x7f", "slash": "/"}


async def send_keys(app: Any, *keys: str, interval: float = 0.01) -> None:
    """Keys as a terminal delivers them, ``interval`` apart: characters ("a", ".") or key
    names ("enter", "ctrl+end"). Pilot's own ``press`` waits for the whole process to go
    idle after each key, which never happens while a ticker or a worker thread runs."""
    import asyncio

    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:
            event = events.Key(key if key.isalnum() else _character_to_key(key), key)
        else:
            event = events.Key(key, _KEY_CHARACTERS.get(key))
        event.set_sender(app)
        app.post_message(event)
        await asyncio.sleep(interval)


class Ticker:
    """The longest gap between ticks of a 5 ms timer on the app's event loop."""

    INTERVAL = 0.005

    def __init__(self, app: Any) -> None:
        self.last_tick = 0.0
        self.longest = 0.0
        self.ticks = 0
        self._timer = app.set_interval(self.INTERVAL, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last_tick:
            self.longest = max(self.longest, now - self.last_tick)
        self.last_tick = now
        self.ticks += 1

    def reset(self) -> None:
        """Start a new measurement window."""
        self.last_tick = time.perf_counter()
        self.longest = 0.0
        self.ticks = 0

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()


async def until(condition: Callable[[], Any], timeout: float = 120.0) -> None:
    """Wait, without blocking the event loop, until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.001)


class PtySession:
    """A program on a pseudo-terminal of its own, as a person's terminal runs it: keys are
    written to it, and what it draws is read back as the bytes a terminal would receive."""

    def __init__(self, argv: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        import fcntl
        import struct
        import termios

        self._master, slave = os.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

        def take_terminal() -> None:  # in the child: the pty is its controlling terminal
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.started = time.perf_counter()
        """When the program was started."""
        self._child = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=take_terminal,
        )
        os.close(slave)
        self._seen = b""

    def __enter__(self) -> PtySession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._child.kill()
        self._child.wait()
        os.close(self._master)

    def write(self, data: bytes) -> None:
        """Type ``data`` (keys, or their escape sequences); forget what was drawn before."""
        self._drain()
        self._seen = b""
        os.write(self._master, data)

    def _drain(self) -> None:
        import select

        while select.select([self._master], [], [], 0)[0]:
            if not os.read(self._master, 65536):
                break

    def wait_for(self, marker: bytes, timeout: float = 60.0) -> float:
        """Read until ``marker`` has been drawn; the time it arrived."""
        import select

        deadline = time.perf_counter() + timeout
        while marker not in self._seen:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"{marker!r} was not drawn in {timeout:.0f} s")
            if select.select([self._master], [], [], left)[0]:
                try:
                    chunk = os.read(self._master, 65536)
                except OSError:  # the program closed its terminal
                    chunk = b""
                if not chunk:
                    raise RuntimeError(
                        f"it exited before drawing {marker!r}: {self._seen[-500:]!r}"
                    )
                self._seen = self._seen[-4096:] + chunk
        return time.perf_counter()

    def time_to(self, data: bytes, marker: bytes) -> float:
        """Seconds from typing ``data`` until ``marker`` has been drawn."""
        self.write(data)
        start = time.perf_counter()
        return self.wait_for(marker) - start
