"""The address people open in their browsers, and what follows from it: the origin a
WebSocket must come from, and the ``ws://`` or ``wss://`` URL the page connects to.

Behind a TLS-terminating proxy it is the proxy's ``https://`` address; without one it is
the address the server listens on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
WEBSOCKET_PATH = "/ws"


class PublicUrlError(ValueError):
    """The public URL cannot be used; the message says why."""


@dataclass(frozen=True)
class PublicUrl:
    """``scheme://host[:port]``: no path, no user, no query."""

    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        """``host[:port]``, the port left out when it is the scheme's own, IPv6 in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """The page's origin, as a browser writes it in a WebSocket's ``Origin`` header."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def websocket_scheme(self) -> str:
        """``wss`` behind ``https``, ``ws`` otherwise."""
        return "wss" if self.scheme == "https" else "ws"

    @property
    def websocket_url(self) -> str:
        """Where the page opens its WebSocket."""
        return f"{self.websocket_scheme}://{self.netloc}{WEBSOCKET_PATH}"

    @property
    def websocket_origin(self) -> str:
        """The WebSocket's ``scheme://host[:port]``, for the page's ``connect-src``."""
        return f"{self.websocket_scheme}://{self.netloc}"


def parse_public_url(value: str) -> PublicUrl:
    """``http(s)://HOST[:PORT]`` as a :class:`PublicUrl`; :class:`PublicUrlError` otherwise."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise PublicUrlError(f"{value!r} is not a URL with a valid port") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise PublicUrlError(f"{value!r} must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise PublicUrlError(f"{value!r} must not hold a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise PublicUrlError(
            f"{value!r} must be scheme://host[:port] with no path: "
            "serve the portal at the root of its own host name"
        )
    host = (parts.hostname or "").lower()
    if not host or any(ch.isspace() for ch in host):
        raise PublicUrlError(f"{value!r} has no host")
    if port == 0:
        raise PublicUrlError(f"{value!r} has port 0: name the port people connect to")
    return PublicUrl(scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme])


def listens_everywhere(host: str) -> bool:
    """Whether ``host`` is an address that means every interface (``0.0.0.0``, ``::``)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def default_public_url(host: str, port: int) -> PublicUrl:
    """``http://HOST:PORT`` of the listen address."""
    return PublicUrl(scheme="http", host=host.lower(), port=port)
