"""Starting session processes, seen from the server: through the template, or cold.

:class:`TemplateLauncher` asks the template process to fork a session (fast: everything is
already imported); :class:`ColdLauncher` starts a new Python for each session (slow, and
kept to measure what the template saves). Both hand back a :class:`SessionProcess`, whose
``exited`` future gives the exit status, or ``None`` when it can no longer be known.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Protocol

from tui_portal.serving.ssh import wire
from tui_portal.serving.ssh.connection_log import ConnectionLog
from tui_portal.serving.ssh.session_config import SessionConfig

TEMPLATE_START_TIMEOUT = 120.0  # a first start may create the schema and seed the demo


class LaunchError(Exception):
    """The sessions cannot be started; the message says why."""


class SessionProcess:
    """One session's process: its exit status to come, and a way to signal it."""

    def __init__(self, send_signal: Callable[[int], None]) -> None:
        self.exited: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._send_signal = send_signal

    @property
    def running(self) -> bool:
        """Not known to have ended."""
        return not self.exited.done()

    def signal(self, number: int) -> None:
        """Signal the process (and its session) while it runs."""
        if self.running:
            self._send_signal(number)

    def ended(self, status: int | None) -> None:
        """Record how it ended (``None``: unknown)."""
        if not self.exited.done():
            self.exited.set_result(status)


class Launcher(Protocol):
    """Starts session processes on a terminal."""

    async def start(self) -> None:
        """Get ready to start sessions."""

    async def launch(self, terminal_fd: int, term: str, source: str) -> SessionProcess:
        """A session on ``terminal_fd`` (the pty's slave end, still owned by the caller)."""
        ...

    async def stop(self) -> None:
        """End every session left and release what the launcher holds."""


class TemplateLauncher:
    """Sessions forked by a template process that has already loaded the portal."""

    def __init__(self, config: SessionConfig, log: ConnectionLog) -> None:
        self._config = config
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready: asyncio.Future[int] | None = None
        self._sessions: dict[int, SessionProcess] = {}
        self._numbers = 0
        self._reaping: set[asyncio.Task[int]] = set()
        self._restarting = asyncio.Lock()

    @property
    def template_pid(self) -> int | None:
        """The template's process id while it runs."""
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this Python, our module
                [sys.executable, "-m", "tui_portal.serving.ssh.template", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=self._config.environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._ready = loop.create_future()
        loop.add_reader(ours, self._readable)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), TEMPLATE_START_TIMEOUT)
        except TimeoutError:
            await self.stop()
            raise LaunchError("the session template did not start in time") from None
        except LaunchError:
            await self.stop()
            raise

    async def launch(self, terminal_fd: int, term: str, source: str) -> SessionProcess:
        if self._sock is None:  # the template was lost: start a new one (once)
            async with self._restarting:
                if self._sock is None:
                    await self.start()
        assert self._sock is not None
        self._numbers += 1
        number = self._numbers
        process = SessionProcess(lambda sig: self._send({"signal": number, "number": sig}))
        self._sessions[number] = process
        message = wire.encode({"start": number, "term": term, "source": source})
        try:
            socket.send_fds(self._sock, [message], [terminal_fd])
        except OSError:
            self._sessions.pop(number, None)
            process.ended(None)
        return process

    def _send(self, message: wire.Message) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.send(wire.encode(message))

    def _readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                message, fds = wire.receive(self._sock)
            except BlockingIOError:
                return
            except OSError:
                message, fds = None, []
            for fd in fds:
                os.close(fd)
            if message is None:
                self._lost()
                return
            self._handle(message)

    def _handle(self, message: wire.Message) -> None:
        ready = self._ready
        if "ready" in message and ready is not None and not ready.done():
            ready.set_result(int(message["ready"]))
        elif "failed" in message and ready is not None and not ready.done():
            ready.set_exception(LaunchError(str(message["failed"])))
        elif "exited" in message:
            process = self._sessions.pop(int(message["exited"]), None)
            if process is not None:
                process.ended(int(message["status"]))

    def _lost(self) -> None:
        """The template went away: its sessions run on, but how they end is unknown."""
        loop = asyncio.get_running_loop()
        if self._sock is not None:
            loop.remove_reader(self._sock)
            self._sock.close()
            self._sock = None
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(LaunchError("the session template exited while starting"))
        elif ready is not None and ready.exception() is None:  # it had been serving
            self._log.event("template_lost", sessions=len(self._sessions))
        for process in self._sessions.values():
            process.ended(None)
        self._sessions.clear()
        template, self._process = self._process, None
        if template is not None:  # reap it; the next session starts a new one
            reaping = loop.create_task(_wait_for_exit(template))
            self._reaping.add(reaping)
            reaping.add_done_callback(self._reaping.discard)

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._sock is not None:
            loop.remove_reader(self._sock)
            self._sock.close()  # the template ends its children and exits
            self._sock = None
        process, self._process = self._process, None
        if process is not None:
            await _wait_for_exit(process)
        for session in self._sessions.values():
            session.ended(None)
        self._sessions.clear()
        for reaping in list(self._reaping):
            await reaping


class ColdLauncher:
    """A new Python process for each session: what the template saves, measured."""

    def __init__(self, config: SessionConfig, log: ConnectionLog) -> None:
        self._env = config.environment()
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def launch(self, terminal_fd: int, term: str, source: str) -> SessionProcess:
        env = dict(self._env, TERM=term)
        child = subprocess.Popen(  # noqa: S603 - this Python, our module
            [sys.executable, "-m", "tui_portal.serving.ssh.child", source],
            stdin=terminal_fd,
            stdout=terminal_fd,
            stderr=terminal_fd,
            env=env,
            start_new_session=True,
        )

        def send(number: int) -> None:
            if child.returncode is None:  # not reaped, so the pid is still this child's
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, number)

        process = SessionProcess(send)
        task = asyncio.get_running_loop().create_task(_watch(child, process))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return process

    async def stop(self) -> None:
        for task in list(self._running):
            await task


async def _watch(child: subprocess.Popen[bytes], process: SessionProcess) -> None:
    code = await _wait_for_exit(child)
    process.ended(128 - code if code < 0 else code)


async def _wait_for_exit(child: subprocess.Popen[bytes]) -> int:
    """Wait for a child of this process without a thread: its pidfd becomes readable."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    pidfd = os.pidfd_open(child.pid)
    try:

        def readable() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_reader(pidfd, readable)
        try:
            await done
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)
    return child.wait()
