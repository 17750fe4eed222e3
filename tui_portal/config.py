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
from urllib.parse import quote

import platformdirs

from tui_portal.errors import InvalidInput

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
    """Turn a ``--db`` value into an SQLAlchemy URL: anything without ``://`` is a SQLite path.

    A path is percent-encoded into the URL, so characters such as ``?`` and ``#`` stay part
    of the file name. A URL is checked for the mistakes that would otherwise put part of a
    password into an error message (an ``@`` that is not percent-encoded) or end in a
    traceback (a port that is not a number); the message never repeats the URL.
    """
    if not value.strip():
        raise InvalidInput("the database must not be empty: give a file path or a URL")
    if "://" not in value:
        path = Path(value).expanduser().resolve()
        return "sqlite:///" + quote(str(path), safe="/")
    authority = value.split("://", 1)[1].split("/", 1)[0]
    if authority.count("@") > 1:
        raise InvalidInput(
            "the database URL has an '@' in its user name or password: write it as %40"
        )
    host_and_port = authority.rsplit("@", 1)[-1]
    if not host_and_port.startswith("["):  # an IPv6 address keeps its colons in brackets
        _, colon, port = host_and_port.partition(":")
        if colon and not port.isdigit():
            raise InvalidInput("the port in the database URL must be a number")
    return value


def check_issuer(issuer: str) -> str:
    """The issuer shown in authenticator apps: 1 to 100 printable characters without ':'
    (the otpauth label separates issuer and account with it)."""
    if not issuer.strip() or ":" in issuer or len(issuer) > 100 or not issuer.isprintable():
        raise InvalidInput("the issuer must be 1 to 100 printable characters without ':'")
    return issuer


def resolve_settings(
    *,
    db: str | None = None,
    issuer: str | None = None,
    demo: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Combine command-line values, the environment and the platform defaults.

    An empty ``--db`` or ``TUI_PORTAL_DB`` is refused rather than taken for the default;
    ``--issuer`` and ``TUI_PORTAL_ISSUER`` are checked by the same rules.
    """
    env = os.environ if environ is None else environ
    if demo:
        database = str(user_data_dir() / "demo.db")
    elif db is not None:
        database = db
    elif DATABASE_ENV in env:
        database = env[DATABASE_ENV]
    else:
        database = str(user_data_dir() / "portal.db")
    inline_key = env.get(SECRET_KEY_ENV) or None
    key_file = Path(env.get(KEY_FILE_ENV) or (user_config_dir() / "secret.key")).expanduser()
    chosen_issuer = issuer if issuer is not None else env.get(ISSUER_ENV, DEFAULT_ISSUER)
    return Settings(
        database_url=database_url_from(database),
        key_source=KeySource(inline_value=inline_key, key_file=key_file),
        issuer=check_issuer(chosen_issuer),
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
