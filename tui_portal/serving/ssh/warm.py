"""Warming the template up: the sign-in screen drawn once, headless, before any session.

What Textual and Rich build on a first drawing and keep at module level (parsed
selectors, measured text, modules imported on first use) is then already built in every
session forked from the template. The stylesheet is the app's own, so each session is
handed the warm-up's parsed rules through :meth:`WarmStyles.adopt` (the parse caches of
Textual's ``Stylesheet``, a pinned version; a session whose theme differs parses its own).
Nothing of the warm-up run stays behind: no event loop, no thread, no database connection.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Never

if TYPE_CHECKING:
    from textual.app import App
    from textual.css.stylesheet import Stylesheet

    from tui_portal.serving.ssh.session_config import SessionConfig

_CACHES = ("_parse_cache", "_style_parse_cache")


class WarmStyles:
    """The stylesheet the warm-up parsed, for sessions to start from."""

    def __init__(self, stylesheet: Stylesheet | None) -> None:
        self._stylesheet = stylesheet

    def adopt(self, app: App[None]) -> None:
        """Give ``app`` the parsed rules, when its CSS variables (its theme) are the same."""
        warm = self._stylesheet
        mine = app.stylesheet
        if warm is None or getattr(warm, "_variables", None) != getattr(mine, "_variables", ()):
            return
        for name in _CACHES:
            if hasattr(warm, name) and hasattr(mine, name):
                setattr(mine, name, getattr(warm, name))


def warm_up(config: SessionConfig) -> WarmStyles:
    """Draw the sign-in screen once, headless, with no database behind it."""
    from textual.pilot import Pilot

    from tui_portal.app import PortalApp
    from tui_portal.errors import PortalError

    def no_database() -> Never:
        raise PortalError("warming up")

    accounts: tuple[tuple[str, str, str], ...] = ()
    if config.demo:
        from tui_portal.demo import DEMO_ACCOUNTS

        accounts = DEMO_ACCOUNTS

    async def draw_once(pilot: Pilot[object]) -> None:
        await pilot.pause()
        pilot.app.exit()

    app = PortalApp(no_database, demo_accounts=accounts, source="local:warm-up")
    app.run(headless=True, size=(80, 24), auto_pilot=draw_once)
    for thread in threading.enumerate():  # the app's database thread ends at once
        if thread is not threading.current_thread():
            thread.join(timeout=5)
    return WarmStyles(app.stylesheet)
