"""What one run of the ``tui-portal`` command line knows, shared by every command.

The top-level command resolves the settings and says whether this is the demo; each
subcommand (those of ``cli`` and the ``serve`` commands of ``serving``) opens the portal
through the run's factory, which tests replace to use cheap password hashing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_portal.config import Settings

if TYPE_CHECKING:
    from tui_portal.services.portal import Portal

PortalFactory = Callable[[Settings], "Portal"]


def default_portal_factory(settings: Settings) -> Portal:
    """Open the portal over ``settings`` with the real argon2id parameters."""
    from tui_portal.services.portal import open_portal

    return open_portal(settings)


@dataclass
class Run:
    """What one run of the command line knows: how to open the portal, and the settings."""

    portal_factory: PortalFactory
    settings: Settings | None = None
    demo: bool = False

    @property
    def ready_settings(self) -> Settings:
        """The settings, resolved by the top-level command."""
        assert self.settings is not None
        return self.settings
