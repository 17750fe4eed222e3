"""A person in a real browser (Debian's Chromium, headless, driven by Playwright): the demo's
sign-in, MFA enrolment with the QR code decoded off a screenshot, signing out and in again
with a code; every request the browser makes stays on 127.0.0.1 and breaks no rule of the
page's Content-Security-Policy; a page of another origin cannot open the WebSocket; the
page says why a session ended."""

from __future__ import annotations

import re
import signal
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.serving.web_support import (
    Browser,
    Tab,
    WebPortal,
    WebServer,
    decode_qr,
    wait_until_gone,
)
from tests.world import code_at
from tui_portal.demo import DEMO_ACCOUNTS

PASSWORDS = {username: password for username, password, _what in DEMO_ACCOUNTS}
SECRET = re.compile(r"secret=([A-Z2-7]+)")


@pytest.fixture(scope="module")
def demo(web_portal: WebPortal) -> WebServer:
    """``tui-portal --demo serve web``, on the demo's own database."""
    return web_portal.serve(demo=True)


def sign_in(tab: Tab, username: str, password: str) -> None:
    """Type the username, Enter, the password, Enter, as a person does."""
    tab.wait_for("Username")
    tab.focus()
    tab.type(username)
    tab.press("Enter")
    tab.type(password)
    tab.press("Enter")


def qr_in(tab: Tab) -> str | None:
    """The URI of a QR code in a screenshot of the tab, if one decodes."""
    found = decode_qr(tab.screenshot("enable-mfa"))
    return found[0] if found else None


def now_code(secret: str, steps_ahead: int = 0) -> str:
    return code_at(secret, datetime.now(UTC), steps_ahead)


def test_a_person_signs_in_to_the_demo_enrols_mfa_off_the_screenshot_and_signs_in_with_a_code(
    demo: WebServer, browser: Browser
) -> None:
    tab = browser.open(demo.url)
    tab.wait_for("Username")
    assert "margaret" in tab.screen.text()  # the demo lists its accounts
    sign_in(tab, "margaret", PASSWORDS["margaret"])
    tab.wait_for("MFA: Disabled")
    tab.press("e")
    tab.wait_for("Authenticator code")
    found: list[str] = []

    def decoded() -> bool:
        found[:] = [uri for uri in [qr_in(tab)] if uri is not None]
        return bool(found)

    tab.wait(decoded, "a QR code that decodes")
    uri = found[0]
    assert uri.startswith("otpauth://totp/") and "margaret" in uri
    match = SECRET.search(uri)
    assert match is not None
    secret = match[1]
    tab.type(now_code(secret))
    tab.press("Enter")
    tab.wait_for("MFA is now enabled")
    tab.wait(lambda: qr_in(tab) is None, "the QR code to leave the screen")
    assert f"{secret[:4]} {secret[4:8]}" not in tab.screen.text()  # nor the key, grouped
    tab.wait_for("Each code works once")  # the recovery codes, shown once, come next
    tab.press("Enter")  # Done
    tab.wait_for("MFA: Enabled")
    tab.press("Control+p")
    tab.wait_for("Search for commands")
    tab.type("Sign out")
    tab.wait_for("End this session")
    tab.press("Enter")
    sign_in(tab, "margaret", PASSWORDS["margaret"])
    tab.wait_for("MFA code")
    tab.type(now_code(secret, 1))
    tab.press("Enter")
    tab.wait_for("MFA: Enabled")
    tab.screenshot("signed-in-with-a-code")

    assert browser.violations(tab) == []
    hosts = {urlsplit(url).hostname for url in browser.requests}
    assert hosts == {"127.0.0.1"}, browser.requests
    assert any(
        url.endswith("/static/fonts/RobotoMono-VariableFont_wght.ttf") for url in browser.requests
    )
    assert tab.page.evaluate("document.fonts.check(\"16px 'Roboto Mono'\")") is True

    events = [e for e in demo.audit() if e["target"] == "margaret"]
    assert {"sign_in_succeeded", "mfa_enabled"} <= {e["event"] for e in events}
    assert {e["source"] for e in events if e["event"] == "sign_in_succeeded"} == {"web:127.0.0.1"}
    log = demo.log_text()
    assert PASSWORDS["margaret"] not in log and secret not in log


ATTACKER_PAGE = textwrap.dedent(
    """\
    <!DOCTYPE html>
    <html><head><title>another site</title></head><body><script>
    window.result = null;
    const socket = new WebSocket(new URLSearchParams(location.search).get("target"));
    socket.onopen = () => { window.result = "open"; socket.close(); };
    socket.onclose = (event) => { window.result = window.result || "closed " + event.code; };
    </script></body></html>
    """
).encode()


class AttackerPage(BaseHTTPRequestHandler):
    """A page of another origin that tries to open the portal's WebSocket."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(ATTACKER_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def another_origin() -> Iterator[str]:
    """A page served from another port of 127.0.0.1: another origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), AttackerPage)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_of_another_origin_cannot_open_the_websocket(
    web_portal: WebPortal, browser: Browser, another_origin: str
) -> None:
    served = web_portal.serve()
    tab = browser.open(f"{another_origin}?target={served.websocket_url}")
    tab.wait(lambda: tab.page.evaluate("window.result"), "the WebSocket to open or close")
    assert tab.page.evaluate("window.result") == "closed 1006"  # refused at the handshake
    assert [e["reason"] for e in served.events("refused")] == ["other origin"]
    assert served.events("connect") == [] and served.sessions() == []

    # The same script on the portal's own page opens it: the origin is what was refused.
    own = browser.open(served.url)
    own.wait_for("Username")
    script = """(url) => new Promise((done) => {
        const socket = new WebSocket(url);
        socket.onopen = () => { done("open"); socket.close(); };
        socket.onclose = (event) => done("closed " + event.code);
    })"""
    assert own.page.evaluate(script, served.websocket_url) == "open"
    assert served.stop() == 0


def test_the_page_says_why_its_session_ended(web_portal: WebPortal, browser: Browser) -> None:
    served = web_portal.serve()
    tab = browser.open(served.url)
    tab.wait_for("Username")
    tab.focus()
    tab.press("Control+q")
    tab.page.wait_for_selector("body.-closed")
    assert tab.page.text_content("#ended") == "Session ended"

    again = browser.open(served.url)
    again.wait_for("Username")
    sessions = served.sessions()
    assert len(sessions) == 1
    served.process.send_signal(signal.SIGTERM)
    again.page.wait_for_selector("body.-closed")
    assert again.page.text_content("#ended") == "The portal is restarting"
    assert served.stop() == 0
    wait_until_gone(sessions)
    assert [e["ended"] for e in served.events("disconnect")] == ["portal", "server"]
    assert browser.violations(tab) == [] and browser.violations(again) == []
    assert parse_qs(urlsplit(again.sockets[0].url).query)["width"] != ["80"]  # the tab's size
