"""The head start: a connection's portal process starts as soon as the connection is made;
the session still gets its own terminal type and size; wasted head starts stop."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.serving.conftest import Clients, PortalServer, wait_until
from tests.serving.processes import process_state


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_a_connection_gets_its_process_at_once_and_loses_it_when_it_closes_without_a_session(
    server: PortalServer,
) -> None:
    wait_until(lambda: server.sessions() == [], "no session processes")
    for _attempt in range(3):
        with socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.3", 0)):
            wait_until(lambda: len(server.sessions()) == 1, "a process for the new connection")
            (early,) = server.sessions()
        wait_until(lambda p=early: process_state(p) is None, "the unused process to end")
    # Three wasted in a row: this address gets no head start any more.
    with socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.3", 0)):
        try:
            wait_until(lambda: len(server.sessions()) > 0, "a process", timeout=1.0)
        except AssertionError:
            pass
        else:
            raise AssertionError("a fourth wasted connection got a process")


def test_the_session_runs_with_the_clients_terminal_type(
    server: PortalServer, clients: Clients
) -> None:
    terminal = clients.connect(server, env={"TERM": "xterm"}, bind="127.0.0.4")
    terminal.wait_for("Username")
    (session,) = server.sessions()
    assert environment_of(session)["TERM"] == "xterm"
    assert server.log()[-1]["term"] == "xterm"
    terminal.send("\x11")
    assert terminal.exit_status() == 0
