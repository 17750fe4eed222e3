"""Build the terminal app: the one factory that the command line, tests and benchmarks use."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

from tui_portal.app import PortalApp
from tui_portal.config import Settings, local_source
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
    source: str | None = None,
    sign_in_deadline: timedelta | None = None,
) -> PortalApp:
    """The portal app over ``settings``' database, or over an already opened ``portal``.

    The database is opened (and, for the demo, seeded) in a background thread after the
    first frame, so the sign-in screen appears at once. ``source`` says where the person is
    (``ssh:ADDRESS``, ``web:ADDRESS``; ``local:NAME`` by default); ``sign_in_deadline``
    ends a session that has not signed in within that time (served sessions use it).
    """

    def open_for_app() -> Portal:
        from tui_portal.services.portal import open_portal

        opened = portal or open_portal(settings, clock=clock, passwords=passwords)
        if demo:
            from tui_portal.demo import seed_demo

            seed_demo(opened, clock)
        return opened

    where = source or local_source()
    if not demo:  # the demo module is imported only for the demo: start-up waits for it
        return PortalApp(open_for_app, clock=clock, source=where, sign_in_deadline=sign_in_deadline)
    from tui_portal.demo import DEMO_ACCOUNTS

    return PortalApp(
        open_for_app,
        demo_accounts=DEMO_ACCOUNTS,
        clock=clock,
        source=where,
        sign_in_deadline=sign_in_deadline,
    )


def run_tui(settings: Settings, *, demo: bool = False) -> str | None:
    """Run the portal in this terminal until the person quits.

    Returns why the database could not be opened, if it could not, so the command line
    can say so once more after the screen is restored.
    """
    app = make_app(settings, demo=demo)
    app.run()
    return app.open_error


PORTAL_RESTARTING = "The portal is restarting"
RESTARTING_EXIT = 75  # EX_TEMPFAIL: the person may connect again in a moment
HUNG_UP_EXIT = 128 + signal.SIGHUP


@contextmanager
def _ending_on_signals(app: PortalApp) -> Iterator[None]:
    """While a served session runs: SIGTERM (the server is stopping) ends it saying
    "The portal is restarting" once the terminal is restored; SIGHUP (the person's
    connection is gone) ends it quietly. Either way the app closes the portal as it does
    when the person quits."""

    def end(code: int, message: str | None, _signum: int, _frame: FrameType | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the app is not running (yet, or any more)
            raise SystemExit(code) from None
        loop.call_soon_threadsafe(partial(app.exit, return_code=code, message=message))

    previous = {
        signal.SIGTERM: signal.signal(
            signal.SIGTERM, partial(end, RESTARTING_EXIT, PORTAL_RESTARTING)
        ),
        signal.SIGHUP: signal.signal(signal.SIGHUP, partial(end, HUNG_UP_EXIT, None)),
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_session(
    settings: Settings,
    *,
    demo: bool = False,
    source: str,
    sign_in_deadline: timedelta | None = None,
    before_run: Callable[[PortalApp], None] | None = None,
) -> int:
    """Run one served session (SSH or browser) on this process's terminal.

    ``before_run`` sees the app before it starts (a server that forks sessions from a
    warmed-up process hands it what that process has already parsed).

    Returns the exit status for the connection: 0 when the person quit, non-zero when the
    session ended otherwise (not signed in in time, the server restarting, the connection
    gone, or the portal could not open).
    """
    app = make_app(settings, demo=demo, source=source, sign_in_deadline=sign_in_deadline)
    if before_run is not None:
        before_run(app)
    with _ending_on_signals(app):
        app.run()
    if app.open_error is not None:
        return 1
    return app.return_code or 0
