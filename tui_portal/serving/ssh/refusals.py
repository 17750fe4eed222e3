"""The words a person is told when the portal refuses what their SSH client asked for.

Each is written to the client's terminal and the connection ends with a non-zero status;
the connection log records the reason's short name, never what was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_portal.serving.limits import TOO_MANY_SESSIONS

REFUSED_EXIT = 1


@dataclass(frozen=True)
class Refusal:
    """Something the portal does not offer: its short name for the log, and its words."""

    reason: str
    words: str


NEEDS_TERMINAL = Refusal("no terminal", "This portal needs an interactive terminal: use ssh -t")
NO_COMMANDS = Refusal("command", "This portal runs no commands: connect with ssh and no command")
NO_SUBSYSTEMS = Refusal(
    "subsystem", "This portal offers no subsystems (sftp, scp): connect with ssh"
)
BUSY = Refusal("too many sessions", TOO_MANY_SESSIONS)
ONE_SESSION = Refusal("second session on a connection", TOO_MANY_SESSIONS)
NO_PORT_FORWARDING = Refusal("port forwarding", "This portal forwards no ports")
