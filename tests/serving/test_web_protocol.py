"""The browser door as a client meets it over HTTP and the WebSocket: the headers on
everything, the origin check, the session caps, where a tab is (with and without a trusted
proxy) as the audit trail records it, the sign-in deadline, the connection log, and an
orderly stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession, WSServerHandshakeError

from tests.serving.web_support import (
    RawTab,
    WebPortal,
    WebServer,
    open_tab,
    sign_in,
    wait_until_gone,
)
from tests.world import World
from tui_portal.app import NOT_SIGNED_IN_IN_TIME
from tui_portal.serving.limits import TOO_MANY_SESSIONS

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@pytest.fixture
async def client() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


def assert_guarded(headers: Mapping[str, str], server: WebServer) -> None:
    """The security headers every response carries."""
    for name, value in HEADERS.items():
        assert headers.get(name) == value, name
    policy = headers.get("Content-Security-Policy")
    assert isinstance(policy, str)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://127.0.0.1:{server.port}"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "aiohttp" not in (headers.get("Server") or "")


async def test_every_response_carries_the_headers_and_the_page_names_no_other_host(
    web_server: WebServer, client: ClientSession
) -> None:
    paths = [
        "/",
        "/portal/portal.js",
        "/portal/portal.css",
        "/static/js/textual.js",
        "/static/css/xterm.css",
        "/static/fonts/RobotoMono-VariableFont_wght.ttf",
        "/no-such-page",
        "/static/",
        "/ws",
    ]
    statuses = {}
    for path in paths:
        async with client.get(web_server.origin + path) as response:
            statuses[path] = response.status
            assert_guarded(response.headers, web_server)
            if path == "/":
                page = await response.text()
    assert statuses == {
        **dict.fromkeys(paths[:6], 200),
        "/no-such-page": 404,
        "/static/": 403,  # no listing of folders
        "/ws": 403,  # no Origin
    }
    assert f'data-session-websocket-url="{web_server.websocket_url}"' in page
    assert "<style" not in page and "onclick" not in page.lower()
    others = [word for word in page.split('"') if "://" in word]
    assert others == [web_server.websocket_url], others  # nothing from any other host


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://evil.example",
        "https://127.0.0.1:{port}",  # another scheme
        "http://127.0.0.1:1",  # another port
        "http://localhost:{port}",  # another host name for the same address
        "null",
    ],
)
async def test_a_websocket_from_another_origin_is_refused_before_anything_starts(
    web_server: WebServer, client: ClientSession, origin: str | None
) -> None:
    refused_before = len(web_server.events("refused"))
    headers = {} if origin is None else {"Origin": origin.format(port=web_server.port)}
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(web_server.websocket_url, headers=headers, origin=None)
    assert refused.value.status == 403
    assert web_server.sessions() == []
    reasons = [e["reason"] for e in web_server.events("refused")[refused_before:]]
    assert reasons == ["no origin" if origin is None else "other origin"]


async def test_the_public_urls_origin_opens_a_session(
    web_server: WebServer, client: ClientSession
) -> None:
    tab = await open_tab(client, web_server)
    await tab.wait_for("Username")
    assert len(web_server.sessions()) == 1
    await tab.type("\x11")  # ctrl+q
    closed = await tab.wait_closed()
    assert (closed.code, closed.reason) == (1000, "Session ended")


async def test_past_max_sessions_a_tab_is_told_and_no_process_starts(
    web_portal: WebPortal, client: ClientSession
) -> None:
    served = web_portal.serve("--max-sessions", "1")
    first = await open_tab(client, served)
    await first.wait_for("Username")
    second = await open_tab(client, served)
    closed = await second.wait_closed()
    assert (closed.code, closed.reason) == (1013, TOO_MANY_SESSIONS)
    assert len(served.sessions()) == 1
    await first.type("\x11")
    await first.wait_closed()
    third = await open_tab(client, served)  # the place is free again
    await third.wait_for("Username")
    assert await stop(served, third) == 0
    assert [e["reason"] for e in served.events("refused")] == ["too many sessions"]


async def test_behind_a_trusted_proxy_the_forwarded_address_counts_for_the_per_source_cap(
    web_portal: WebPortal, client: ClientSession
) -> None:
    served = web_portal.serve("--trust-proxy", "--max-per-source", "1")
    # What the client wrote is on the left; the proxy appended the address it saw.
    one = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
    first = await open_tab(client, served, headers=one)
    await first.wait_for("Username")
    again = await open_tab(client, served, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    closed = await again.wait_closed()
    assert (closed.code, closed.reason) == (1013, TOO_MANY_SESSIONS)
    other = await open_tab(client, served, headers={"X-Forwarded-For": "203.0.113.8"})
    await other.wait_for("Username")
    # The proxy's own address at the right is not the client's.
    hop = await open_tab(client, served, headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.1"})
    await hop.wait_for("Username")
    with pytest.raises(WSServerHandshakeError) as refused:
        await open_tab(client, served, headers={"X-Forwarded-For": "not-an-address"})
    assert refused.value.status == 400
    assert await stop(served, first, other, hop) == 0
    connects = [e["address"] for e in served.events("connect")]
    assert connects == ["203.0.113.7", "203.0.113.8", "203.0.113.9"]
    reasons = [(e["address"], e["reason"]) for e in served.events("refused")]
    assert reasons == [
        ("203.0.113.7", "too many sessions"),
        ("unknown", "bad forwarded address"),
    ]


async def logged(server: WebServer, kind: str, timeout: float = 20.0) -> None:
    """Wait until the connection log has an event of ``kind``."""
    deadline = time.monotonic() + timeout
    while not server.events(kind):
        assert time.monotonic() < deadline, f"no {kind} event in {server.log_text()}"
        await asyncio.sleep(0.05)


async def stop(server: WebServer, *tabs: RawTab, number: int = signal.SIGTERM) -> int:
    """Stop the server while its open tabs read what it says; its exit status."""
    stopping = asyncio.create_task(asyncio.to_thread(server.stop, number))
    for tab in tabs:
        await tab.wait_closed()
    return await stopping


async def signed_in_and_out(tab: RawTab, username: str, password: str, *, fail: bool) -> None:
    """Sign in (after a wrong password first, when ``fail``), then quit."""
    if fail:
        await sign_in(tab, username, "not the password")
        await tab.wait_for("Invalid username or password")
        await tab.type(password + "\r")  # the name stays; the password again
    else:
        await sign_in(tab, username, password)
    await tab.wait_for("MFA: Disabled")
    await tab.type("\x11")
    await tab.wait_closed()


def sources_of(server: WebServer, username: str, since: float, *kinds: str) -> set[object]:
    """Where the person's sign-in attempts of ``kinds`` since ``since`` came from."""
    events = [
        e
        for e in server.audit()
        if e["target"] == username
        and e["event"] in ("sign_in_failed", "sign_in_succeeded")
        and datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00")).timestamp() >= since - 1
    ]
    assert {e["event"] for e in events} == set(kinds)
    return {e["source"] for e in events}


