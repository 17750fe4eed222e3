"""The page a browser opens, its own assets, and the assets textual-serve ships.

textual-serve's own page links a web font from an outside host and carries inline script,
inline styles and inline event handlers. This page is the same page without them: the
styles and the script are files served from the portal itself (``/portal/…``), the font is
the Roboto Mono that textual-serve ships (``/static/fonts/…``), so a strict
Content-Security-Policy holds and the page asks nothing of any other host. The page also
shows the reason a session ended, in words.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from string import Template

from aiohttp import web

from tui_portal.serving.web.public_url import PublicUrl

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
TEMPLATE = HERE / "templates" / "portal.html"
FONT_SIZES = (8, 48)
DEFAULT_FONT_SIZE = 16


def textual_serve_static() -> Path:
    """The folder of assets textual-serve ships: its script, xterm's CSS, fonts, images."""
    return Path(str(files("textual_serve") / "static"))


def font_size(value: str | None) -> int:
    """The ``fontsize`` a page asked for, within bounds; the default when it is no number."""
    try:
        size = int(value or DEFAULT_FONT_SIZE)
    except ValueError:
        return DEFAULT_FONT_SIZE
    return min(max(size, FONT_SIZES[0]), FONT_SIZES[1])


async def no_icon(_request: web.Request) -> web.Response:
    """``GET /favicon.ico``: the portal has none (answered, so no error is logged)."""
    return web.Response(status=204)


class Page:
    """Renders the page for a public URL and a title."""

    def __init__(self, public: PublicUrl, title: str) -> None:
        self._template = Template(TEMPLATE.read_text(encoding="utf-8"))
        self._public = public
        self._title = title

    def render(self, size: int) -> str:
        """The page's HTML, every value escaped."""
        return self._template.substitute(
            title=html.escape(self._title),
            websocket_url=html.escape(self._public.websocket_url),
            font_size=str(size),
        )

    async def index(self, request: web.Request) -> web.Response:
        """``GET /``."""
        body = self.render(font_size(request.query.get("fontsize")))
        return web.Response(
            text=body,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    def routes(self) -> list[web.AbstractRouteDef]:
        """The page, the portal's assets, and textual-serve's."""
        return [
            web.get("/", self.index),
            web.get("/favicon.ico", no_icon),
            web.static("/portal", ASSETS, show_index=False, follow_symlinks=False),
            web.static("/static", textual_serve_static(), show_index=False, follow_symlinks=False),
        ]
