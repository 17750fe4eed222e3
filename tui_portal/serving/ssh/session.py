"""One SSH session: refused in words, or relayed to its own portal process on its own pty.

The client's terminal type and size come from its pty request and its window changes
reach the portal as resizes. The session ends when the portal's process ends (its exit
status goes to the client: 0 when the person quit), when the client goes away (the process
is hung up, then killed if it lingers), or when the server stops (the process is asked to
say "The portal is restarting" and end; one that does not is ended for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from typing import TYPE_CHECKING

import asyncssh

from tui_portal.launch import PORTAL_RESTARTING, RESTARTING_EXIT
from tui_portal.serving.ssh.early import Prepared, drop_output
from tui_portal.serving.ssh.launcher import SessionProcess
from tui_portal.serving.ssh.refusals import (
    NEEDS_TERMINAL,
    NO_COMMANDS,
    NO_SUBSYSTEMS,
    ONE_SESSION,
    REFUSED_EXIT,
    Refusal,
)
from tui_portal.serving.ssh.terminal import DEFAULT_SIZE, TerminalRelay, open_terminal, set_size

if TYPE_CHECKING:
    from tui_portal.serving.ssh.server import PortalConnection

HANGUP_GRACE = 2.0  # seconds a hung-up session has to end before it is killed
EXIT_REPORT_WAIT = 2.0  # seconds to wait for an exit status once the terminal has closed
KILL_WAIT = 5.0
UNKNOWN_EXIT = 1
KEYS_BEFORE_START_LIMIT = 65536
# What a full-screen app leaves on: the alternate screen, a hidden cursor, mouse reporting,
# bracketed paste. Turned off before the server's own words when it ends a session itself.
RESTORE_TERMINAL = (
    b"\x1b[0m\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1049l\x1b[?25h"
)


class PortalSession(asyncssh.SSHServerSession[bytes]):
    """Relays one SSH session to one portal process, or refuses it with words."""

    def __init__(self, connection: PortalConnection) -> None:
        self._connection = connection
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._size = (0, 0)
        self._refusal: Refusal | None = None
        self._relay: TerminalRelay | None = None
        self._keys_before_start = bytearray()  # typed before the portal's terminal exists
        self._process: SessionProcess | None = None
        self._gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._forced = False
        self.task: asyncio.Task[None] | None = None

    # -- what the client asks for -----------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping[int, int]
    ) -> bool:
        self._term = term_type or "xterm"
        self._size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self._refusal = NO_COMMANDS  # accepted only to say so in words, then refused
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        self._refusal = NO_SUBSYSTEMS
        return True

    def session_started(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._relay is not None:
            self._relay.write(data)
        elif len(self._keys_before_start) < KEYS_BEFORE_START_LIMIT:
            self._keys_before_start += data

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = (width, height)
        if self._relay is not None:
            self._relay.resize(width, height)

    def eof_received(self) -> bool:
        return True  # the terminal stays; the session ends with the portal or the connection

    def pause_writing(self) -> None:
        if self._relay is not None:
            self._relay.pause_output()

    def resume_writing(self) -> None:
        if self._relay is not None:
            self._relay.resume_output()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._gone.done():
            self._gone.set_result(None)

    # -- the server stopping ------------------------------------------------------------

    def ask_to_end(self) -> None:
        """The server is stopping: the portal says "The portal is restarting" and ends."""
        if self._process is not None:
            self._process.signal(signal.SIGTERM)

    def end_now(self) -> None:
        """The portal did not end in time: restore the client's terminal, say why, end it."""
        self._forced = True
        self._write(RESTORE_TERMINAL + f"\r\n{PORTAL_RESTARTING}\r\n".encode())
        if self._process is not None:
            self._process.signal(signal.SIGKILL)
        if self._relay is not None:
            self._relay.close()

    # -- running --------------------------------------------------------------------------

    async def _run(self) -> None:
        refusal = self._refusal or (NEEDS_TERMINAL if self._term is None else None)
        refusal = refusal or self._connection.take_place(self)
        if refusal is not None:
            if refusal is not ONE_SESSION:
                self._connection.drop_head_start()
            self._refuse(refusal)
            return
        try:
            await self._serve()
        finally:
            self._connection.give_place(self)

    def _refuse(self, refusal: Refusal) -> None:
        self._connection.log_refusal(refusal)
        newline = "\r\n" if self._term is not None else "\n"
        assert self._chan is not None
        with contextlib.suppress(OSError):
            self._chan.write_stderr((refusal.words + newline).encode())
            self._chan.exit(REFUSED_EXIT)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        term = self._term or "xterm"
        columns, rows = self._size
        self._connection.log_event("connect", term=term, size=f"{columns}x{rows}")
        master, process = await self._terminal_and_process(term, columns, rows)
        relay = TerminalRelay(master, self._write, self._input_full)
        self._relay, self._process = relay, process
        relay.start()
        if self._keys_before_start:
            relay.write(bytes(self._keys_before_start))
            self._keys_before_start.clear()
        await asyncio.wait({relay.closed, self._gone}, return_when=asyncio.FIRST_COMPLETED)
        if relay.closed.done():
            ended = "restart" if self._forced else "portal"
            status = await _status_within(process, EXIT_REPORT_WAIT)
        else:
            ended = "client"
            relay.close()  # hangs the portal up
            status = await _status_within(process, HANGUP_GRACE)
            if status is None and process.running:
                process.signal(signal.SIGKILL)
                status = await _status_within(process, KILL_WAIT)
        if self._forced:
            status = RESTARTING_EXIT
        exit_status = UNKNOWN_EXIT if status is None else status
        self._connection.log_event(
            "disconnect",
            ended=ended,
            seconds=round(loop.time() - began, 3),
            exit_status=exit_status,
        )
        if self._chan is not None and not self._gone.done():
            with contextlib.suppress(OSError):
                self._chan.exit(exit_status)

    async def _terminal_and_process(
        self, term: str, columns: int, rows: int
    ) -> tuple[int, SessionProcess]:
        """The process started when the connection was made, if it fits; else a new one."""
        connection = self._connection
        early = connection.take_head_start()
        prepared: Prepared | None = None
        if early is not None:
            with contextlib.suppress(Exception):
                prepared = await early
        if prepared is not None and prepared.term == term and prepared.process.running:
            connection.hub.head_starts.used(connection.address, term)
            size = (columns, rows) if columns > 0 and rows > 0 else DEFAULT_SIZE
            if size != prepared.size:
                drop_output(prepared.master)  # drawn at the guessed size: redrawn at this one
                set_size(prepared.master, *size)
            return prepared.master, prepared.process
        if prepared is not None:  # another terminal type: start afresh
            prepared.discard()
            connection.hub.head_starts.used(connection.address, term)
        master, slave = open_terminal(columns, rows)
        try:
            process = await connection.hub.launcher.launch(slave, term, connection.source)
        finally:
            os.close(slave)
        return master, process

    def _write(self, data: bytes) -> None:
        if self._chan is not None and not self._gone.done():
            with contextlib.suppress(OSError):
                self._chan.write(data)

    def _input_full(self, full: bool) -> None:
        if self._chan is None:
            return
        if full:
            self._chan.pause_reading()
        else:
            self._chan.resume_reading()


async def _status_within(process: SessionProcess, seconds: float) -> int | None:
    """The process's exit status if it comes within ``seconds``, else ``None``."""
    try:
        return await asyncio.wait_for(asyncio.shield(process.exited), seconds)
    except TimeoutError:
        return None
