"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, start, stop.

The server refuses to run as root, so when the tests run as root (as CI does) the cluster's
folder is given to the unprivileged ``nobody`` account and every server command runs as it.
The cluster trusts local connections, listens on 127.0.0.1 on a free port (and on a socket
in its own folder), and skips durability, which a throwaway cluster does not need.

Its default collation is ICU's ``en-US``, as on most company servers, so that anything that
depends on the database's locale rather than on the portal's own rules shows up here.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
UNPRIVILEGED_USER = "nobody"
START_TIMEOUT_SECONDS = 60
SUPERUSER = "postgres"
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "32MB",
}


def find_server_binaries() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: on PATH, else Debian's newest version."""
    on_path = [shutil.which(program) for program in SERVER_PROGRAMS]
    if all(on_path):
        folders = {Path(os.path.realpath(str(found))).parent for found in on_path}
        if len(folders) == 1:
            return folders.pop()

    def version(folder: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/([\d.]+)/bin$", folder)
        return tuple(int(part) for part in match.group(1).split(".")) if match else ()

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(folder) / program, os.X_OK) for program in SERVER_PROGRAMS):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ClusterError(RuntimeError):
    """The cluster could not be made or started; the message carries the server's own words."""


@dataclass
class Cluster:
    """One running throwaway cluster; :meth:`start` it, and always :meth:`stop` it."""

    binaries: Path
    folder: Path = field(init=False)
    port: int = 0
    run_as: str | None = None
    started_seconds: float = 0.0

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database of this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """The libpq connection string of one database of this cluster."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    # -- running the server's programs -----------------------------------------------

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.binaries / program), *args]
        if self.run_as is None:
            return command
        runuser = shutil.which("runuser")
        if runuser is not None:
            return [runuser, "-u", self.run_as, "--", *command]
        return ["su", self.run_as, "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]

    def _run(
        self, program: str, *args: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(
            self._command(program, *args),
            cwd=self.folder,  # the unprivileged account may not enter the current folder
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        began = time.monotonic()
        as_root = os.geteuid() == 0
        # /tmp, whatever TMPDIR says, when the server runs as another account: that account
        # must reach the folder, and the socket path must stay short.
        base = "/tmp" if as_root and os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="tui-portal-pg-", dir=base))
        if as_root:
            account = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.run_as = UNPRIVILEGED_USER
        self._initdb()
        self._start_server()
        self.started_seconds = time.monotonic() - began

    def _initdb(self) -> None:
        common = [
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        ]
        attempts: Sequence[list[str]] = (
            ["--locale=C", "--locale-provider=icu", "--icu-locale=en-US"],
            ["--locale=C"],  # a server built without ICU
        )
        failure = ""
        for locale in attempts:
            done = self._run("initdb", *common, *locale)
            if done.returncode == 0:
                return
            failure = (done.stderr or done.stdout).strip()
            shutil.rmtree(self.data, ignore_errors=True)
        raise ClusterError(f"initdb failed: {failure}")

    def _start_server(self) -> None:
        for _attempt in range(3):  # the free port can be taken before the server binds it
            self.port = free_port()
            settings = {**SERVER_SETTINGS, "port": str(self.port)}
            settings["unix_socket_directories"] = str(self.folder)
            options = " ".join(f"-c {name}={value}" for name, value in settings.items())
            done = self._run(
                "pg_ctl",
                "start",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                options,
                timeout=START_TIMEOUT_SECONDS + 10,
            )
            if done.returncode == 0:
                return
            if "already in use" not in self._log_tail():
                break
            self._stop_quietly()
        raise ClusterError(f"the server did not start: {done.stderr.strip()}\n{self._log_tail()}")

    def _stop_quietly(self) -> bool:
        done = self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", timeout=60)
        return done.returncode == 0

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the cluster's folder."""
        if not hasattr(self, "folder"):
            return
        try:
            if (self.data / "postmaster.pid").exists():
                stopped = False
                with contextlib.suppress(subprocess.TimeoutExpired):
                    stopped = self._stop_quietly()
                if not stopped:
                    self._kill_leftover_server()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill_leftover_server(self) -> None:
        """If pg_ctl could not stop the server, end it by its own process id (immediate
        shutdown), and only if that process is this cluster's server."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return
        if str(self.data).encode() not in command:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
