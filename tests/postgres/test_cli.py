"""The command line against PostgreSQL: the operator's commands, and one clear line when the
server cannot be reached, with the password in the URL hidden."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui_portal.cli import main
from tui_portal.config import Settings
from tui_portal.services.portal import Portal, open_portal

from .cluster import free_port
from .support import cheap_passwords, new_key

PASSWORD_LINE = "a good cli password\n"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``tui-portal`` in this process with a key from the environment and cheap argon2."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("TUI_PORTAL_DB", "TUI_PORTAL_KEY_FILE", "TUI_PORTAL_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TUI_PORTAL_SECRET_KEY", new_key())

    def cheap_portal(settings: Settings) -> Portal:
        return open_portal(settings, passwords=cheap_passwords())

    def run_cli(*args: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = 0
        try:
            main(list(args), portal_factory=cheap_portal)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run_cli


def ok(result: Result) -> Result:
    assert (result.code, result.err) == (0, ""), result
    return result


def test_the_operator_commands_work_on_postgresql(run: Run, pg_url: str) -> None:
    db = ("--db", pg_url)
    assert "database ready: postgresql+psycopg://" in ok(run(*db, "init")).out
    ok(run(*db, "init"))
    ok(run(*db, "org", "create", "Acme Cloud"))
    ok(run(*db, "org", "create", "Globex Labs"))
    ok(
        run(
            *db,
            "user",
            "create",
            "alice",
            "--name",
            "Alice Émile",
            "--email",
            "alice@acme.example",
            "--password-stdin",
            stdin=PASSWORD_LINE,
        )
    )
    ok(
        run(
            *db,
            "user",
            "create",
            "sam",
            "--account-manager",
            "--password-stdin",
            stdin=PASSWORD_LINE,
        )
    )
    ok(run(*db, "org", "add-member", "ACME CLOUD", "Alice", "--admin"))

    ok(run(*db, "org", "require-mfa", "globex labs", "on"))
    assert json.loads(ok(run(*db, "org", "list", "--json")).out) == [
        {"name": "Acme Cloud", "mfa_required": False},
        {"name": "Globex Labs", "mfa_required": True},
    ]
    assert json.loads(ok(run(*db, "user", "list", "--json")).out) == [
        {
            "username": "alice",
            "name": "Alice Émile",
            "email": "alice@acme.example",
            "mfa_enabled": False,
            "account_manager": False,
            "organisations": [{"name": "Acme Cloud", "role": "admin"}],
        },
        {
            "username": "sam",
            "name": "",
            "email": "",
            "mfa_enabled": False,
            "account_manager": True,
            "organisations": [],
        },
    ]
    members = json.loads(ok(run(*db, "user", "list", "--org", "acme cloud", "--json")).out)
    assert [m["username"] for m in members] == ["alice"]
    trail = json.loads(ok(run(*db, "audit", "--json")).out)
    assert [e["event"] for e in trail] == [
        "organisation_created",
        "organisation_created",
        "user_created",
        "user_created",
        "membership_created",
        "mfa_policy_changed",
    ]
    assert all(e["at"].endswith("Z") for e in trail)
    assert ok(run(*db, "audit", "verify")).out.startswith("audit trail intact: 6 events\n")
    assert "last admin" in run(*db, "org", "remove-member", "Acme Cloud", "alice").err

    refused = run(*db, "org", "create", "acme cloud")
    assert refused.code != 0
    assert refused.err.splitlines() == [refused.err.strip()]
    assert refused.err.startswith("error: ")


def test_an_unreachable_server_is_one_line_without_the_password(run: Run) -> None:
    password = "s3cret-Pa55word"
    url = f"postgresql+psycopg://portal:{password}@127.0.0.1:{free_port()}/portal"
    for command in (["init"], ["user", "list", "--json"], ["org", "create", "Acme"]):
        result = run("--db", url, *command)
        assert result.code != 0, result
        assert result.out == ""
        lines = result.err.splitlines()
        assert len(lines) == 1, result.err
        assert lines[0].startswith("error: "), result.err
        assert "Traceback" not in result.err
        assert password not in result.err
        assert "127.0.0.1" in result.err
