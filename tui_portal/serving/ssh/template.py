"""The template process: loads the whole portal once, then forks one session per request.

The server starts it with one end of a socket pair. It imports everything a session uses
(Textual, the app and its screens, SQLAlchemy, argon2, …), opens the database once to
create or upgrade the schema and, for the demo, seed it, and closes it again, so no
connection crosses a fork; it draws the sign-in screen once, headless (``warm``); then it
says ``ready`` and waits. For each ``start`` it forks,
while it has a single thread, a child that takes the terminal it was sent and runs one
portal session; each child opens its own database engine. The template reaps its children
and reports each one's exit status. When the server goes away it ends any children left
and exits.

    python -m tui_portal.serving.ssh.template FD
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import pkgutil
import select
import signal
import socket
import sys
import threading
import traceback
from types import FrameType

from tui_portal.serving.ssh import wire
from tui_portal.serving.ssh.child import CRASHED_EXIT, run, take_terminal
from tui_portal.serving.ssh.session_config import SessionConfig
from tui_portal.serving.ssh.warm import WarmStyles, warm_up

# Loaded only once the app runs, so imported here for every session to share.
TEXTUAL_AT_RUN_TIME = (
    "textual._xterm_parser",
    "textual.drivers.linux_driver",
    "textual.drivers._writer_thread",
    "textual._compositor",
    "textual.widgets._toast",
    "textual.widgets._tooltip",
    "textual.command",
)


def preload() -> None:
    """Import every module of the portal, and what Textual imports when an app starts."""
    import tui_portal

    for module in pkgutil.walk_packages(tui_portal.__path__, "tui_portal."):
        if module.name.startswith(("tui_portal.serving", "tui_portal.data.migrations")):
            continue
        if module.name == "tui_portal.__main__":
            continue
        importlib.import_module(module.name)
    for name in TEXTUAL_AT_RUN_TIME:
        # A Textual release that moved one: sessions import it themselves.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def prepare_database(config: SessionConfig) -> None:
    """Create or upgrade the schema, check the key, seed the demo; leave nothing open."""
    from tui_portal.services.portal import open_portal

    portal = open_portal(config.settings)
    try:
        if config.demo:
            from tui_portal.demo import seed_demo
            from tui_portal.services.clock import system_clock

            seed_demo(portal, system_clock)
    finally:
        portal.close()


def signal_group(pid: int, number: int) -> None:
    """Signal a session process and everything in its session (its group, once it leads)."""
    try:
        os.killpg(pid, number)
    except ProcessLookupError:  # it has not called setsid yet, or has just ended
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)


class Template:
    """Forks sessions on request and reports how they end."""

    def __init__(self, sock: socket.socket, config: SessionConfig, styles: WarmStyles) -> None:
        self._sock = sock
        self._config = config
        self._styles = styles
        self._children: dict[int, int] = {}  # pid -> session number
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def serve(self) -> None:
        """Answer the server until it goes away."""
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGCHLD, self._child_ended)
        while True:
            ready, _, _ = select.select([self._sock.fileno(), self._wake_read], [], [])
            if self._wake_read in ready:
                self._drain_wakeups()
                self._reap()
            if self._sock.fileno() in ready:
                message, fds = wire.receive(self._sock)
                if message is None:
                    break
                self._handle(message, fds)
        self._end_children()

    @staticmethod
    def _child_ended(_signum: int, _frame: FrameType | None) -> None:
        """Only wakes the loop (through the wakeup descriptor)."""

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self._wake_read, 512):
                pass
        except BlockingIOError:
            pass

    def _handle(self, message: wire.Message, fds: list[int]) -> None:
        if "start" in message and len(fds) == 1:
            number = int(message["start"])
            try:
                pid = self._fork(str(message["term"]), str(message["source"]), fds[0])
            except OSError:
                self._send({"exited": number, "status": CRASHED_EXIT})
                return
            finally:
                os.close(fds[0])
            self._children[pid] = number
            self._send({"started": number, "pid": pid})
            return
        for fd in fds:  # nothing else carries a descriptor
            os.close(fd)
        if "signal" in message:
            number = int(message["signal"])
            for pid, session in self._children.items():
                if session == number:  # not reaped yet, so the pid is still this child's
                    signal_group(pid, int(message["number"]))

    def _fork(self, term: str, source: str, terminal_fd: int) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        if threading.active_count() != 1:
            raise RuntimeError("the template must fork with one thread only")
        pid = os.fork()
        if pid:
            return pid
        code = CRASHED_EXIT
        try:
            signal.set_wakeup_fd(-1)
            for number in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
                signal.signal(number, signal.SIG_DFL)
            self._sock.close()
            os.close(self._wake_read)
            os.close(self._wake_write)
            take_terminal(terminal_fd)
            code = run(self._config, term, source, before_run=self._styles.adopt)
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else CRASHED_EXIT
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        return 0  # pragma: no cover - the child never gets here

    def _reap(self) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            number = self._children.pop(pid, None)
            if number is not None:
                self._send({"exited": number, "status": wire.exit_status(status)})

    def _send(self, message: wire.Message) -> None:
        with contextlib.suppress(OSError):  # the server is gone: the loop ends at end of stream
            self._sock.send(wire.encode(message))

    def _end_children(self) -> None:
        for pid in list(self._children):
            signal_group(pid, signal.SIGKILL)
        for pid in list(self._children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._children.clear()


def main(argv: list[str]) -> int:
    """Load, prepare the database, say ready (or why not), then serve."""
    sock = socket.socket(fileno=int(argv[1]))
    # The server decides when sessions end: a terminal's ^C or a service manager's SIGTERM
    # to the whole group must not take the template away from under them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        config = SessionConfig.from_environment(os.environ)
        preload()
        prepare_database(config)
        styles = warm_up(config)
    except Exception as error:
        from tui_portal.errors import message_for

        sock.send(wire.encode({"failed": message_for(error)}))
        return 1
    gc.collect()
    gc.freeze()  # what every child shares stays out of the collector's (and copy-on-write's) way
    sock.send(wire.encode({"ready": os.getpid()}))
    Template(sock, config, styles).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
