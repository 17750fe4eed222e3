"""The browser door's server: the page, the WebSocket of each tab, and an orderly stop.

A WebSocket is refused (403) unless its ``Origin`` is the public URL's, before anything
starts. An accepted one gets a place within the session caps (in all, and from its
address), or is closed at once saying "Too many sessions; try again later"; with a place it
gets its own portal process until the person quits, the tab goes, or the server stops. On
SIGTERM or SIGINT the server stops accepting, tells every tab "The portal is restarting",
ends every process (killing those that linger) and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from tui_portal.serving.limits import SessionLimits
from tui_portal.serving.session_config import SessionConfig
from tui_portal.serving.ssh.connection_log import ConnectionLog, LogValue
from tui_portal.serving.web.client_address import ClientAddress, ForwardedError, client_address
from tui_portal.serving.web.guard import add_security_headers, origin_allowed
from tui_portal.serving.web.page import Page
from tui_portal.serving.web.public_url import WEBSOCKET_PATH, PublicUrl
from tui_portal.serving.web.session import (
    BROKEN,
    RESTARTING,
    TOO_MANY,
    WebSession,
    close_with,
    terminal_size,
)

HEARTBEAT_SECONDS = 30.0  # a browser that answers no ping within this is gone
MAX_MESSAGE_BYTES = 256 * 1024
CLOSE_WAIT = 2.0  # seconds a closing WebSocket waits for the browser's answer
STOP_WAIT = 10.0  # sessions end within QUIT_GRACE; killed ones within KILLED_WAIT more
CLOSE_CONNECTIONS_WAIT = 2.0


class ListenError(Exception):
    """The server cannot listen where it was told to; the message says why."""


@dataclass(frozen=True)
class WebOptions:
    """Where to listen, the address people open, whom to trust, caps, and the sessions."""

    host: str
    port: int
    public: PublicUrl
    trust_proxy: bool
    limits: SessionLimits
    config: SessionConfig


def display_address(host: str, port: int) -> str:
    """``http://HOST:PORT``, an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one); :class:`ListenError`."""
    where = display_address(host, port).removeprefix("http://")
    try:
        found = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {where}: {error.strerror}") from None
    family, kind, proto, _name, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on {where}: {error.strerror or error}") from None
    sock.setblocking(False)
    return sock


class PortalWeb:
    """Everything the server shares between tabs: caps, log, sessions, and the page."""

    def __init__(self, options: WebOptions, log: ConnectionLog) -> None:
        self.options = options
        self.limits = options.limits
        self.log = log
        self.sessions: set[WebSession] = set()
        self.handlers: set[asyncio.Task[object]] = set()
        self.stopping = False
        self._numbers = 0

    def application(self) -> web.Application:
        """The aiohttp application: the page, its assets, the WebSocket, the headers."""
        app = web.Application(client_max_size=64 * 1024)
        page = Page(self.options.public, self.options.config.settings.issuer)
        app.add_routes([*page.routes(), web.get(WEBSOCKET_PATH, self.websocket)])
        add_security_headers(app, self.options.public)
        return app

    def _event(self, event: str, number: int, address: str, **fields: LogValue) -> None:
        self.log.event(event, connection=number, address=address, **fields)

    def _where(self, request: web.Request) -> str:
        """The address to log for a refused request: the trusted one, when there is one."""
        try:
            return client_address(request, self.options.trust_proxy).address
        except ForwardedError:
            return "unknown"

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """``GET /ws``: one tab's session, or its refusal."""
        self._numbers += 1
        number = self._numbers
        if not origin_allowed(request, self.options.public):
            reason = "other origin" if "Origin" in request.headers else "no origin"
            self._event("refused", number, self._where(request), reason=reason)
            raise web.HTTPForbidden(text="This page may not open a portal session.\n")
        try:
            where = client_address(request, self.options.trust_proxy)
        except ForwardedError:
            self._event("refused", number, "unknown", reason="bad forwarded address")
            raise web.HTTPBadRequest(text="X-Forwarded-For names no address.\n") from None
        websocket = web.WebSocketResponse(
            timeout=CLOSE_WAIT, heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_MESSAGE_BYTES
        )
        await websocket.prepare(request)
        if self.stopping:
            self._event("refused", number, where.address, reason="restarting")
            await close_with(websocket, RESTARTING)
        elif not self.limits.admit(where.address):
            self._event("refused", number, where.address, reason="too many sessions")
            await close_with(websocket, TOO_MANY)
        else:
            try:
                await self._tab(request, websocket, number, where)
            finally:
                self.limits.release(where.address)
        return websocket

    async def _tab(
        self,
        request: web.Request,
        websocket: web.WebSocketResponse,
        number: int,
        where: ClientAddress,
    ) -> None:
        """Run one admitted tab's session to its end, and log it."""
        task = asyncio.current_task()
        assert task is not None
        session = WebSession(websocket, self.options.config, f"web:{where.address}")
        size = terminal_size(request.query.get("width", 80), request.query.get("height", 24))
        columns, rows = size or (80, 24)
        extra: dict[str, LogValue] = {"forwarded_ignored": True} if where.ignored_forwarded else {}
        self._event("connect", number, where.address, size=f"{columns}x{rows}", **extra)
        self.handlers.add(task)
        self.sessions.add(session)
        try:
            outcome = await session.run(columns, rows)
        except Exception as error:  # the tab is told; the log names what went wrong
            self._event(
                "disconnect", number, where.address, ended="error", error=type(error).__name__
            )
            await close_with(websocket, BROKEN)
            return
        finally:
            self.sessions.discard(session)
            self.handlers.discard(task)
        self._event(
            "disconnect",
            number,
            where.address,
            ended=outcome.ended.value,
            seconds=outcome.seconds,
            exit_status=outcome.exit_status,
        )

    async def stop(self) -> None:
        """Tell every tab the portal is restarting and wait until its session has ended."""
        self.stopping = True
        for session in list(self.sessions):
            session.ask_to_end()
        if self.handlers:
            await asyncio.wait(set(self.handlers), timeout=STOP_WAIT)


def quiet_libraries() -> None:
    """aiohttp and textual-serve log through ``logging``; standard error carries the
    connection log only."""
    for name in ("aiohttp", "textual-serve"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


async def serve(
    options: WebOptions, sock: socket.socket, log: ConnectionLog, say: Callable[[str], None]
) -> None:
    """Serve on ``sock`` until SIGTERM or SIGINT, then end every session and return."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    hub = PortalWeb(options, log)
    runner = web.AppRunner(
        hub.application(),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=CLOSE_CONNECTIONS_WAIT,
    )
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    say(f"listening on {display_address(options.host, options.port)}")
    await stop.wait()
    log.event("stopping", sessions=len(hub.sessions))
    hub.stopping = True  # a request on a connection already open is refused from now on
    await site.stop()
    await hub.stop()
    with contextlib.suppress(Exception):
        await runner.cleanup()


def serve_forever(
    options: WebOptions,
    sock: socket.socket,
    say: Callable[[str], None],
    log: ConnectionLog | None = None,
) -> None:
    """Run :func:`serve` on a new event loop."""
    quiet_libraries()
    asyncio.run(serve(options, sock, log or ConnectionLog(), say))
