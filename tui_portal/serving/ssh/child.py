"""What a session process runs once it exists: take its terminal, then run the portal.

A session process is forked by the template, or started cold (``python -m
tui_portal.serving.ssh.child SOURCE``, with the terminal as its standard streams); either
way it leads a session of its own with the pseudo-terminal as its controlling terminal, so
closing the terminal's master hangs it up, and runs exactly one portal app.
"""

from __future__ import annotations

import fcntl
import os
import sys
import termios
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_portal.serving.ssh.session_config import SessionConfig

if TYPE_CHECKING:
    from tui_portal.app import PortalApp

CRASHED_EXIT = 70  # EX_SOFTWARE


def take_terminal(terminal_fd: int) -> None:
    """Lead a new session with ``terminal_fd`` as controlling terminal and standard streams."""
    if os.getsid(0) != os.getpid():
        os.setsid()
    fcntl.ioctl(terminal_fd, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        if terminal_fd != target:
            os.dup2(terminal_fd, target)
    if terminal_fd > 2:
        os.close(terminal_fd)


def run(
    config: SessionConfig,
    term: str,
    source: str,
    before_run: Callable[[PortalApp], None] | None = None,
) -> int:
    """Run one portal session for a person at ``source``; its exit status."""
    os.environ["TERM"] = term
    for variable in ("COLUMNS", "LINES"):  # the terminal's own size is the one to follow
        os.environ.pop(variable, None)
    from tui_portal.launch import run_session

    return run_session(
        config.settings,
        demo=config.demo,
        source=source,
        sign_in_deadline=config.sign_in_deadline,
        before_run=before_run,
    )


def main(argv: list[str]) -> int:
    """A cold-started session: the terminal is already standard input, output and error."""
    take_terminal(0)
    config = SessionConfig.from_environment(os.environ)
    return run(config, os.environ.get("TERM", "xterm"), argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
