"""A person's sessions over SSH, through the system's OpenSSH client: sign in, enrol MFA
with the QR code read off the received screen, sign out, sign in with a code; resizes;
the connection log; where attempts came from, in the audit trail."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from tests.serving.conftest import Clients, Portal, PortalServer, Terminal
from tests.tui.test_qr_decode import decode, to_modules
from tests.world import World, code_at

WHITE = "ffffff"


def sign_in(terminal: Terminal, username: str, password: str) -> None:
    """Type the username, Enter, the password, Enter, as a person does."""
    terminal.wait_for("Username")
    terminal.send(username + "\r")
    terminal.send(password + "\r")


def qr_lines(terminal: Terminal) -> list[str]:
    """The text of the screen's white-backed block: the QR code with its quiet zone."""
    buffer = terminal.screen.buffer
    cells = [
        (x, y)
        for y in range(terminal.screen.lines)
        for x in range(terminal.screen.columns)
        if buffer[y][x].bg == WHITE
    ]
    if not cells:
        return []
    left, right = min(x for x, _ in cells), max(x for x, _ in cells)
    top, bottom = min(y for _, y in cells), max(y for _, y in cells)
    return [
        "".join(buffer[y][x].data for x in range(left, right + 1)) for y in range(top, bottom + 1)
    ]


def decoded_uri(terminal: Terminal) -> str | None:
    lines = qr_lines(terminal)
    if not lines or any(set(line) - set("▀▄█ ") for line in lines):
        return None
    found = decode(to_modules(lines))
    return found[0] if found else None


def now_code(secret: str, steps_ahead: int = 0) -> str:
    return code_at(secret, datetime.now(UTC), steps_ahead)


def test_sign_in_enrol_with_the_qr_code_off_the_screen_sign_out_and_in_with_a_code(
    server: PortalServer, clients: Clients
) -> None:
    terminal = clients.connect(server, size=(100, 36))
    sign_in(terminal, "mia", World.PASSWORDS["mia"])
    terminal.wait_for("MFA: Disabled")
    terminal.send("e")
    terminal.wait(lambda: decoded_uri(terminal) is not None, "a QR code that decodes")
    uri = decoded_uri(terminal)
    assert uri is not None and uri.startswith("otpauth://totp/")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    terminal.wait_for("Authenticator code")
    terminal.send(now_code(secret) + "\r")
    terminal.wait_for("MFA is now enabled")
    terminal.wait_for("Each code works once")  # the recovery codes, shown once, come next
    assert decoded_uri(terminal) is None  # the QR code has left the screen
    terminal.send("\r")  # Done
    terminal.wait_for("MFA: Enabled")
    terminal.send("\x10")  # ctrl+p: the command palette
    terminal.wait_for("Search for commands")
    terminal.send("Sign out")
    terminal.wait_for("End this session")
    terminal.send("\r")
    sign_in(terminal, "mia", World.PASSWORDS["mia"])
    terminal.wait_for("MFA code")
    terminal.send(now_code(secret, 1) + "\r")
    terminal.wait_for("MFA: Enabled")
    terminal.send("\x11")  # ctrl+q
    assert terminal.exit_status() == 0


def drawn_extent(terminal: Terminal) -> tuple[int, int]:
    """How far right and down the bottom row (the footer, drawn edge to edge) reaches."""
    lines = terminal.screen.display
    bottom = max((y for y, line in enumerate(lines) if line.strip()), default=-1)
    return (len(lines[bottom].rstrip()) if bottom >= 0 else 0), bottom + 1


def fills(extent: tuple[int, int], columns: int, rows: int) -> bool:
    """The footer sits on the last row and reaches the right edge (less its padding)."""
    right, bottom = extent
    return bottom == rows and columns - 2 <= right <= columns


def test_the_session_has_the_clients_size_and_follows_a_resize(
    server: PortalServer, clients: Clients
) -> None:
    terminal = clients.connect(server, size=(90, 30))
    terminal.wait_for("Username")
    for columns, rows in [(90, 30), (120, 40), (60, 20)]:
        if (columns, rows) != (90, 30):
            terminal.resize(columns, rows)
        terminal.wait(
            lambda c=columns, r=rows: fills(drawn_extent(terminal), c, r),  # type: ignore[misc]
            f"the app drawn at {columns}×{rows}",
        )
    terminal.send("\x11")
    assert terminal.exit_status() == 0


def test_the_connection_log_has_one_json_line_per_event_and_nothing_typed(
    portal: Portal, clients: Clients
) -> None:
    served = portal.serve()
    terminal = clients.connect(served, size=(80, 24))
    sign_in(terminal, "ada", World.PASSWORDS["ada"])
    terminal.wait_for("MFA: Disabled")
    terminal.send("\x11")
    assert terminal.exit_status() == 0
    refused = clients.connect(served, options=("-T",))
    assert refused.exit_status() == 1
    assert served.stop() == 0
    text = served.log_text()
    assert World.PASSWORDS["ada"] not in text and "ada" not in text
    events = [json.loads(line) for line in text.splitlines()]  # every line is one object
    kinds = [(e["event"], e.get("reason")) for e in events]
    assert kinds == [
        ("connect", None),
        ("disconnect", None),
        ("refused", "no terminal"),
        ("stopping", None),
    ]
    connect, disconnect = events[0], events[1]
    assert connect["address"] == "127.0.0.1"
    assert (connect["term"], connect["size"]) == ("xterm-256color", "80x24")
    assert disconnect["connection"] == connect["connection"]
    assert disconnect["exit_status"] == 0 and disconnect["ended"] == "portal"
    assert isinstance(disconnect["seconds"], float) and disconnect["seconds"] > 0
    assert all(isinstance(e["at"], str) and e["at"].endswith("Z") for e in events)


def test_every_audit_event_of_a_session_records_its_ssh_source(
    server: PortalServer, clients: Clients
) -> None:
    started = time.time()
    terminal = clients.connect(server)
    sign_in(terminal, "grace", "not her password")
    terminal.wait_for("Invalid username or password")
    terminal.send(World.PASSWORDS["grace"] + "\r")  # the name stays; the password again
    terminal.wait_for("MFA: Disabled")
    terminal.send("\x11")
    assert terminal.exit_status() == 0
    done = server.cli("audit", "--json")
    assert done.returncode == 0, done.stderr
    events = [
        e
        for e in json.loads(done.stdout)
        if e["target"] == "grace"
        and datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp() >= started - 1
    ]
    assert {e["event"] for e in events} >= {"sign_in_failed", "sign_in_succeeded"}
    assert {e.get("source") for e in events} == {"ssh:127.0.0.1"}
