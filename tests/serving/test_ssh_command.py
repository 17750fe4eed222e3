"""``tui-portal serve ssh`` as an operator meets it: the host key, the lines it prints,
the demo, and one ``error:`` line for each mistake."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.conftest import Clients, Portal, need_program, start_server
from tui_portal.demo import DEMO_ACCOUNTS


def run_serve(portal: Portal, *args: str) -> subprocess.CompletedProcess[str]:
    """``tui-portal --db … serve ssh ARGS`` expected to stop at once."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_portal",
            "--db",
            portal.world.settings.database_url,
            "serve",
            "ssh",
            *args,
        ],
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0]


def test_the_host_key_is_made_once_0600_and_its_fingerprint_is_what_ssh_keygen_prints(
    portal: Portal,
) -> None:
    keygen = need_program("ssh-keygen", "openssh-client")
    first = portal.serve()
    key = first.folder / f"host-key-{portal.servers.index(first)}"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    printed = subprocess.run([keygen, "-lf", str(key)], capture_output=True, text=True, check=True)
    assert printed.stdout.split()[1] == first.fingerprint
    assert first.stop() == 0
    again = start_server(
        ["--db", portal.world.settings.database_url],
        ["--listen", "127.0.0.1:0", "--host-key", str(key)],
        portal.env,
        portal.folder,
        key,
        name="again",
    )
    assert again.fingerprint == first.fingerprint
    assert again.stop() == 0


def test_a_host_key_that_others_can_read_is_refused(portal: Portal, tmp_path: Path) -> None:
    served = portal.serve()
    key = served.folder / f"host-key-{portal.servers.index(served)}"
    served.stop()
    readable = tmp_path / "readable_key"
    readable.write_bytes(key.read_bytes())
    readable.chmod(0o644)
    done = run_serve(portal, "--listen", "127.0.0.1:0", "--host-key", str(readable))
    assert_one_error_line(done, str(readable), "chmod 600")
    assert readable.read_bytes() == key.read_bytes()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--listen", "nowhere"], ["--listen", "HOST:PORT"]),
        (["--listen", "127.0.0.1:70000"], ["--listen", "out of range"]),
        (["--max-sessions", "0"], ["--max-sessions"]),
        (["--max-per-source", "0"], ["--max-per-source"]),
    ],
)
def test_bad_options_are_one_error_line(portal: Portal, args: list[str], words: list[str]) -> None:
    assert_one_error_line(run_serve(portal, *args), *words)


def test_a_port_in_use_is_one_error_line(portal: Portal, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_serve(
            portal, "--listen", f"127.0.0.1:{port}", "--host-key", str(tmp_path / "key")
        )
    assert_one_error_line(done, f"cannot listen on 127.0.0.1:{port}")


def test_a_database_that_cannot_open_is_one_error_line(portal: Portal, tmp_path: Path) -> None:
    env = dict(portal.env, TUI_PORTAL_SECRET_KEY="not a key")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_portal",
            "--db",
            str(tmp_path / "other.db"),
            "serve",
            "ssh",
            "--listen",
            "127.0.0.1:0",
            "--host-key",
            str(tmp_path / "key"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_error_line(done)
    assert "Traceback" not in done.stderr


def test_demo_serves_the_demo_database_with_the_default_host_key(
    portal: Portal, clients: Clients, tmp_path: Path
) -> None:
    env = {k: v for k, v in portal.env.items() if k != "TUI_PORTAL_SECRET_KEY"}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    key = tmp_path / "config" / "tui-portal" / "ssh_host_ed25519_key"
    served = start_server(["--demo"], ["--listen", "127.0.0.1:0"], env, tmp_path, key, name="demo")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "data" / "tui-portal" / "demo.db").exists()
    username, password, _ = DEMO_ACCOUNTS[0]
    terminal = clients.connect(served, size=(100, 30))
    terminal.wait_for(password)  # the sign-in screen lists the demo accounts
    terminal.send(username + "\r" + password + "\r")
    terminal.wait_for("MFA: Disabled")
    terminal.send("\x11")
    assert terminal.exit_status() == 0
    assert served.stop() == 0
    assert not os.path.exists(tmp_path / "portal.db")
