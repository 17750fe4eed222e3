"""What one tab's portal process runs: ``python -m tui_portal.serving.web.child SOURCE``.

The server starts it with textual-serve's pipes as its standard input and output and the
portal's settings in its environment (never the secrets key on the command line), and it
runs exactly one portal app on :mod:`tui_portal.serving.web.driver`. Its standard error is
dropped: Textual's crash reports show local variables, which can hold what a person typed,
and the server's own standard error carries the connection log alone.
"""

from __future__ import annotations

import os
import sys

from tui_portal.serving.session_config import SessionConfig

USAGE_EXIT = 64  # EX_USAGE


def silence_standard_error() -> None:
    """Point file descriptor 2 at ``/dev/null``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def main(argv: list[str]) -> int:
    """Run the portal for the person at ``argv[1]`` (``web:ADDRESS``); its exit status."""
    if len(argv) != 2 or not argv[1].startswith("web:"):
        return USAGE_EXIT
    silence_standard_error()
    config = SessionConfig.from_environment(os.environ)
    from tui_portal.launch import run_session

    return run_session(
        config.settings,
        demo=config.demo,
        source=argv[1],
        sign_in_deadline=config.sign_in_deadline,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
