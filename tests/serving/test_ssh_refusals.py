"""What the SSH server refuses, each in words on the client's terminal and with a non-zero
exit status: no terminal, commands, subsystems, port forwarding, agent and X11 forwarding,
connections past the caps; and a connection nobody signs in to is closed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.serving.conftest import Clients, Portal, PortalServer, need_program, wait_until
from tui_portal.app import NOT_SIGNED_IN_IN_TIME, SIGN_IN_DEADLINE_EXIT

NEEDS_TERMINAL = "This portal needs an interactive terminal: use ssh -t"
NO_COMMANDS = "This portal runs no commands"
NO_SUBSYSTEMS = "This portal offers no subsystems"
NO_FORWARDING = "This portal forwards no ports"
TOO_MANY = "Too many sessions; try again later"


def refusals(server: PortalServer) -> list[str]:
    return [str(e["reason"]) for e in server.log() if e["event"] == "refused"]


def test_a_session_without_a_terminal_is_refused(server: PortalServer, clients: Clients) -> None:
    client = clients.connect(server, options=("-T",))
    assert client.exit_status() == 1
    assert NEEDS_TERMINAL in client.everything()


def test_commands_are_refused_with_or_without_a_terminal(
    server: PortalServer, clients: Clients
) -> None:
    plain = clients.connect(server, "id", options=())
    assert plain.exit_status() == 1
    assert NO_COMMANDS in plain.everything()
    with_terminal = clients.connect(server, "sh", "-c", "id", options=("-tt",))
    assert with_terminal.exit_status() == 1
    assert NO_COMMANDS in with_terminal.everything()
    assert "uid=" not in plain.everything() + with_terminal.everything()


def test_subsystems_are_refused(server: PortalServer, clients: Clients) -> None:
    client = clients.connect(server, "sftp", options=("-s",))
    assert client.exit_status() == 1
    assert NO_SUBSYSTEMS in client.everything()


def test_port_forwarding_is_refused(server: PortalServer, clients: Clients) -> None:
    # -W asks the server to open a connection onwards, as -L does for each connection.
    direct = clients.connect(server, options=("-W", "127.0.0.1:9"))
    assert direct.exit_status() == 255
    assert "administratively prohibited" in direct.everything()
    assert NO_FORWARDING in direct.everything()
    remote = clients.connect(
        server,
        options=("-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9"),
    )
    assert remote.exit_status() == 255
    assert "remote port forwarding failed" in remote.everything()
    assert refusals(server).count("port forwarding") >= 2


def test_x11_forwarding_is_refused(server: PortalServer, clients: Clients) -> None:
    client = clients.connect(server, options=("-tt", "-X"), env={"DISPLAY": ":97"})
    client.wait_for("Username")
    assert "X11 forwarding request failed" in client.everything()
    client.send("\x11")
    assert client.exit_status() == 0


def test_agent_forwarding_is_refused(
    portal: Portal, server: PortalServer, clients: Clients
) -> None:
    # OpenSSH asks for agent forwarding without waiting for an answer, so the refusal has no
    # words; it shows in what the server does not make: the socket a forwarded agent needs.
    agent = need_program("ssh-agent", "openssh-client")
    socket_path = clients.home / "agent.sock"
    started = subprocess.run(
        [agent, "-a", str(socket_path)], capture_output=True, text=True, check=True
    )
    agent_pid = int(started.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        client = clients.connect(
            server, options=("-tt", "-A"), env={"SSH_AUTH_SOCK": str(socket_path)}
        )
        client.wait_for("Username")
        temporary = Path(portal.env["TMPDIR"])
        assert [p for p in temporary.iterdir() if p.name.startswith("asyncssh")] == []
        client.send("\x11")
        assert client.exit_status() == 0
    finally:
        os.kill(agent_pid, 15)


def test_past_the_cap_per_source_a_connection_is_refused(portal: Portal, clients: Clients) -> None:
    served = portal.serve("--max-per-source", "2", "--max-sessions", "10")
    first = clients.connect(served)
    second = clients.connect(served)
    first.wait_for("Username")
    second.wait_for("Username")
    third = clients.connect(served)
    assert third.exit_status() == 1
    assert TOO_MANY in third.everything()
    other_address = clients.connect(served, bind="127.0.0.2")
    other_address.wait_for("Username")
    first.send("\x11")
    assert first.exit_status() == 0
    wait_until(lambda: served.log()[-1]["event"] == "disconnect", "the place to be given back")
    again = clients.connect(served)
    again.wait_for("Username")
    assert refusals(served) == ["too many sessions"]


def test_past_the_cap_in_all_a_connection_is_refused(portal: Portal, clients: Clients) -> None:
    served = portal.serve("--max-sessions", "1")
    first = clients.connect(served)
    first.wait_for("Username")
    second = clients.connect(served, bind="127.0.0.2")
    assert second.exit_status() == 1
    assert TOO_MANY in second.everything()


def test_a_connection_not_signed_in_within_the_deadline_is_closed(
    portal: Portal, clients: Clients
) -> None:
    served = portal.serve(env={"TUI_PORTAL_SSH_SIGN_IN_SECONDS": "1.5"})
    client = clients.connect(served)
    client.wait_for("Username")
    assert client.exit_status(timeout=15) == SIGN_IN_DEADLINE_EXIT
    assert NOT_SIGNED_IN_IN_TIME in client.everything()
