"""Serving tests: a real ``tui-portal serve ssh`` on a free loopback port, and the system's
OpenSSH client driven through a pseudo-terminal of known size, its screen read with pyte.

Every wait is for a condition with a deadline; nothing sleeps longer than it must.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pyte
import pytest

from tests.serving.processes import children_of
from tests.serving.served_world import served_world, stop_all
from tests.world import World

START_TIMEOUT = 60.0


def need_program(name: str, package: str) -> str:
    """The path of a program the tests need; the test fails, naming the package, without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is needed for the serving tests: install {package}")
    return path


def wait_until(condition: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class PortalServer:
    """A running ``tui-portal serve ssh``: its port, fingerprint, log and processes."""

    process: subprocess.Popen[bytes]
    port: int
    fingerprint: str
    known_hosts: Path
    log_path: Path
    env: dict[str, str]
    folder: Path
    global_options: list[str]

    def log(self) -> list[dict[str, object]]:
        """The connection log so far, one object per line."""
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def log_text(self) -> str:
        """Standard error as written."""
        return self.log_path.read_text()

    @property
    def template(self) -> int:
        """The template process's pid."""
        found = children_of(self.process.pid)
        assert len(found) == 1, f"expected one template process, found {found}"
        return found[0]

    def sessions(self) -> list[int]:
        """The pids of the session processes that exist (zombies included)."""
        return children_of(self.template)

    def stop(self, number: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the server and wait for it to exit; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(number)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the server did not exit after the signal") from None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another ``tui-portal`` command on the same database (``--db`` as served)."""
        return subprocess.run(
            [sys.executable, "-m", "tui_portal", *self.global_options, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@dataclass
class Portal:
    """The database the server serves, and how to start servers over it."""

    world: World
    folder: Path
    env: dict[str, str]
    servers: list[PortalServer] = field(default_factory=list)

    def serve(self, *options: str, env: dict[str, str] | None = None) -> PortalServer:
        """Start ``tui-portal serve ssh --listen 127.0.0.1:0 OPTIONS`` and wait until ready."""
        number = len(self.servers)
        key = self.folder / f"host-key-{number}"
        server = start_server(
            ["--db", self.world.settings.database_url],
            ["--listen", "127.0.0.1:0", "--host-key", str(key), *options],
            dict(self.env, **(env or {})),
            self.folder,
            key,
            name=str(number),
        )
        self.servers.append(server)
        return server


def start_server(
    before: list[str],
    options: list[str],
    env: dict[str, str],
    folder: Path,
    key: Path,
    name: str,
) -> PortalServer:
    """``tui-portal BEFORE serve ssh OPTIONS``, once it says where it listens."""
    log_path = folder / f"server-{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tui_portal", *before, "serve", "ssh", *options],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=folder,
        )
    lines = read_lines(process, 2, log_path)
    assert lines[0].startswith("listening on 127.0.0.1:"), lines
    assert lines[1].startswith("host key SHA256:"), lines
    port = int(lines[0].rsplit(":", 1)[1])
    known_hosts = folder / f"known_hosts-{name}"
    public = (key.parent / (key.name + ".pub")).read_text().split()
    known_hosts.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    return PortalServer(
        process=process,
        port=port,
        fingerprint=lines[1].removeprefix("host key "),
        known_hosts=known_hosts,
        log_path=log_path,
        env=env,
        folder=folder,
        global_options=before,
    )


def read_lines(process: subprocess.Popen[bytes], count: int, log_path: Path) -> list[str]:
    """The first ``count`` lines the server prints on standard output."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + START_TIMEOUT
    while seen.count(b"\n") < count:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            process.kill()
            raise AssertionError(f"the server did not start: {log_path.read_text()}")
        chunk = os.read(fd, 4096)
        if not chunk:
            process.wait()
            raise AssertionError(f"the server exited: {log_path.read_text()}")
        seen += chunk
    return seen.decode().splitlines()[:count]


class Terminal:
    """The OpenSSH client on a pseudo-terminal of known size, its screen kept by pyte."""

    def __init__(self, child: pexpect.spawn, columns: int, rows: int) -> None:
        self.child = child
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.ended = False

    def pump(self, timeout: float = 0.05) -> None:
        """Read whatever the client has printed into the screen."""
        if self.ended:
            return
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            self.ended = True
            return
        self.raw += data
        self.stream.feed(data)

    def text(self) -> str:
        """The screen as lines of text."""
        return "\n".join(self.screen.display)

    def everything(self) -> str:
        """All the client has printed, escape sequences stripped of nothing."""
        return self.raw.decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        """Wait until ``text`` is on the screen."""
        self.wait(lambda: text in self.text(), f"{text!r} on the screen", timeout)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        """Read the client until ``condition`` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.text()}")
            if self.ended:
                raise AssertionError(f"the client ended before {what}; screen:\n{self.text()}")
            self.pump()

    def send(self, text: str) -> None:
        """Type."""
        self.child.send(text)

    def resize(self, columns: int, rows: int) -> None:
        """Change the window size, as a person dragging the window does."""
        self.screen.resize(rows, columns)
        self.child.setwinsize(rows, columns)

    def exit_status(self, timeout: float = 20.0) -> int:
        """Wait for the client to exit; its exit status (128 + N when killed by signal N)."""
        self.wait(lambda: self.ended, "the client to exit", timeout)
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus)


@dataclass
class Clients:
    """Starts OpenSSH clients against a server and cleans them up."""

    ssh: str
    home: Path
    started: list[Terminal] = field(default_factory=list)

    def connect(
        self,
        server: PortalServer,
        *args: str,
        size: tuple[int, int] = (80, 24),
        options: tuple[str, ...] = ("-tt",),
        env: dict[str, str] | None = None,
        bind: str | None = None,
    ) -> Terminal:
        """``ssh OPTIONS -p PORT 127.0.0.1 ARGS`` with a throwaway known-hosts file."""
        argv = [
            *options,
            "-F",
            "/dev/null",
            "-p",
            str(server.port),
            "-o",
            f"UserKnownHostsFile={server.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
        ]
        if bind is not None:
            argv += ["-b", bind]
        argv += ["127.0.0.1", *args]
        columns, rows = size
        base = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
        client_env = {**base, "TERM": "xterm-256color", "HOME": str(self.home), **(env or {})}
        child = pexpect.spawn(self.ssh, argv, dimensions=(rows, columns), env=client_env)
        terminal = Terminal(child, columns, rows)
        self.started.append(terminal)
        return terminal

    def close(self) -> None:
        for terminal in self.started:
            if terminal.child.isalive():
                terminal.child.terminate(force=True)
            terminal.child.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The test world's database, served by the servers a test starts."""
    folder = tmp_path_factory.mktemp("serve-ssh")
    world, env = served_world(folder, drop=("TUI_PORTAL_", "SSH_"))
    served = Portal(world=world, folder=folder, env=env)
    yield served
    stop_all(served.servers)


@pytest.fixture(scope="module")
def server(portal: Portal) -> PortalServer:
    """One server with the default options, shared by a module's tests."""
    return portal.serve()


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[Clients]:
    """OpenSSH clients, ended after the test."""
    ssh = need_program("ssh", "openssh-client")
    home = tmp_path / "home"
    home.mkdir()
    started = Clients(ssh=ssh, home=home)
    yield started
    started.close()


# The browser door's fixtures and its report hook live in web_support, beside what they use.
from tests.serving.web_support import (  # noqa: E402, F401
    browser,
    playwright,
    pytest_runtest_makereport,
    web_portal,
    web_server,
)