async def test_the_audit_trail_records_the_tabs_address_as_its_source(
    web_portal: WebPortal, client: ClientSession
) -> None:
    trusted = web_portal.serve("--trust-proxy")
    started = time.time()
    forwarded = {"X-Forwarded-For": "192.0.2.44"}
    tab = await open_tab(client, trusted, headers=forwarded)
    await signed_in_and_out(tab, "grace", World.PASSWORDS["grace"], fail=True)
    kinds = ("sign_in_failed", "sign_in_succeeded")
    assert sources_of(trusted, "grace", started, *kinds) == {"web:192.0.2.44"}
    assert trusted.stop() == 0

    direct = web_portal.serve()  # without --trust-proxy the header is anyone's to write
    started = time.time()
    tab = await open_tab(client, direct, headers=forwarded)
    await signed_in_and_out(tab, "ada", World.PASSWORDS["ada"], fail=False)
    assert sources_of(direct, "ada", started, "sign_in_succeeded") == {"web:127.0.0.1"}
    assert direct.stop() == 0
    [connect] = direct.events("connect")
    assert connect["address"] == "127.0.0.1" and connect["forwarded_ignored"] is True


async def test_a_tab_not_signed_in_in_time_is_closed_saying_so(
    web_portal: WebPortal, client: ClientSession
) -> None:
    served = web_portal.serve(env={"TUI_PORTAL_WEB_SIGN_IN_SECONDS": "1.5"})
    tab = await open_tab(client, served)
    await tab.wait_for("Username")
    closed = await tab.wait_closed()
    assert (closed.code, closed.reason) == (1000, NOT_SIGNED_IN_IN_TIME)
    assert served.stop() == 0
    [ended] = served.events("disconnect")
    assert ended["ended"] == "portal" and ended["exit_status"] == 3


