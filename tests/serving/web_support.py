"""Browser-door test support: a real ``tui-portal serve web`` on a free loopback port, a
WebSocket client that speaks the page's protocol, and Debian's Chromium driven by
Playwright, every request it makes recorded.

The portal draws on a canvas, so what a tab shows is read from the WebSocket frames it
receives (fed into a pyte screen of the tab's size) and from screenshots, which go under
the test's temporary folder and are listed in a failure's report.

Every wait is for a condition with a deadline; nothing sleeps longer than it must.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyte
import pytest
import zxingcpp
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Playwright, WebSocket, sync_playwright

from tests.serving.processes import children_of, process_state
from tests.serving.served_world import served_world, stop_all
from tests.world import World

START_TIMEOUT = 60.0

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TERMINAL_TEXTAREA = "textarea.xterm-helper-textarea"
WAIT = 20.0


# -- the server ---------------------------------------------------------------------------


def wait_until_gone(pids: list[int], timeout: float = WAIT) -> None:
    """Wait until none of ``pids`` runs any more (gone, or a zombie left to reap)."""
    deadline = time.monotonic() + timeout
    while any(process_state(pid) not in (None, "Z") for pid in pids):
        if time.monotonic() > deadline:
            raise AssertionError(f"still running: {[p for p in pids if process_state(p)]}")
        time.sleep(0.05)


@dataclass
class WebServer:
    """A running ``tui-portal serve web``: its address, log and processes."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str]
    database_options: list[str]

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def origin(self) -> str:
        """The page's origin (the default public URL's)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def websocket_url(self) -> str:
        """Where a tab's WebSocket goes."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self) -> list[dict[str, object]]:
        """The connection log so far, one object per line."""
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def log_text(self) -> str:
        """Standard error as written."""
        return self.log_path.read_text()

    def events(self, kind: str) -> list[dict[str, object]]:
        """The log's events of one kind."""
        return [event for event in self.log() if event["event"] == kind]

    def sessions(self) -> list[int]:
        """The pids of the portal processes that exist (zombies included)."""
        return children_of(self.process.pid)

    def stop(self, number: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the server and wait for it to exit; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(number)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the server did not exit after the signal") from None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another ``tui-portal`` command on the served database."""
        return subprocess.run(
            [sys.executable, "-m", "tui_portal", *self.database_options, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def audit(self) -> list[dict[str, object]]:
        """The audit trail, oldest first."""
        done = self.cli("audit", "--json")
        assert done.returncode == 0, done.stderr
        events: list[dict[str, object]] = json.loads(done.stdout)
        return events


def start_web_server(
    before: list[str],
    options: list[str],
    env: dict[str, str],
    folder: Path,
    name: str,
    database_options: list[str],
) -> WebServer:
    """``tui-portal BEFORE serve web OPTIONS``, once it says where it listens; other
    commands reach its database with ``DATABASE_OPTIONS``."""
    log_path = folder / f"web-server-{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tui_portal", *before, "serve", "web", *options],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=folder,
        )
    line = first_line(process, log_path)
    assert line.startswith("listening on http://127.0.0.1:"), line
    return WebServer(
        process=process,
        port=int(line.rsplit(":", 1)[1]),
        log_path=log_path,
        env=env,
        database_options=database_options,
    )


def first_line(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """The first line the server prints on standard output."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + START_TIMEOUT
    while b"\n" not in seen:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            process.kill()
            raise AssertionError(f"the server did not start: {log_path.read_text()}")
        chunk = os.read(fd, 4096)
        if not chunk:
            process.wait()
            raise AssertionError(f"the server exited: {log_path.read_text()}")
        seen += chunk
    return seen.decode().splitlines()[0]


@dataclass
class WebPortal:
    """The test world's database (or the demo's), and the servers a test starts over it."""

    world: World
    folder: Path
    env: dict[str, str]
    servers: list[WebServer] = field(default_factory=list)

    def serve(
        self, *options: str, env: dict[str, str] | None = None, demo: bool = False
    ) -> WebServer:
        """``tui-portal [--db …|--demo] serve web --listen 127.0.0.1:0 OPTIONS``, ready."""
        database = ["--db", self.world.settings.database_url]
        if demo:
            database = ["--db", str(self.folder / "data" / "tui-portal" / "demo.db")]
        server = start_web_server(
            ["--demo"] if demo else database,
            ["--listen", "127.0.0.1:0", *options],
            dict(self.env, **(env or {})),
            self.folder,
            name=str(len(self.servers)),
            database_options=database,
        )
        self.servers.append(server)
        return server

    def run(self, *args: str, demo: bool = False) -> subprocess.CompletedProcess[str]:
        """``tui-portal … serve web ARGS`` expected to stop at once."""
        before = ["--demo"] if demo else ["--db", self.world.settings.database_url]
        return subprocess.run(
            [sys.executable, "-m", "tui_portal", *before, "serve", "web", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module")
def web_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebPortal]:
    """The test world's database, served by the servers a test starts; its own folders for
    the demo's database and keys."""
    folder = tmp_path_factory.mktemp("serve-web")
    world, env = served_world(folder, drop=("TUI_PORTAL_",))
    served = WebPortal(world=world, folder=folder, env=env)
    yield served
    stop_all(served.servers)


@pytest.fixture(scope="module")
def web_server(web_portal: WebPortal) -> WebServer:
    """One server with the default options, shared by a module's tests."""
    return web_portal.serve()


# -- the screen a tab receives -------------------------------------------------------------


class Screen:
    """What a tab shows, from the frames its WebSocket received, as text and colours."""

    def __init__(self, columns: int = 80, rows: int = 24) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        """Apply output the portal sent."""
        self.stream.feed(data)

    def resize(self, columns: int, rows: int) -> None:
        """The tab asked for another size; the portal redraws at it."""
        self.screen.resize(rows, columns)

    def text(self) -> str:
        """The screen as lines of text."""
        return "\n".join(self.screen.display)


def size_in(url: str) -> tuple[int, int]:
    """The terminal size a tab's WebSocket URL asks for."""
    query = parse_qs(urlsplit(url).query)
    return int(query.get("width", ["80"])[0]), int(query.get("height", ["24"])[0])


# -- a WebSocket client that speaks the page's protocol -----------------------------------


@dataclass
class Closed:
    """How the server closed a tab's WebSocket."""

    code: int | None
    reason: str


class RawTab:
    """A tab without a browser: the page's messages over aiohttp's WebSocket client."""

    def __init__(self, websocket: ClientWebSocketResponse, columns: int, rows: int) -> None:
        self.websocket = websocket
        self.screen = Screen(columns, rows)
        self.closed: Closed | None = None

    async def pump(self, timeout: float) -> None:
        """Read one message (or wait up to ``timeout`` for one)."""
        if self.closed is not None:
            return
        try:
            message = await self.websocket.receive(timeout)
        except TimeoutError:
            return
        if message.type == WSMsgType.BINARY:
            self.screen.feed(message.data)
        elif message.type == WSMsgType.CLOSE:
            self.closed = Closed(message.data, message.extra or "")
            await self.websocket.close()
        elif message.type in (WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
            self.closed = Closed(self.websocket.close_code, "")

    async def wait_for(self, text: str, timeout: float = WAIT) -> None:
        """Read until ``text`` is on the screen."""
        deadline = time.monotonic() + timeout
        while text not in self.screen.text():
            if self.closed is not None:
                raise AssertionError(f"closed before {text!r}: {self.closed}\n{self.screen.text()}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {text!r}:\n{self.screen.text()}")
            await self.pump(min(left, 0.5))

    async def wait_closed(self, timeout: float = WAIT) -> Closed:
        """Read until the server closes the WebSocket; how it did."""
        deadline = time.monotonic() + timeout
        while self.closed is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the WebSocket stayed open:\n{self.screen.text()}")
            await self.pump(min(left, 0.5))
        return self.closed

    async def type(self, text: str) -> None:
        """Keys, as the page sends what xterm.js reports."""
        await self.websocket.send_str(json.dumps(["stdin", text]))


async def open_tab(
    client: ClientSession,
    server: WebServer,
    *,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
    size: tuple[int, int] = (100, 30),
) -> RawTab:
    """Open a tab's WebSocket as the page does (from the page's origin unless told)."""
    columns, rows = size
    sent = {"Origin": origin or server.origin, **(headers or {})}
    websocket = await client.ws_connect(
        f"{server.websocket_url}?width={columns}&height={rows}", headers=sent, autoclose=False
    )
    return RawTab(websocket, columns, rows)


async def sign_in(tab: RawTab, username: str, password: str) -> None:
    """Type the username, Enter, the password, Enter, once the sign-in screen is there."""
    await tab.wait_for("Username")
    await tab.type(username + "\r")
    await tab.type(password + "\r")


# -- Chromium -------------------------------------------------------------------------------


def need_chromium() -> Path:
    """Debian's Chromium and what Playwright's driver needs; the test fails without them."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is needed for the browser tests: install chromium")
    if ctypes.util.find_library("atomic") is None:
        pytest.fail("libatomic.so.1 is needed by Playwright's driver: install libatomic1")
    return CHROMIUM


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for one module's tests."""
    need_chromium()
    with sync_playwright() as started:
        yield started


def decode_qr(png: bytes) -> list[str]:
    """Every QR code zxing-cpp reads in a screenshot."""
    image = Image.open(io.BytesIO(png))
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=formats)]


