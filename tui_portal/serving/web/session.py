"""One tab's session: its own portal process, the relay between the browser and it, and
the words the tab is told when it ends.

The process is started the way textual-serve's :class:`AppService` starts an app, and
spoken to in its protocol, with three differences: it is the portal's own entry point run
without a shell, with the settings in its environment; its standard error is not copied
to the server's output; and the only message it may send that the server acts on is its
output (the portal opens no URLs and delivers no files). What the browser sends is checked
before it reaches the process. A tab's WebSocket is closed with a reason in words, which
the page shows: "Session ended" when the person quit, "Not signed in in time; …" after the
sign-in deadline, "The portal is restarting" when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from asyncio.subprocess import PIPE, Process
from dataclasses import dataclass
from enum import Enum

from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from tui_portal.app import NOT_SIGNED_IN_IN_TIME, SIGN_IN_DEADLINE_EXIT
from tui_portal.launch import PORTAL_RESTARTING
from tui_portal.serving.limits import TOO_MANY_SESSIONS
from tui_portal.serving.session_config import SessionConfig

CHILD_MODULE = "tui_portal.serving.web.child"
DRIVER = "tui_portal.serving.web.driver:PortalWebDriver"
QUIT_GRACE = 3.0  # seconds a process has to end by itself once asked to
KILLED_WAIT = 5.0
COLUMNS = (10, 500)  # the terminal sizes a tab may ask for
ROWS = (5, 200)


@dataclass(frozen=True)
class Ending:
    """How a tab's WebSocket is closed: the close code, and the words the page shows."""

    code: int
    words: str


QUIT = Ending(WSCloseCode.OK, "Session ended")
NOT_IN_TIME = Ending(WSCloseCode.OK, NOT_SIGNED_IN_IN_TIME)
BROKEN = Ending(WSCloseCode.INTERNAL_ERROR, "The portal session ended unexpectedly")
RESTARTING = Ending(WSCloseCode.SERVICE_RESTART, PORTAL_RESTARTING)
TOO_MANY = Ending(WSCloseCode.TRY_AGAIN_LATER, TOO_MANY_SESSIONS)


def ending_for(status: int | None) -> Ending:
    """What to tell the tab when its portal process ended with ``status``."""
    if status == 0:
        return QUIT
    if status == SIGN_IN_DEADLINE_EXIT:
        return NOT_IN_TIME
    return BROKEN


async def close_with(websocket: web.WebSocketResponse, ending: Ending) -> None:
    """Close ``websocket`` saying ``ending``'s words (a no-op once it is closed)."""
    with contextlib.suppress(ConnectionError, RuntimeError):
        await websocket.close(code=ending.code, message=ending.words.encode())


def terminal_size(width: object, height: object) -> tuple[int, int] | None:
    """A requested size within bounds, or None when it is not two whole numbers."""
    try:
        columns, rows = int(str(width)), int(str(height))
    except ValueError:
        return None
    return (
        min(max(columns, COLUMNS[0]), COLUMNS[1]),
        min(max(rows, ROWS[0]), ROWS[1]),
    )