async def test_the_connection_log_is_one_json_object_per_line_and_holds_nothing_typed(
    web_portal: WebPortal, client: ClientSession
) -> None:
    served = web_portal.serve()
    tab = await open_tab(client, served, size=(90, 28))
    await sign_in(tab, "mia", World.PASSWORDS["mia"])
    await tab.wait_for("MFA: Disabled")
    await tab.websocket.close()  # the tab goes away
    await logged(served, "disconnect")
    with pytest.raises(WSServerHandshakeError):
        await open_tab(client, served, origin="http://evil.example")
    assert served.stop() == 0
    text = served.log_text()
    assert World.PASSWORDS["mia"] not in text and "mia" not in text
    events = [json.loads(line) for line in text.splitlines()]  # every line is one object
    assert [(e["event"], e.get("reason")) for e in events] == [
        ("connect", None),
        ("disconnect", None),
        ("refused", "other origin"),
        ("stopping", None),
    ]
    connect, disconnect = events[0], events[1]
    assert (connect["address"], connect["size"]) == ("127.0.0.1", "90x28")
    assert disconnect["connection"] == connect["connection"]
    assert disconnect["ended"] == "browser" and isinstance(disconnect["seconds"], float)
    assert all(str(e["at"]).endswith("Z") for e in events)


@pytest.mark.parametrize(("number", "count"), [(signal.SIGTERM, 2), (signal.SIGINT, 1)])
async def test_stopping_tells_every_tab_the_portal_is_restarting_and_exits_0(
    web_portal: WebPortal, client: ClientSession, number: int, count: int
) -> None:
    served = web_portal.serve()
    tabs = [await open_tab(client, served) for _ in range(count)]
    for tab in tabs:
        await tab.wait_for("Username")
    await sign_in(tabs[-1], "sam", World.PASSWORDS["sam"])  # signed in or not, alike
    await tabs[-1].wait_for("Sam Support")
    sessions = served.sessions()
    assert len(sessions) == count
    started = time.monotonic()
    assert await stop(served, *tabs, number=number) == 0
    assert time.monotonic() - started < 10
    for tab in tabs:
        assert tab.closed is not None
        assert (tab.closed.code, tab.closed.reason) == (1012, "The portal is restarting")
    wait_until_gone(sessions)
    assert [e["ended"] for e in served.events("disconnect")] == ["server"] * count
    [stopping] = served.events("stopping")
    assert stopping["sessions"] == count


async def test_a_killed_servers_portal_processes_end_by_themselves(
    web_portal: WebPortal, client: ClientSession
) -> None:
    served = web_portal.serve()
    tab = await open_tab(client, served)
    await tab.wait_for("Username")
    sessions = served.sessions()
    assert len(sessions) == 1
    served.process.kill()
    served.process.wait()
    try:
        wait_until_gone(sessions, timeout=10)
    finally:  # none outlives a failing test
        for pid in sessions:
            with contextlib.suppress(OSError):
                if b"tui_portal.serving.web.child" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
