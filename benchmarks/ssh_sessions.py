"""Serving over SSH: how fast a session opens, and how many people one machine holds.

Every figure is taken from the system's OpenSSH client, each client on a pseudo-terminal
of its own (80x24), against ``tui-portal serve ssh`` on a loopback port:

1. connect until the sign-in screen's "Username" is drawn, for sessions forked from the
   template and for sessions started cold (a new Python each), beside the anchor: the
   same client running ``true`` on a server with the same SSH transport that runs commands
   as OpenSSH does (``benchmarks/ssh_anchor.py``). The three take turns, round after round.
2. N sessions held open at once (50, 100, 200): memory per session (PSS, so pages shared
   with the template count once), CPU while they sit idle, and connect-to-drawn of new
   connections while they are open (p50/p95), beside the anchor measured at the same time.
3. 50 people signing in at the same moment (real argon2id): how long until each sees the
   profile, errors on any screen, and whether the audit trail holds every sign-in.

    python benchmarks/ssh_sessions.py [--rounds N] [--counts 50,100,200] [--probes N]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    ORG,
    ROOT,
    Scratch,
    median,
    ms,
    percentile,
    print_header,
    print_table,
    ratio,
    run_cli,
    scratch,
    verdict,
    write_members_csv,
)

MARKER = b"Username"
TIMEOUT = 60.0
OPEN_GOAL = 1.5  # connect-to-drawn within 1.5x the anchor
PSS_GOAL_MIB = 30.0
P95_GOAL = 1.0  # seconds, with 200 open
HELD_GOAL = 200
SIGN_IN_PASSWORD = "a long shared benchmark password"
ERROR_WORDS = (
    b"database is locked",
    b"Something went wrong",
    b"Invalid username or password",
    b"not available right now",
)


# -- processes on pseudo-terminals ----------------------------------------------------------


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class Client:
    """One OpenSSH client on a pty of its own, and what it has printed."""

    process: subprocess.Popen[bytes]
    master: int
    started: float
    seen: bytearray = field(default_factory=bytearray)
    drawn_at: float | None = None
    ended: bool = False

    def read(self) -> None:
        """Take what the client printed (non-blocking)."""
        try:
            chunk = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.ended = True
            return
        self.seen += chunk
        if self.drawn_at is None and MARKER in self.seen:
            self.drawn_at = time.perf_counter()

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        """Quit (ctrl+q) and reap; kill a client that lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.send(b"\x11")
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def start_client(argv: list[str], env: dict[str, str]) -> Client:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=_take_terminal,
    )
    os.close(slave)
    os.set_blocking(master, False)
    return Client(process, master, started)


def pump(clients: list[Client], until: Callable[[], bool], what: str) -> None:
    """Read every client until ``until()`` holds."""
    deadline = time.perf_counter() + TIMEOUT
    while not until():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        live = {c.master: c for c in clients if not c.ended}
        if not live:
            raise RuntimeError(f"every client ended before {what}")
        ready, _, _ = select.select(list(live), [], [], 0.5)
        for fd in ready:
            live[fd].read()


def ssh_argv(port: int, known_hosts: Path, *command: str) -> list[str]:
    return [
        shutil.which("ssh") or "ssh",
        *(["-t"] if not command else []),
        "-F",
        "/dev/null",
        "-p",
        str(port),
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "127.0.0.1",
        *command,
    ]


# -- servers --------------------------------------------------------------------------------


