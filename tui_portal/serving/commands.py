"""The ``tui-portal serve`` commands: one per way of reaching the portal."""

from __future__ import annotations

import click


@click.group()
def serve() -> None:
    """Serve the portal to people on other machines."""
