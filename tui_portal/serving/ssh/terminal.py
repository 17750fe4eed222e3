"""The server's end of one session's pseudo-terminal: output to the client, keys in,
window size, hang-up.

Output is read from the master as it comes and handed on; it stops being read while the
client's side is full (``pause_output``), so a slow client slows its own session only. Keys
that the session is not reading yet wait here, and the client is paused meanwhile.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
from collections.abc import Callable

READ_SIZE = 65536
DEFAULT_SIZE = (80, 24)


def open_terminal(columns: int, rows: int) -> tuple[int, int]:
    """A new pseudo-terminal of that size (80×24 when the client says 0): master, slave."""
    master, slave = os.openpty()
    set_size(master, columns, rows)
    os.set_blocking(master, False)
    return master, slave


def set_size(fd: int, columns: int, rows: int) -> None:
    """Tell the terminal its size; the session's process group gets SIGWINCH."""
    if columns <= 0 or rows <= 0:
        columns, rows = DEFAULT_SIZE
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class TerminalRelay:
    """Moves bytes between a pty master and the client; tells when the terminal closes."""

    def __init__(
        self,
        master: int,
        on_output: Callable[[bytes], None],
        on_input_full: Callable[[bool], None],
    ) -> None:
        self._master = master
        self._on_output = on_output
        self._on_input_full = on_input_full
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()
        self._reading = False
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def start(self) -> None:
        """Begin relaying output."""
        self.resume_output()

    def pause_output(self) -> None:
        """Stop reading output until :meth:`resume_output` (the client is full)."""
        if self._reading:
            self._loop.remove_reader(self._master)
            self._reading = False

    def resume_output(self) -> None:
        """Read output again."""
        if not self._reading and not self.closed.done():
            self._loop.add_reader(self._master, self._readable)
            self._reading = True

    def _readable(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every process holding the terminal has closed it
            data = b""
        if data:
            self._on_output(data)
        else:
            self.close()

    def write(self, data: bytes) -> None:
        """Keys from the client, in order."""
        if self.closed.done():
            return
        if self._pending:
            self._pending += data
            return
        written = self._write_some(data)
        if written < len(data):
            self._pending += data[written:]
            self._loop.add_writer(self._master, self._writable)
            self._on_input_full(True)

    def _write_some(self, data: bytes) -> int:
        try:
            return os.write(self._master, data)
        except BlockingIOError:
            return 0
        except OSError:
            self.close()
            return len(data)

    def _writable(self) -> None:
        written = self._write_some(bytes(self._pending))
        del self._pending[:written]
        if not self._pending and not self.closed.done():
            self._loop.remove_writer(self._master)
            self._on_input_full(False)

    def resize(self, columns: int, rows: int) -> None:
        """The client's window changed."""
        if not self.closed.done():
            set_size(self._master, columns, rows)

    def close(self) -> None:
        """Close the master: whatever still holds the terminal is hung up."""
        if self.closed.done():
            return
        self.pause_output()
        if self._pending:
            self._loop.remove_writer(self._master)
            self._pending.clear()
        os.close(self._master)
        self.closed.set_result(None)