@dataclass
class Server:
    """A server process and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    known_hosts: Path

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line.startswith("listening on "):
        raise RuntimeError(f"the server did not start: {line!r}")
    return int(line.rsplit(":", 1)[1])


def known_hosts_for(key: Path, port: int, folder: Path, name: str) -> Path:
    public = (key.parent / (key.name + ".pub")).read_text().split()
    path = folder / f"known_hosts-{name}"
    path.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    return path


def start_portal(space: Scratch, db: Path, name: str, *, cold: bool = False) -> Server:
    key = space.root / f"host-key-{name}"
    env = dict(space.env)
    if cold:
        env["TUI_PORTAL_SSH_SESSIONS"] = "cold"
    log = (space.root / f"server-{name}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_portal",
            "--db",
            str(db),
            "serve",
            "ssh",
            "--listen",
            "127.0.0.1:0",
            "--host-key",
            str(key),
            "--max-sessions",
            "1000",
            "--max-per-source",
            "1000",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        cwd=ROOT,
    )
    port = read_port(process)
    assert process.stdout is not None
    process.stdout.readline()  # host key SHA256:…
    return Server(process, port, known_hosts_for(key, port, space.root, name))


def start_anchor(space: Scratch) -> Server:
    key = space.root / "anchor-key"
    subprocess.run(
        [sys.executable, "-c", ANCHOR_KEY, str(key)], check=True, env=space.env, cwd=ROOT
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "ssh_anchor.py"), str(key)],
        env=space.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    port = read_port(process)
    return Server(process, port, known_hosts_for(key, port, space.root, "anchor"))


ANCHOR_KEY = """
import sys
from pathlib import Path
from tui_portal.serving.ssh.host_key import load_or_create_host_key
load_or_create_host_key(Path(sys.argv[1]))
"""


# -- measurements ---------------------------------------------------------------------------


def time_to_drawn(server: Server, env: dict[str, str]) -> float:
    """Connect until "Username" is drawn; then quit."""
    client = start_client(ssh_argv(server.port, server.known_hosts), env)
    try:
        pump([client], lambda: client.drawn_at is not None, "the sign-in screen")
        assert client.drawn_at is not None
        return client.drawn_at - client.started
    finally:
        client.close()


def time_to_true(server: Server, env: dict[str, str]) -> float:
    """``ssh … true``: connect, run, exit."""
    client = start_client(ssh_argv(server.port, server.known_hosts, "true"), env)
    try:
        pump([client], lambda: client.ended, "ssh true to finish")
        code = client.process.wait(10)
        if code != 0:
            raise RuntimeError(f"ssh true exited {code}: {bytes(client.seen)!r}")
        return time.perf_counter() - client.started
    finally:
        client.close()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def pss_kib(pid: int) -> int:
    """Proportional set size: each shared page divided among the processes sharing it."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass
class Held:
    """Figures with N sessions open."""

    count: int
    opened: list[float]
    probes: list[float]
    anchor: list[float]
    session_pss_mib: float
    server_pss_mib: float
    template_pss_mib: float
    idle_cpu: float


def open_many(server: Server, env: dict[str, str], count: int, batch: int = 10) -> list[Client]:
    """``count`` sessions, ``batch`` connecting at a time, each until drawn."""
    clients: list[Client] = []
    while len(clients) < count:
        wave = [
            start_client(ssh_argv(server.port, server.known_hosts), env)
            for _ in range(min(batch, count - len(clients)))
        ]
        clients += wave
        pump(clients, lambda w=wave: all(c.drawn_at is not None for c in w), "a wave to draw")
    return clients


def hold(
    server: Server, anchor: Server, env: dict[str, str], count: int, probes: int
) -> tuple[Held, list[Client]]:
    clients = open_many(server, env, count)
    opened = [c.drawn_at - c.started for c in clients if c.drawn_at is not None]
    template = children_of(server.process.pid)
    sessions = [pid for t in template for pid in children_of(t)]
    if not sessions:  # cold: the sessions are the server's own children
        sessions = template
        template = []
    time.sleep(2.0)  # let the last sessions finish opening their databases
    everything = [server.process.pid, *template, *sessions]
    before = cpu_seconds(everything)
    window = 5.0
    time.sleep(window)
    idle_cpu = (cpu_seconds(everything) - before) / window
    held = Held(
        count=count,
        opened=opened,
        probes=[],
        anchor=[],
        session_pss_mib=sum(pss_kib(p) for p in sessions) / len(sessions) / 1024,
        server_pss_mib=pss_kib(server.process.pid) / 1024,
        template_pss_mib=sum(pss_kib(p) for p in template) / 1024,
        idle_cpu=idle_cpu,
    )
    for _ in range(probes):
        held.probes.append(time_to_drawn(server, env))
        held.anchor.append(time_to_true(anchor, env))
    return held, clients


def close_all(clients: list[Client]) -> None:
    for client in clients:
        with contextlib.suppress(OSError):
            client.send(b"\x11")
    for client in clients:
        client.close()


