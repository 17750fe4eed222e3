"""A head start: a connection's portal process is started as soon as the connection is
made, while the SSH handshake goes on, instead of once the session is asked for.

The handshake (key exchange, authentication, the session and pty requests) takes about as
long as a session process needs to draw its first screen, so the two overlap. The process
starts on an 80×24 pseudo-terminal with the terminal type its address used last
(``xterm-256color`` at first). When the session comes, a different size is set on the
terminal (the portal redraws at it; anything drawn at the guessed size is dropped), and a
different terminal type means a fresh start. A connection that ends without a session
wastes its process: an address that wastes a few in a row gets no head start until one of
its connections uses one.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass

from tui_portal.serving.ssh.launcher import Launcher, SessionProcess
from tui_portal.serving.ssh.terminal import DEFAULT_SIZE, open_terminal

GUESSED_TERM = "xterm-256color"
WASTE_LIMIT = 3  # head starts wasted in a row before an address gets none
REMEMBERED_ADDRESSES = 10_000


@dataclass
class Prepared:
    """A session process started before its session: its terminal's master and the process."""

    master: int
    process: SessionProcess
    term: str
    size: tuple[int, int] = DEFAULT_SIZE

    def discard(self) -> None:
        """End the process and close its terminal."""
        self.process.signal(signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.master)


async def prepare(launcher: Launcher, term: str, source: str) -> Prepared:
    """Start a session process on a new terminal of the guessed size."""
    master, slave = open_terminal(*DEFAULT_SIZE)
    try:
        process = await launcher.launch(slave, term, source)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return Prepared(master, process, term)


class HeadStarts:
    """Which addresses get a head start, and with which terminal type."""

    def __init__(self) -> None:
        self._wasted: dict[str, int] = {}
        self._terms: dict[str, str] = {}

    def allowed(self, address: str) -> bool:
        """Whether a new connection from ``address`` gets its process at once."""
        return self._wasted.get(address, 0) < WASTE_LIMIT

    def term_for(self, address: str) -> str:
        """The terminal type to start with."""
        return self._terms.get(address, GUESSED_TERM)

    def used(self, address: str, term: str) -> None:
        """A session came; remember its terminal type."""
        self._wasted.pop(address, None)
        if len(self._terms) >= REMEMBERED_ADDRESSES:
            self._terms.clear()  # forget everyone rather than grow without bound
        self._terms[address] = term

    def wasted(self, address: str) -> None:
        """The connection ended without a session."""
        if len(self._wasted) >= REMEMBERED_ADDRESSES and address not in self._wasted:
            self._wasted.clear()
        self._wasted[address] = self._wasted.get(address, 0) + 1


def drop_output(master: int) -> None:
    """Discard what the process has drawn so far (at the guessed size)."""
    with contextlib.suppress(BlockingIOError, OSError):
        while os.read(master, 65536):
            pass
