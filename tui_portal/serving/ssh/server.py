"""The SSH server: anyone may connect (the portal's own sign-in is the authentication),
each connection within the session caps gets one portal session, everything else is
refused in words, and SIGTERM or SIGINT ends it all in order.

Admission is decided when the connection is made, so a connection holds its place (in all,
and from its address) until it closes; an admitted connection gets its portal process at
once (``early``). A connection that starts no session within the sign-in deadline is
closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
from collections.abc import Callable
from dataclasses import dataclass

import asyncssh

from tui_portal.launch import PORTAL_RESTARTING
from tui_portal.serving.limits import SessionLimits
from tui_portal.serving.ssh.connection_log import ConnectionLog, LogValue
from tui_portal.serving.ssh.early import HeadStarts, Prepared, prepare
from tui_portal.serving.ssh.host_key import fingerprint
from tui_portal.serving.ssh.launcher import Launcher
from tui_portal.serving.ssh.refusals import BUSY, NO_PORT_FORWARDING, ONE_SESSION, Refusal
from tui_portal.serving.ssh.session import PortalSession
from tui_portal.serving.ssh.session_config import SessionConfig

STOP_GRACE = 3.0  # seconds sessions have to end by themselves once told the portal restarts
FORCED_END_WAIT = 5.0
CLIENT_CLOSE_WAIT = 2.0
KEEPALIVE_SECONDS = 30  # a client silent for 3 of these is gone: its session is ended
RESTARTING = Refusal("restarting", PORTAL_RESTARTING)


class ListenError(Exception):
    """The server cannot listen where it was told to; the message says why."""


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen, with which key, how many sessions, and how sessions start."""

    host: str
    port: int
    host_key: asyncssh.SSHKey
    limits: SessionLimits
    config: SessionConfig


