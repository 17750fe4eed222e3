"""What keeps the browser door safe to put on a network: the headers on every response,
and the origin check on the WebSocket.

The page and its assets come from the portal's own origin only (``default-src 'self'``);
the page connects only to itself and to its own WebSocket; it refuses to be framed
(``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, against clickjacking); it sends
no referrer, and nothing it serves is sniffed as another type. A WebSocket whose ``Origin``
is not the public URL's is refused before anything starts: a page of another site cannot
drive a portal session in the name of a person who has it open (cross-site WebSocket
hijacking), and a request without an ``Origin`` is not a browser's page of the portal.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from aiohttp import web

from tui_portal.serving.web.public_url import DEFAULT_PORTS, PublicUrl

# textual-serve's script (textual.js, as the pinned textual-serve ships it) adds one
# stylesheet of its own: an empty <style> element, then these rules in it. Both are allowed
# by their hashes, and no other inline style is.
TEXTUAL_JS_STYLES = (
    "",
    "h1{color:#fff;background-color:#000}body{margin:0;padding:0}"
    ".textual-terminal{width:100vw;height:100vh}",
)


def style_hash(text: str) -> str:
    """A CSP hash source for an inline stylesheet of exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(public: PublicUrl) -> str:
    """The page's policy: its own origin for everything, its own WebSocket to connect to."""
    styles = " ".join(style_hash(text) for text in TEXTUAL_JS_STYLES)
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {public.websocket_origin}",
            "script-src 'self'",
            f"style-src 'self' {styles}",
            "img-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(public: PublicUrl) -> dict[str, str]:
    """The headers every response carries, pages, assets and refusals alike."""
    return {
        "Content-Security-Policy": content_security_policy(public),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def add_security_headers(app: web.Application, public: PublicUrl) -> None:
    """Put :func:`security_headers` on every response ``app`` sends, errors included."""
    headers = security_headers(public)

    async def on_prepare(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)
        response.headers["Server"] = "tui-portal"  # not aiohttp's name and version

    app.on_response_prepare.append(on_prepare)


def normalised_origin(value: str) -> str | None:
    """An ``Origin`` header as ``scheme://host[:port]`` (default port left out), or None."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username or parts.password or parts.path or parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(request: web.Request, public: PublicUrl) -> bool:
    """Whether the request carries exactly one ``Origin``, and it is the public URL's."""
    values = request.headers.getall("Origin", [])
    if len(values) != 1:
        return False
    return normalised_origin(values[0]) == public.origin
