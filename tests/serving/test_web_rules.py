"""The browser door's rules on their own: the public URL, origins, the address behind a
proxy, the sizes a tab may ask for, and the inline styles the policy allows."""

from __future__ import annotations

import pytest

from tui_portal.serving.web.client_address import ForwardedError, forwarded_client, normalised
from tui_portal.serving.web.guard import TEXTUAL_JS_STYLES, normalised_origin, style_hash
from tui_portal.serving.web.page import font_size, textual_serve_static
from tui_portal.serving.web.public_url import (
    PublicUrlError,
    default_public_url,
    listens_everywhere,
    parse_public_url,
)
from tui_portal.serving.web.session import terminal_size


@pytest.mark.parametrize(
    ("text", "origin", "websocket"),
    [
        ("https://portal.example.com", "https://portal.example.com", "wss://portal.example.com/ws"),
        (
            "https://Portal.Example.com:443/",
            "https://portal.example.com",
            "wss://portal.example.com/ws",
        ),
        ("http://10.0.0.5:8000", "http://10.0.0.5:8000", "ws://10.0.0.5:8000/ws"),
        ("http://[::1]:8000", "http://[::1]:8000", "ws://[::1]:8000/ws"),
        (
            "HTTPS://portal.example.com:8443",
            "https://portal.example.com:8443",
            "wss://portal.example.com:8443/ws",
        ),
    ],
)
def test_a_public_url_gives_the_origin_and_the_websocket(
    text: str, origin: str, websocket: str
) -> None:
    public = parse_public_url(text)
    assert (public.origin, public.websocket_url) == (origin, websocket)


@pytest.mark.parametrize(
    "text",
    [
        "portal.example.com",
        "ws://portal.example.com",
        "https://portal.example.com/portal/",
        "https://portal.example.com#top",
        "https://portal.example.com?",
        "https://user@portal.example.com",
        "https://portal.example.com:0",
        "https://portal.example.com:port",
        "https:///ws",
    ],
)
def test_a_public_url_that_cannot_work_is_refused(text: str) -> None:
    with pytest.raises(PublicUrlError):
        parse_public_url(text)


def test_the_default_public_url_is_the_listen_address() -> None:
    assert default_public_url("127.0.0.1", 8000).origin == "http://127.0.0.1:8000"
    assert default_public_url("::1", 8000).websocket_url == "ws://[::1]:8000/ws"
    assert listens_everywhere("0.0.0.0") and listens_everywhere("::")
    assert not listens_everywhere("127.0.0.1") and not listens_everywhere("localhost")


@pytest.mark.parametrize(
    ("header", "origin"),
    [
        ("https://portal.example.com", "https://portal.example.com"),
        ("https://PORTAL.example.com:443", "https://portal.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("null", None),
        ("", None),
        ("https://portal.example.com/path", None),
        ("file://", None),
        ("https://portal.example.com:99999", None),
    ],
)
def test_origins_are_compared_in_one_form(header: str, origin: str | None) -> None:
    assert normalised_origin(header) == origin


@pytest.mark.parametrize(
    ("values", "client"),
    [
        ([], "10.0.0.1"),  # not through the proxy: the peer itself
        (["203.0.113.7"], "203.0.113.7"),
        (["1.2.3.4, 203.0.113.7"], "203.0.113.7"),  # the client's own claim is ignored
        (["1.2.3.4", "203.0.113.7"], "203.0.113.7"),  # two headers are one list
        (["203.0.113.7, 10.0.0.1"], "203.0.113.7"),  # the proxy's own entry is skipped
        (["::ffff:203.0.113.7"], "203.0.113.7"),
        (["2001:db8::1"], "2001:db8::1"),
        (["garbage, 203.0.113.7"], "203.0.113.7"),  # left of the proxy's entry: never read
    ],
)
def test_the_client_behind_a_proxy_is_the_rightmost_address_not_the_proxys(
    values: list[str], client: str
) -> None:
    assert forwarded_client(values, proxy="10.0.0.1") == client


@pytest.mark.parametrize("values", [["203.0.113.7, garbage"], ["unknown"], ["203.0.113.7:5555"]])
def test_a_forwarded_entry_that_is_no_address_is_refused(values: list[str]) -> None:
    with pytest.raises(ForwardedError):
        forwarded_client(values, proxy="10.0.0.1")


def test_addresses_take_one_form() -> None:
    assert normalised(" ::ffff:127.0.0.1 ") == "127.0.0.1"
    assert normalised("2001:DB8::1") == "2001:db8::1"
    assert normalised("portal.example.com") is None


def test_a_tab_asks_for_sizes_within_bounds() -> None:
    assert terminal_size("120", "40") == (120, 40)
    assert terminal_size(100000, 100000) == (500, 200)
    assert terminal_size(-5, 0) == (10, 5)
    assert terminal_size("wide", 40) is None
    assert terminal_size(None, 40) is None
    assert (font_size("20"), font_size("400"), font_size("big"), font_size(None)) == (
        20,
        48,
        16,
        16,
    )


def test_the_inline_styles_allowed_are_exactly_those_textual_serves_script_adds() -> None:
    script = (textual_serve_static() / "js" / "textual.js").read_text()
    empty, rules = TEXTUAL_JS_STYLES
    assert empty == "" and rules in script
    # The hash of an empty stylesheet, as browsers compute it.
    assert style_hash("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
