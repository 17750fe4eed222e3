"""Settings for one run of the portal: where the database and the secrets key live, and the issuer.

The rules are those of the public contract: a command-line option wins over an environment
variable, which wins over the platform default (platformdirs, app name ``tui-portal``).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "tui-portal"
DEFAULT_ISSUER = "Developer Portal"
DATABASE_ENV = "TUI_PORTAL_DB"
SECRET_KEY_ENV = "TUI_PORTAL_SECRET_KEY"  # noqa: S105 - a variable name
KEY_FILE_ENV = "TUI_PORTAL_KEY_FILE"
ISSUER_ENV = "TUI_PORTAL_ISSUER"


@dataclass(frozen=True)
class KeySource:
    """Where the key that encrypts TOTP secrets comes from: an inline value or a file."""

    inline_value: str | None
    key_file: Path

    def describe(self) -> str:
        """Say where the key comes from, without revealing it."""
        if self.inline_value is not None:
            return f"${SECRET_KEY_ENV}"
        return str(self.key_file)


@dataclass(frozen=True)
class Settings:
    """Everything a command or the app needs to know about its environment."""

    database_url: str
    key_source: KeySource
    issuer: str


def user_data_dir() -> Path:
    """The per-user data folder (honours ``XDG_DATA_HOME``)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    """The per-user configuration folder (honours ``XDG_CONFIG_HOME``)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def database_url_from(value: str) -> str:
    """Turn a ``--db`` value into an SQLAlchemy URL: anything without ``://`` is a SQLite path."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    return f"sqlite:///{path.resolve()}"


def resolve_settings(
    *,
    db: str | None = None,
    issuer: str | None = None,
    demo: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Combine command-line values, the environment and the platform defaults."""
    env = os.environ if environ is None else environ
    if demo:
        database = str(user_data_dir() / "demo.db")
    else:
        database = db or env.get(DATABASE_ENV) or str(user_data_dir() / "portal.db")
    inline_key = env.get(SECRET_KEY_ENV) or None
    key_file = Path(env.get(KEY_FILE_ENV) or (user_config_dir() / "secret.key")).expanduser()
    return Settings(
        database_url=database_url_from(database),
        key_source=KeySource(inline_value=inline_key, key_file=key_file),
        issuer=issuer or env.get(ISSUER_ENV) or DEFAULT_ISSUER,
    )


def operating_system_user() -> str:
    """The name of the process's real user, from the account database (never from
    environment variables such as ``$USER`` or ``$LOGNAME``, which anyone can set)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def local_source() -> str:
    """Where a person running the portal in their own terminal is: ``local:NAME``."""
    return f"local:{operating_system_user()}"