def display_address(host: str, port: int) -> str:
    """``HOST:PORT``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def client_address(peer: object) -> str:
    """The client's IP address from ``peername`` (an IPv4-mapped IPv6 one as IPv4)."""
    if not isinstance(peer, tuple) or not peer:
        return "unknown"
    host = str(peer[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


class PortalSSH:
    """Everything the server shares between connections: caps, log, sessions, launcher."""

    def __init__(self, options: ServeOptions, launcher: Launcher, log: ConnectionLog) -> None:
        self.options = options
        self.limits = options.limits
        self.launcher = launcher
        self.log = log
        self.connections: set[PortalConnection] = set()
        self.sessions: set[PortalSession] = set()
        self.head_starts = HeadStarts()
        self.stopping = False
        self._numbers = 0

    @property
    def idle_close_seconds(self) -> float:
        """How long a connection may stay without a session."""
        return self.options.config.sign_in_deadline.total_seconds()

    def next_number(self) -> int:
        """A number for a new connection, to tie its log events together."""
        self._numbers += 1
        return self._numbers

    def connection_factory(self) -> PortalConnection:
        """A handler for one new connection."""
        return PortalConnection(self)

    async def stop(self) -> None:
        """Tell every session the portal is restarting, give them a moment, end the rest."""
        self.stopping = True
        sessions = list(self.sessions)
        for session in sessions:
            session.ask_to_end()
        tasks = {s.task for s in sessions if s.task is not None}
        if tasks:
            _done, lingering = await asyncio.wait(tasks, timeout=STOP_GRACE)
            if lingering:
                for session in sessions:
                    if session.task in lingering:
                        session.end_now()
                await asyncio.wait(lingering, timeout=FORCED_END_WAIT)
        # A client closes its connection once its session's channel has closed; closing it
        # first would cut the exit status off. Those without a session are closed at once.
        served = [c for c in self.connections if c.had_session]
        for connection in self.connections - set(served):
            connection.close()
        if served:
            await asyncio.wait({c.closed for c in served}, timeout=CLIENT_CLOSE_WAIT)
        for connection in list(self.connections):
            connection.close()
        await self.launcher.stop()


class PortalConnection(asyncssh.SSHServer):
    """One client connection: its place within the caps, its session, its refusals."""

    def __init__(self, hub: PortalSSH) -> None:
        self.hub = hub
        self.address = "unknown"
        self.number = 0
        self._conn: asyncssh.SSHServerConnection | None = None
        self._admitted = False
        self._session: PortalSession | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._early: asyncio.Task[Prepared] | None = None
        self.had_session = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self.address = client_address(conn.get_extra_info("peername"))
        self.number = self.hub.next_number()
        self._admitted = not self.hub.stopping and self.hub.limits.admit(self.address)
        self.hub.connections.add(self)
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self.hub.idle_close_seconds, self._close_if_idle)
        if self._admitted and self.hub.head_starts.allowed(self.address):
            self._early = loop.create_task(
                prepare(
                    self.hub.launcher,
                    self.hub.head_starts.term_for(self.address),
                    self.source,
                )
            )

    @property
    def source(self) -> str:
        """Where the person is, as the audit trail records it."""
        return f"ssh:{self.address}"

    def take_head_start(self) -> asyncio.Task[Prepared] | None:
        """The process started when the connection was made, for its first session."""
        early, self._early = self._early, None
        return early

    def drop_head_start(self) -> None:
        """No session will use the process started early: end it."""
        early, self._early = self._early, None
        if early is None:
            return
        self.hub.head_starts.wasted(self.address)
        early.add_done_callback(_discard_prepared)

    def connection_lost(self, exc: Exception | None) -> None:
        self.drop_head_start()
        if self._idle is not None:
            self._idle.cancel()
        if self._admitted:
            self.hub.limits.release(self.address)
            self._admitted = False
        self.hub.connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()

    def _close_if_idle(self) -> None:
        if self._session is None:
            self.close()

    # -- authentication: none; the portal's sign-in is the authentication ---------------

    def begin_auth(self, username: str) -> bool:
        return False

    # -- sessions -------------------------------------------------------------------------

    def session_requested(self) -> PortalSession:
        return PortalSession(self)

    def take_place(self, session: PortalSession) -> Refusal | None:
        """Let ``session`` run, or say why not."""
        if self.hub.stopping:
            return RESTARTING
        if not self._admitted:
            return BUSY
        if self._session is not None:
            return ONE_SESSION
        self._session = session
        self.had_session = True
        self.hub.sessions.add(session)
        if self._idle is not None:
            self._idle.cancel()
        return None

    def give_place(self, session: PortalSession) -> None:
        """``session`` has ended."""
        self.hub.sessions.discard(session)
        if self._session is session:
            self._session = None
        # The client closes the connection once its session has ended; one that keeps it
        # open without a session is closed after the deadline, as at the start.
        self._idle = asyncio.get_running_loop().call_later(
            self.hub.idle_close_seconds, self._close_if_idle
        )

    # -- forwarding: refused ----------------------------------------------------------------

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self.log_refusal(NO_PORT_FORWARDING)
        raise asyncssh.ChannelOpenError(
            asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_PORT_FORWARDING.words
        )

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self.log_refusal(NO_PORT_FORWARDING)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.log_refusal(NO_PORT_FORWARDING)
        raise asyncssh.ChannelOpenError(
            asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_PORT_FORWARDING.words
        )

    def unix_server_requested(self, listen_path: str) -> bool:
        self.log_refusal(NO_PORT_FORWARDING)
        return False

    # -- the log --------------------------------------------------------------------------

    def log_event(self, event: str, **fields: LogValue) -> None:
        """One event of this connection."""
        self.hub.log.event(event, connection=self.number, address=self.address, **fields)

    def log_refusal(self, refusal: Refusal) -> None:
        """Something this connection asked for was refused."""
        self.log_event("refused", reason=refusal.reason)


def _discard_prepared(early: asyncio.Task[Prepared]) -> None:
    if not early.cancelled() and early.exception() is None:
        early.result().discard()


async def serve(
    options: ServeOptions,
    launcher: Launcher,
    log: ConnectionLog,
    say: Callable[[str], None],
) -> None:
    """Serve until SIGTERM or SIGINT, then end every session and return."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    hub = PortalSSH(options, launcher, log)
    await launcher.start()
    try:
        acceptor = await asyncssh.listen(
            options.host,
            options.port,
            server_factory=hub.connection_factory,
            server_host_keys=[options.host_key],
            encoding=None,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            keepalive_interval=KEEPALIVE_SECONDS,
            keepalive_count_max=3,
        )
    except OSError as error:
        await launcher.stop()
        where = display_address(options.host, options.port)
        raise ListenError(f"cannot listen on {where}: {error.strerror or error}") from None
    say(f"listening on {display_address(options.host, acceptor.get_port())}")
    say(f"host key {fingerprint(options.host_key)}")
    await stop.wait()
    log.event("stopping", sessions=len(hub.sessions))
    acceptor.close()
    await hub.stop()
    with contextlib.suppress(Exception):
        await acceptor.wait_closed()


def quiet_asyncssh() -> None:
    """asyncssh logs through ``logging``; standard error carries the connection log only."""
    import logging

    logger = logging.getLogger("asyncssh")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False


def serve_forever(
    options: ServeOptions,
    launcher_factory: Callable[[SessionConfig, ConnectionLog], Launcher],
    say: Callable[[str], None],
    log: ConnectionLog | None = None,
) -> None:
    """Run :func:`serve` on a new event loop."""
    quiet_asyncssh()
    connection_log = log or ConnectionLog()
    launcher = launcher_factory(options.config, connection_log)
    asyncio.run(serve(options, launcher, connection_log, say))
