"""Build the terminal app: the one factory that the command line, tests and benchmarks use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_portal.app import PortalApp
from tui_portal.config import Settings
from tui_portal.services.clock import Clock, system_clock

if TYPE_CHECKING:
    from tui_portal.security.passwords import Passwords
    from tui_portal.services.portal import Portal


def make_app(
    settings: Settings,
    *,
    demo: bool = False,
    clock: Clock = system_clock,
    passwords: Passwords | None = None,
    portal: Portal | None = None,
) -> PortalApp:
    """The portal app over ``settings``' database, or over an already opened ``portal``.

    The database is opened (and, for the demo, seeded) in a background thread after the
    first frame, so the sign-in screen appears at once.
    """

    def open_for_app() -> Portal:
        from tui_portal.services.portal import open_portal

        opened = portal or open_portal(settings, clock=clock, passwords=passwords)
        if demo:
            from tui_portal.demo import seed_demo

            seed_demo(opened, clock)
        return opened

    if not demo:  # the demo module is imported only for the demo: start-up waits for it
        return PortalApp(open_for_app, clock=clock)
    from tui_portal.demo import DEMO_ACCOUNTS

    return PortalApp(open_for_app, demo_accounts=DEMO_ACCOUNTS, clock=clock)


def run_tui(settings: Settings, *, demo: bool = False) -> str | None:
    """Run the portal in this terminal until the person quits.

    Returns why the database could not be opened, if it could not, so the command line
    can say so once more after the screen is restored.
    """
    app = make_app(settings, demo=demo)
    app.run()
    return app.open_error
