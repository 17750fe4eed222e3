"""Where a tab is: the address its sessions, sign-in attempts and audit events carry as
``web:ADDRESS``, and the one the per-source limit and throttle count by.

Without ``--trust-proxy`` it is the peer address of the WebSocket's TCP connection, and
``X-Forwarded-For`` is ignored: any client can send one. With it, the portal is told that
every connection comes through a proxy that appends the address it saw to
``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``), and the address is the
right-most entry that is not the proxy's own address (the connection's peer). Everything
to the left of the proxy's entry came from the client, which can write anything there, so
it is never used.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiohttp import web

FORWARDED_FOR = "X-Forwarded-For"


class ForwardedError(ValueError):
    """``X-Forwarded-For`` names no usable address where the proxy's entry should be."""


@dataclass(frozen=True)
class ClientAddress:
    """The address a tab counts as, and whether a forwarded header was ignored for it."""

    address: str
    ignored_forwarded: bool = False


def normalised(text: str) -> str | None:
    """An IP address in its canonical form (an IPv4-mapped IPv6 one as IPv4), or None."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def peer_address(request: web.Request) -> str:
    """The IP address the request's TCP connection comes from."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, tuple) and peer:
        found = normalised(str(peer[0]))
        if found is not None:
            return found
    return "unknown"


def forwarded_client(values: list[str], proxy: str) -> str:
    """The right-most ``X-Forwarded-For`` entry that is not ``proxy``; every header counts,
    in order, as one list. :class:`ForwardedError` when that entry is not an IP address."""
    entries = [entry.strip() for value in values for entry in value.split(",")]
    for entry in reversed(entries):
        if not entry:
            continue
        address = normalised(entry)
        if address is None:
            raise ForwardedError(f"{FORWARDED_FOR} holds an entry that is not an IP address")
        if address != proxy:
            return address
    return proxy


def client_address(request: web.Request, trust_proxy: bool) -> ClientAddress:
    """Where the request comes from, as described above."""
    peer = peer_address(request)
    values = request.headers.getall(FORWARDED_FOR, [])
    if not trust_proxy:
        return ClientAddress(peer, ignored_forwarded=bool(values))
    return ClientAddress(forwarded_client(values, peer))
