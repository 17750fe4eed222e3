"""How sessions and the server end: SIGTERM tells every session the portal is restarting
and the server exits 0; a killed session leaves the others and the server running; a
client that goes away leaves no process behind, not even a zombie."""

from __future__ import annotations

import os
import signal

import pytest

from tests.serving.conftest import Clients, Portal, PortalServer, wait_until
from tests.serving.processes import process_state
from tui_portal.launch import PORTAL_RESTARTING, RESTARTING_EXIT


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_tells_every_session_the_portal_is_restarting_and_exits_0(
    portal: Portal, clients: Clients, number: int
) -> None:
    served = portal.serve()
    people = [clients.connect(served), clients.connect(served, bind="127.0.0.2")]
    for person in people:
        person.wait_for("Username")
    sessions = served.sessions()
    assert len(sessions) == 2
    assert served.stop(number) == 0
    for person in people:
        assert person.exit_status() == RESTARTING_EXIT
        # Said on the restored terminal: after leaving the alternate screen.
        everything = person.everything()
        assert PORTAL_RESTARTING in everything
        assert everything.rindex("\x1b[?1049l") < everything.rindex(PORTAL_RESTARTING)
    assert all(process_state(pid) is None for pid in sessions)
    assert [e["event"] for e in served.log()][-2:] == ["disconnect", "disconnect"]


def test_a_session_that_does_not_end_when_told_is_ended_for_it(
    portal: Portal, clients: Clients
) -> None:
    served = portal.serve()
    person = clients.connect(served)
    person.wait_for("Username")
    (session,) = served.sessions()
    os.kill(session, signal.SIGSTOP)  # stuck: it cannot answer the stop signal
    try:
        assert served.stop() == 0
    finally:
        if process_state(session) is not None:
            os.kill(session, signal.SIGKILL)
    assert person.exit_status() == RESTARTING_EXIT
    everything = person.everything()
    assert everything.rindex("\x1b[?1049l\x1b[?25h") < everything.rindex(PORTAL_RESTARTING)


def test_a_killed_session_leaves_the_others_and_the_server_running(
    server: PortalServer, clients: Clients
) -> None:
    doomed = clients.connect(server)
    doomed.wait_for("Username")
    (victim,) = server.sessions()
    other = clients.connect(server, bind="127.0.0.2")
    other.wait_for("Username")
    os.kill(victim, signal.SIGKILL)
    assert doomed.exit_status() == 128 + signal.SIGKILL
    other.send("ada")
    other.wait_for("ada")
    fresh = clients.connect(server)
    fresh.wait_for("Username")
    assert server.process.poll() is None
    assert victim not in server.sessions()
    for terminal in (other, fresh):
        terminal.send("\x11")
        assert terminal.exit_status() == 0


def test_a_client_that_goes_away_leaves_no_process_behind(
    server: PortalServer, clients: Clients
) -> None:
    person = clients.connect(server)
    person.wait_for("Username")
    wait_until(lambda: len(server.sessions()) == 1, "the session process")
    (session,) = server.sessions()
    person.child.kill(signal.SIGKILL)  # the client vanishes: no goodbye
    wait_until(lambda: process_state(session) is None, "the session process to be reaped")
    wait_until(lambda: server.log()[-1]["event"] == "disconnect", "the disconnect event")
    assert server.log()[-1]["ended"] == "client"
    assert server.sessions() == []


def test_a_lost_template_leaves_the_sessions_running_and_a_new_one_is_started(
    portal: Portal, clients: Clients
) -> None:
    served = portal.serve()
    person = clients.connect(served)
    person.wait_for("Username")
    template = served.template
    os.kill(template, signal.SIGKILL)
    wait_until(lambda: process_state(template) is None, "the template to be reaped")
    person.send("ada")
    person.wait_for("ada")  # the session runs on
    newcomer = clients.connect(served, bind="127.0.0.2")
    # Typed while a new template starts (a second or two): kept until the portal reads them.
    newcomer.send("grace")
    newcomer.wait(lambda: "│  grace" in newcomer.text(), "the typed-ahead name in Username")
    assert served.template != template
    assert [e["event"] for e in served.log()].count("template_lost") == 1
    newcomer.send("\x11")
    assert newcomer.exit_status() == 0
    person.send("\x11")
    assert person.exit_status() in (0, 1)  # how it ended is no longer known to the server