def settle(server: Server, quiet: float = 0.3, longest: float = 60.0) -> None:
    """Wait until the server and its sessions use less than ``quiet`` of a core."""
    deadline = time.perf_counter() + longest
    while time.perf_counter() < deadline:
        template = children_of(server.process.pid)
        pids = [server.process.pid, *template, *(p for t in template for p in children_of(t))]
        before = cpu_seconds(pids)
        time.sleep(1.0)
        if cpu_seconds(pids) - before < quiet:
            return


@dataclass
class SignIns:
    """50 people at once."""

    times: list[float]
    errors: int
    audited: int
    settled: bool


def sign_in_at_once(
    server: Server,
    space: Scratch,
    db: Path,
    env: dict[str, str],
    usernames: list[str],
    *,
    settled: bool,
) -> SignIns:
    """Everyone types at once: after their sessions have settled (people read the screen
    first), or the moment each has drawn (while the others are still starting)."""
    trail = json.loads(run_cli(space, db, "audit", "--json"))
    before = sum(1 for e in trail if e["event"] == "sign_in_succeeded")
    clients = open_many(server, env, len(usernames))
    if settled:
        settle(server)
    for client in clients:
        client.seen.clear()
    started = time.perf_counter()
    for client, username in zip(clients, usernames, strict=True):
        client.send(f"{username}\r{SIGN_IN_PASSWORD}\r".encode())
    profile = b"MFA: Disabled"
    done: dict[int, float] = {}
    failed: dict[int, bytes] = {}

    def all_answered() -> bool:
        for index, client in enumerate(clients):
            if index in done or index in failed:
                continue
            if profile in client.seen:
                done[index] = time.perf_counter() - started
                continue
            for word in ERROR_WORDS:
                if word in client.seen:
                    failed[index] = word
        return len(done) + len(failed) == len(clients)

    with contextlib.suppress(RuntimeError):  # a timeout: the rest count as errors
        pump(clients, all_answered, "every sign-in")
    errors = len(clients) - len(done)
    for word in sorted(set(failed.values())):
        count = list(failed.values()).count(word)
        print(f"   sign-in error on screen: {word.decode()!r} ({count})")
    close_all(clients)
    trail = json.loads(run_cli(space, db, "audit", "--json"))
    audited = sum(1 for e in trail if e["event"] == "sign_in_succeeded") - before
    return SignIns(sorted(done.values()), errors, audited, settled)


# -- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="openings of each kind")
    parser.add_argument("--counts", default="50,100,200", help="sessions held at once")
    parser.add_argument("--probes", type=int, default=20, help="openings while they are held")
    parser.add_argument("--people", type=int, default=50, help="people signing in at once")
    parser.add_argument("--opening-only", action="store_true", help="only part 1")
    parser.add_argument("--sign-ins-only", action="store_true", help="only part 3")
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    print_header(
        "Serving over SSH: opening a session, holding many, signing in together",
        "python benchmarks/ssh_sessions.py"
        + (f" --rounds {args.rounds}" if args.rounds != 15 else "")
        + (f" --counts {args.counts}" if args.counts != "50,100,200" else ""),
    )
    with scratch() as space:
        env = dict(space.env, HOME=str(space.root), TERM="xterm-256color")
        db = space.db()
        run_cli(space, db, "org", "create", ORG)
        from tui_portal.security.passwords import Passwords

        csv_path = space.root / "people.csv"
        write_members_csv(csv_path, args.people, ORG, Passwords().hash(SIGN_IN_PASSWORD))
        run_cli(space, db, "user", "import", str(csv_path))
        usernames = [row.split(",")[0] for row in csv_path.read_text().splitlines()[1:]]

        anchor = start_anchor(space)
        template = start_portal(space, db, "template")
        cold = start_portal(space, db, "cold", cold=True)
        try:
            if args.sign_ins_only:
                report_sign_ins(sign_ins(template, space, db, env, usernames), args.people)
                return
            opening = measure_opening(template, cold, anchor, env, args.rounds)
            report_opening(opening)
            if args.opening_only:
                return
            cold_held, clients = hold(cold, anchor, env, counts[0], min(args.probes, 5))
            close_all(clients)
            cold.stop()
            held = []
            for count in counts:
                figures, clients = hold(template, anchor, env, count, args.probes)
                held.append(figures)
                close_all(clients)
            report_held(held, cold_held)
            report_sign_ins(sign_ins(template, space, db, env, usernames), len(usernames))
        finally:
            for server in (template, cold, anchor):
                if server.process.poll() is None:
                    server.stop()


