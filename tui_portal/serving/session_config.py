"""What every session process of one server needs to know, and how it reaches them.

Both ways of serving the portal start one process per person (over SSH through a template
process, in a browser one per tab). Each learns the portal's settings from its environment,
the way the portal's own settings are given, so the secrets key never appears in a command
line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tui_portal.config import (
    DATABASE_ENV,
    ISSUER_ENV,
    KEY_FILE_ENV,
    SECRET_KEY_ENV,
    KeySource,
    Settings,
)

# Handed from a server to its session processes; never set by a person.
DEMO_ENV = "TUI_PORTAL_SESSION_DEMO"
DEADLINE_ENV = "TUI_PORTAL_SESSION_SIGN_IN_SECONDS"
SIGN_IN_DEADLINE = timedelta(minutes=2)


class SessionConfigError(ValueError):
    """A setting of the served sessions is unusable; the message says which."""


@dataclass(frozen=True)
class SessionConfig:
    """The portal's settings, whether it serves the demo, and the sign-in deadline."""

    settings: Settings
    demo: bool = False
    sign_in_deadline: timedelta = SIGN_IN_DEADLINE

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (the server's own environment by default) carrying this configuration."""
        env = dict(os.environ if base is None else base)
        env[DATABASE_ENV] = self.settings.database_url
        env[ISSUER_ENV] = self.settings.issuer
        source = self.settings.key_source
        env.pop(SECRET_KEY_ENV, None)
        if source.inline_value is not None:
            env[SECRET_KEY_ENV] = source.inline_value
        env[KEY_FILE_ENV] = str(source.key_file)
        env[DEMO_ENV] = "1" if self.demo else "0"
        env[DEADLINE_ENV] = repr(self.sign_in_deadline.total_seconds())
        return env

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> SessionConfig:
        """The configuration :meth:`environment` wrote."""
        settings = Settings(
            database_url=env[DATABASE_ENV],
            key_source=KeySource(
                inline_value=env.get(SECRET_KEY_ENV) or None, key_file=Path(env[KEY_FILE_ENV])
            ),
            issuer=env[ISSUER_ENV],
        )
        return cls(
            settings=settings,
            demo=env.get(DEMO_ENV) == "1",
            sign_in_deadline=deadline_from(env, DEADLINE_ENV),
        )


def deadline_from(env: Mapping[str, str], variable: str) -> timedelta:
    """The deadline to sign in: 2 minutes, unless ``variable`` (set for testing) shortens it."""
    value = env.get(variable)
    if not value:
        return SIGN_IN_DEADLINE
    try:
        seconds = float(value)
    except ValueError:
        raise SessionConfigError(f"{variable} must be a number of seconds") from None
    if not 0 < seconds <= SIGN_IN_DEADLINE.total_seconds():
        raise SessionConfigError(f"{variable} must be between 0 and 120 seconds")
    return timedelta(seconds=seconds)
