"""A few real runs of ``python -m tui_portal`` in its own process, with default argon2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUI_PORTAL_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["TUI_PORTAL_DB"] = str(tmp_path / "e2e.db")
    return env


def portal_cli(
    env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_portal", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_real_run_creates_and_lists_a_user(environment: dict[str, str], tmp_path: Path) -> None:
    done = portal_cli(
        environment,
        "user",
        "create",
        "alice",
        "--name",
        "[b]Alice[/b]",
        "--password-stdin",
        stdin="a real password\nnot this line\n",
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    done = portal_cli(environment, "user", "list", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == [
        {
            "username": "alice",
            "name": "[b]Alice[/b]",
            "email": "",
            "mfa_enabled": False,
            "account_manager": False,
            "organisations": [],
        }
    ]
    assert (tmp_path / "e2e.db").exists()
    assert (tmp_path / "config" / "tui-portal" / "secret.key").exists()
    assert not (tmp_path / "data" / "tui-portal" / "portal.db").exists()


def test_a_real_user_error_is_one_line(environment: dict[str, str]) -> None:
    done = portal_cli(environment, "user", "disable-mfa", "ghost")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["error: No user named 'ghost'"]
