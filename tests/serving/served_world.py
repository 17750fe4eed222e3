"""The test world as the serving tests start a server over it: its database closed, the
environment the server gets, and stopping every server a test left running."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


class Started(Protocol):
    """A server process a test started."""

    process: subprocess.Popen[str]


def served_world(folder: Path, *, drop: tuple[str, ...]) -> tuple[World, dict[str, str]]:
    """The world's database in ``folder`` (closed: the server opens it), and the
    environment to start a server with: this one without the variables named by ``drop``'s
    prefixes, the world's secrets key, and folders of its own for data, config and
    temporary files."""
    world = build_world(f"sqlite:///{folder / 'portal.db'}", folder)
    world.portal.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        {
            "TUI_PORTAL_SECRET_KEY": world.key,
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
            "TMPDIR": str(folder / "tmp"),
            "PYTHONPATH": str(ROOT),
        }
    )
    (folder / "tmp").mkdir()
    return world, env


def stop_all(servers: Iterable[Started]) -> None:
    """Kill every server still running and close its output."""
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
        if server.process.stdout is not None:
            server.process.stdout.close()