def measure_opening(
    template: Server, cold: Server, anchor: Server, env: dict[str, str], rounds: int
) -> dict[str, list[float]]:
    kinds: dict[str, Callable[[], float]] = {
        "anchor: ssh 127.0.0.1 true (same transport, command run as sshd does)": lambda: (
            time_to_true(anchor, env)
        ),
        "portal, session forked from the template": lambda: time_to_drawn(template, env),
        "portal, session started cold (a new Python)": lambda: time_to_drawn(cold, env),
    }
    for measure in kinds.values():  # warm caches
        measure()
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(rounds):
        for name, measure in kinds.items():
            times[name].append(measure())
    return times


def report_opening(times: dict[str, list[float]]) -> None:
    names = list(times)
    anchor = times[names[0]]
    rows = []
    for name in names:
        values = times[name]
        goal = ""
        if name != names[0]:
            goal = f"≤ {OPEN_GOAL:.1f}x: {verdict(median(values) <= OPEN_GOAL * median(anchor))}"
        rows.append(
            [
                name,
                ms(median(values)),
                ratio(median(values), median(anchor)),
                ms(percentile(values, 0.95)),
                ms(min(values)),
                goal,
            ]
        )
    print(f"1. Connect until drawn: {len(anchor)} openings of each, taking turns; 80x24")
    print()
    print_table(["opening", "median", "ratio", "p95", "fastest", "goal (median)"], rows)


def report_held(held: list[Held], cold: Held) -> None:
    rows = []
    for figures in [cold, *held]:
        last = figures is held[-1]
        name = f"{figures.count} open" + (", cold sessions" if figures is cold else "")
        rows.append(
            [
                name,
                f"{figures.session_pss_mib:.1f} MiB",
                f"{figures.template_pss_mib:.1f} MiB" if figures is not cold else "none",
                f"{figures.server_pss_mib:.1f} MiB",
                f"{figures.idle_cpu * 100:.0f} %",
                ms(median(figures.probes)),
                ms(percentile(figures.probes, 0.95)),
                ms(median(figures.anchor)),
                ratio(median(figures.probes), median(figures.anchor)),
                ms(percentile(figures.opened, 0.95)),
                (
                    f"≤ {PSS_GOAL_MIB:.0f} MiB: {verdict(figures.session_pss_mib <= PSS_GOAL_MIB)}"
                    + (
                        f"; p95 ≤ 1 s: {verdict(percentile(figures.probes, 0.95) <= P95_GOAL)}"
                        f"; {HELD_GOAL} held: {verdict(figures.count >= HELD_GOAL)}"
                        if last
                        else ""
                    )
                ),
            ]
        )
    print(
        "2. Sessions held at once: PSS per session process (shared pages counted once), the "
        "template and the server; CPU of all of them while idle (100 % = one core); new "
        "openings while they are held, beside the anchor at the same time"
    )
    print()
    print_table(
        [
            "sessions",
            "PSS/session",
            "template",
            "server",
            "idle CPU",
            "open p50",
            "open p95",
            "anchor p50",
            "ratio",
            "opening them, 10 at a time: p95",
            "goals",
        ],
        rows,
    )


def sign_ins(
    server: Server, space: Scratch, db: Path, env: dict[str, str], usernames: list[str]
) -> list[SignIns]:
    return [
        sign_in_at_once(server, space, db, env, usernames, settled=True),
        sign_in_at_once(server, space, db, env, usernames, settled=False),
    ]


def report_sign_ins(results: list[SignIns], people: int) -> None:
    rows = []
    for result in results:
        ok = result.errors == 0 and result.audited == people
        when = (
            "at the sign-in screen, all settled"
            if result.settled
            else "the moment each screen is drawn"
        )
        rows.append(
            [
                f"{people} at once, {when}",
                ms(median(result.times)),
                ms(percentile(result.times, 0.95)),
                ms(max(result.times) if result.times else 0.0),
                str(result.errors),
                f"{result.audited}/{people}",
                f"zero errors, none lost: {verdict(ok)}",
            ]
        )
    print(
        "3. Signing in at the same moment (real argon2id: t=3, 64 MiB, p=4), until each sees "
        "the profile"
    )
    print()
    print_table(["sign-ins", "p50", "p95", "slowest", "errors", "in the audit trail", "goal"], rows)


if __name__ == "__main__":
    main()