class Tab:
    """One browser tab on the portal: its screen (read off the WebSocket frames), its
    screenshots, and the WebSocket's close."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.screen = Screen()
        self.sockets: list[WebSocket] = []
        self.closed = False
        page.on("websocket", self._opened)

    def _opened(self, websocket: WebSocket) -> None:
        self.sockets.append(websocket)
        self.screen.resize(*size_in(websocket.url))
        websocket.on("framereceived", self._received)
        websocket.on("framesent", self._sent)
        websocket.on("close", self._closed)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.screen.feed(payload)

    def _sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = json.loads(payload)[1]
            self.screen.resize(int(size["width"]), int(size["height"]))

    def _closed(self, _websocket: WebSocket) -> None:
        self.closed = True

    def screenshot(self, name: str) -> bytes:
        """A screenshot of the page, kept in the test's folder."""
        path = self.folder / f"{len(list(self.folder.glob('*.png'))):02d}-{name}.png"
        return self.page.screenshot(path=path)

    def wait(self, condition: Callable[[], object], what: str, timeout: float = WAIT) -> None:
        """Let the page run until ``condition`` holds; fail with a screenshot otherwise."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.screenshot("timed-out")
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen.text()}")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the frames meanwhile

    def wait_for(self, text: str, timeout: float = WAIT) -> None:
        """Wait until ``text`` is on the screen."""
        self.wait(lambda: text in self.screen.text(), f"{text!r} on the screen", timeout)

    def focus(self) -> None:
        """Put the keyboard in the terminal (xterm.js's hidden text area)."""
        self.page.focus(TERMINAL_TEXTAREA)

    def type(self, text: str) -> None:
        """Type, as a person does."""
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        """Press one key (``Enter``, ``Control+p``…)."""
        self.page.keyboard.press(key)


@dataclass
class Browser:
    """Chromium with a fresh profile for one test; every request it makes, recorded."""

    context: BrowserContext
    folder: Path
    requests: list[str] = field(default_factory=list)
    tabs: list[Tab] = field(default_factory=list)

    def open(self, url: str) -> Tab:
        """A new tab on ``url``, CSP violations collected in ``window.violations``."""
        page = self.context.new_page()
        tab = Tab(page, self.folder)
        page.on("websocket", lambda websocket: self.requests.append(websocket.url))
        self.tabs.append(tab)
        page.goto(url)
        return tab

    def violations(self, tab: Tab) -> list[list[str]]:
        """What the page's Content-Security-Policy refused so far."""
        found: list[list[str]] = tab.page.evaluate("window.violations")
        return found

    def screenshots(self, name: str) -> list[Path]:
        """A screenshot of every open tab; the paths of all of this test's screenshots."""
        for tab in self.tabs:
            if not tab.page.is_closed():
                with contextlib.suppress(Exception):
                    tab.screenshot(name)
        return sorted(self.folder.glob("*.png"))


VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations.push([event.violatedDirective, event.blockedURI]);
});
"""


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    """Debian's Chromium, headless, with a fresh profile under the test's folder."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(need_chromium()),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 720},
    )
    context.add_init_script(VIOLATIONS)
    started = Browser(context=context, folder=shots)
    context.on("request", lambda request: started.requests.append(request.url))
    try:
        yield started
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed browser test's report lists its screenshots, one taken as it failed."""
    report = yield
    if report.when == "call" and report.failed:
        funcargs: dict[str, object] = getattr(item, "funcargs", {})
        for value in funcargs.values():
            if isinstance(value, Browser):
                paths = value.screenshots("failure")
                report.sections.append(("screenshots", "\n".join(str(p) for p in paths)))
    return report
