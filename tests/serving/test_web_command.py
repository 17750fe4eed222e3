"""``tui-portal serve web`` as an operator meets it: the line it prints, ``--public-url``
behind a proxy, and one ``error:`` line for each mistake, with nothing changed."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from urllib.request import urlopen

import pytest
from aiohttp import ClientSession, WSServerHandshakeError

from tests.serving.web_support import WebPortal, open_tab


def assert_one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--listen", "nowhere"], ["'nowhere' is not HOST:PORT"]),
        (["--listen", "127.0.0.1:70000"], ["out of range"]),
        (["--public-url", "ftp://portal.example.com"], ["http:// or https://"]),
        (["--public-url", "https://portal.example.com/portal"], ["no path"]),
        (["--public-url", "https://portal.example.com/?x=1"], ["no path"]),
        (["--public-url", "https://me:secret@portal.example.com"], ["user name or password"]),
        (["--public-url", "https://portal.example.com:99999"], ["valid port"]),
        (["--public-url", "https://"], ["has no host"]),
        (["--listen", "0.0.0.0:8000"], ["--public-url", "the address people open"]),
        (["--listen", "[::]:8000"], ["--public-url"]),
        (["--max-sessions", "0"], ["--max-sessions"]),
        (["--max-per-source", "many"], ["--max-per-source"]),
    ],
)
def test_a_mistake_is_one_error_line_and_changes_nothing(
    web_portal: WebPortal, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    database = tmp_path / "untouched.db"
    done = subprocess.run(
        [sys.executable, "-m", "tui_portal", "--db", str(database), "serve", "web", *args],
        env=web_portal.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_error_line(done, *words)
    assert "Traceback" not in done.stderr
    assert not database.exists()


def test_a_port_in_use_is_one_error_line(web_portal: WebPortal) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = web_portal.run("--listen", f"127.0.0.1:{port}")
    assert_one_error_line(done, f"cannot listen on 127.0.0.1:{port}", "in use")


def test_a_shortened_deadline_out_of_bounds_is_one_error_line(web_portal: WebPortal) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui_portal", "serve", "web", "--listen", "127.0.0.1:0"],
        env={**web_portal.env, "TUI_PORTAL_WEB_SIGN_IN_SECONDS": "600"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_error_line(done, "TUI_PORTAL_WEB_SIGN_IN_SECONDS", "between 0 and 120")


def test_a_wrong_secrets_key_is_the_commands_error_not_every_tabs(web_portal: WebPortal) -> None:
    wrong = "A" * 43 + "="
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_portal",
            "--db",
            web_portal.world.settings.database_url,
            "serve",
            "web",
            "--listen",
            "127.0.0.1:0",
        ],
        env={**web_portal.env, "TUI_PORTAL_SECRET_KEY": wrong},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_error_line(done)
    assert "key" in done.stderr


def test_it_prints_where_it_listens_and_serves_the_page_there(web_portal: WebPortal) -> None:
    served = web_portal.serve()
    with urlopen(served.url, timeout=10) as response:
        page = response.read().decode()
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
    assert served.stop() == 0
    assert served.log_text().splitlines()[-1].endswith('"event": "stopping", "sessions": 0}')


async def test_behind_a_proxy_the_page_connects_to_the_public_url_and_only_its_origin_may(
    web_portal: WebPortal,
) -> None:
    served = web_portal.serve("--public-url", "https://portal.example.com")
    async with ClientSession() as client:
        async with client.get(served.url) as response:
            page = await response.text()
            policy = response.headers["Content-Security-Policy"]
        assert 'data-session-websocket-url="wss://portal.example.com/ws"' in page
        assert "connect-src 'self' wss://portal.example.com;" in policy
        with pytest.raises(WSServerHandshakeError) as refused:
            await open_tab(client, served)  # the address it listens on is not the public one
        assert refused.value.status == 403
        tab = await open_tab(client, served, origin="https://portal.example.com")
        await tab.wait_for("Username")
        await tab.websocket.close()
    assert served.stop() == 0