class PortalProcess(AppService):
    """One tab's portal process, spoken to in textual-serve's protocol."""

    def __init__(
        self, websocket: web.WebSocketResponse, config: SessionConfig, source: str
    ) -> None:
        super().__init__(
            CHILD_MODULE,
            write_bytes=self._to_browser,
            write_str=self._text_to_browser,
            close=self._nothing,
            download_manager=DownloadManager(),
        )
        self._websocket = websocket
        self._config = config
        self._source = source
        self.output_ended = asyncio.Event()

    @property
    def process(self) -> Process:
        """The started process."""
        assert self._process is not None
        return self._process

    @property
    def running(self) -> bool:
        """Started and not known to have exited."""
        return self._process is not None and self._process.returncode is None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        env = self._config.environment(self._build_environment(width, height))
        env["TEXTUAL_DRIVER"] = DRIVER
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            CHILD_MODULE,
            self._source,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=env,
            start_new_session=True,  # a signal to the server's terminal does not reach it
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            self.output_ended.set()

    async def on_meta(self, data: bytes) -> None:
        """The process's own messages (it exits, or asks to open URLs or deliver files):
        its exit is seen when its output ends, and it has nothing else to ask."""

    async def _to_browser(self, data: bytes) -> None:
        if self._websocket.closed:
            return  # keep reading the process's output, so it never blocks writing it
        with contextlib.suppress(ConnectionError):
            await self._websocket.send_bytes(data)

    async def _text_to_browser(self, text: str) -> None:
        """Unused: :meth:`on_meta` forwards nothing."""

    async def _nothing(self) -> None:
        """Unused: the session closes the WebSocket itself, with its reason."""

    async def end(self) -> int | None:
        """Ask the process to quit, kill it if it lingers; its exit status."""
        if self._process is None:
            return None
        process = self._process
        if process.returncode is None:
            await self.send_meta({"type": "quit"})
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await asyncio.wait_for(process.wait(), KILLED_WAIT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.output_ended.wait(), KILLED_WAIT)
        return process.returncode


class Ended(Enum):
    """Who ended a session, for the connection log."""

    PORTAL = "portal"  # the person quit, or the portal ended the session
    BROWSER = "browser"  # the tab was closed or its connection was lost
    SERVER = "server"  # the server is stopping


@dataclass(frozen=True)
class Outcome:
    """How a session ended: by whom, after how long, and the process's exit status."""

    ended: Ended
    seconds: float
    exit_status: int | None


class WebSession:
    """Relays one tab's WebSocket to its portal process until one of them ends."""

    def __init__(
        self, websocket: web.WebSocketResponse, config: SessionConfig, source: str
    ) -> None:
        self.websocket = websocket
        self.process = PortalProcess(websocket, config, source)
        self._stop = asyncio.Event()

    def ask_to_end(self) -> None:
        """The server is stopping: tell the tab so and end the process."""
        self._stop.set()

    async def run(self, columns: int, rows: int) -> Outcome:
        """Start the process at ``columns``×``rows`` and relay until the session ends."""
        started = time.monotonic()
        await self.process.start(columns, rows)
        waits = {
            asyncio.ensure_future(self._from_browser()): Ended.BROWSER,
            asyncio.ensure_future(self.process.output_ended.wait()): Ended.PORTAL,
            asyncio.ensure_future(self._stop.wait()): Ended.SERVER,
        }
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            ended = next(waits[task] for task in waits if task in done)
            if ended is Ended.SERVER:  # tell the tab while its process ends
                _, status = await asyncio.gather(
                    close_with(self.websocket, RESTARTING), self.process.end()
                )
            else:
                status = await self.process.end()
            if ended is Ended.PORTAL:
                await close_with(self.websocket, ending_for(status))
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
            await close_with(self.websocket, BROKEN)  # only if nothing closed it yet
            if self.process.running:
                await self.process.end()
        return Outcome(ended, round(time.monotonic() - started, 3), status)

    async def _from_browser(self) -> None:
        """What the page sends: keys (``stdin``), resizes, focus, and pings to answer."""
        async for message in self.websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope or not self.process.running:
                continue
            await self._deliver(envelope)

    async def _deliver(self, envelope: list[object]) -> None:
        kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await self.process.send_bytes(data.encode("utf-8", "replace"))
        elif kind == "resize" and isinstance(data, dict):
            size = terminal_size(data.get("width"), data.get("height"))
            if size is not None:
                await self.process.set_terminal_size(*size)
        elif kind == "ping" and isinstance(data, str) and len(data) <= 32:
            with contextlib.suppress(ConnectionError):
                await self.websocket.send_json(["pong", data])
        elif kind == "focus":
            await self.process.focus()
        elif kind == "blur":
            await self.process.blur()
