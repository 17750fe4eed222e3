"""Settings: a command-line value wins over the environment, which wins over the defaults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tui_portal.config import DEFAULT_ISSUER, database_url_from, resolve_settings
from tui_portal.errors import InvalidInput
from tui_portal.services import validation as rules


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def test_defaults_follow_the_xdg_folders(xdg: Path) -> None:
    settings = resolve_settings(environ={})
    assert settings.database_url == f"sqlite:///{xdg / 'data' / 'tui-portal' / 'portal.db'}"
    assert settings.key_source.inline_value is None
    assert settings.key_source.key_file == xdg / "config" / "tui-portal" / "secret.key"
    assert settings.issuer == DEFAULT_ISSUER == "Developer Portal"


def test_the_environment_overrides_the_defaults(xdg: Path) -> None:
    settings = resolve_settings(
        environ={
            "TUI_PORTAL_DB": "postgresql+psycopg://app@db.example/portal",
            "TUI_PORTAL_SECRET_KEY": "inline-key-text",
            "TUI_PORTAL_KEY_FILE": str(xdg / "k.key"),
            "TUI_PORTAL_ISSUER": "Acme Dev",
        }
    )
    assert settings.database_url == "postgresql+psycopg://app@db.example/portal"
    assert settings.key_source.inline_value == "inline-key-text"
    assert settings.key_source.describe() == "$TUI_PORTAL_SECRET_KEY"
    assert "inline-key-text" not in settings.key_source.describe()
    assert settings.issuer == "Acme Dev"
    from_file = resolve_settings(environ={"TUI_PORTAL_KEY_FILE": str(xdg / "k.key")})
    assert from_file.key_source.inline_value is None
    assert from_file.key_source.describe() == str(xdg / "k.key")


def test_options_override_the_environment(xdg: Path) -> None:
    settings = resolve_settings(
        db="flag.db",
        issuer="From Flag",
        environ={"TUI_PORTAL_DB": "env.db", "TUI_PORTAL_ISSUER": "From Env"},
    )
    assert settings.database_url == f"sqlite:///{Path('flag.db').resolve()}"
    assert settings.issuer == "From Flag"


def test_demo_uses_its_own_database(xdg: Path) -> None:
    settings = resolve_settings(demo=True, environ={"TUI_PORTAL_DB": "env.db"})
    assert settings.database_url == f"sqlite:///{xdg / 'data' / 'tui-portal' / 'demo.db'}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("/abs/portal.db", "sqlite:////abs/portal.db"),
    ],
)
def test_database_values(value: str, expected: str) -> None:
    assert database_url_from(value) == expected


def test_a_relative_or_home_path_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert database_url_from("rel/p.db") == f"sqlite:///{tmp_path / 'rel' / 'p.db'}"
    assert database_url_from("~/p.db") == f"sqlite:///{tmp_path / 'home' / 'p.db'}"


@pytest.mark.parametrize(
    ("rule", "longest"),
    [
        (rules.check_display_name, 100),
        (rules.check_org_name, 100),
        (rules.check_username, 64),
        (rules.check_password, 256),
        (rules.check_filter, 100),
    ],
)
def test_length_limits(rule: Callable[[str], str], longest: int) -> None:
    assert rule("a" * longest)
    with pytest.raises(InvalidInput):
        rule("a" * (longest + 1))


def test_the_shortest_values() -> None:
    assert rules.check_username("a") == "a"
    assert rules.check_password("a" * 8)
    with pytest.raises(InvalidInput):
        rules.check_password("a" * 7)
    with pytest.raises(InvalidInput):
        rules.check_org_name("")
    assert rules.check_display_name("") == ""
    assert rules.check_email("") == ""


@pytest.mark.parametrize(
    "name",
    ["[bold]x[/]", "Zoë O'Brien-Łukasz", "李小龍", "👩‍💻 dev", "a\u200db", "x" * 100],
)
def test_display_names_that_are_fine(name: str) -> None:
    assert rules.check_display_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "a\x1b[31mb", "a\u202eb", "a\u2028b", "a\u200bb", "a\ue000b", "a\x7fb", "a\tb"],
)
def test_display_names_that_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        rules.check_display_name(name)
