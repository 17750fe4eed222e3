"""The SSH door's view of :mod:`tui_portal.serving.session_config`, which both doors share:
the template process (and a cold-started session) learns the configuration from its
environment, so the secrets key never appears in a command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from tui_portal.serving.session_config import (
    SIGN_IN_DEADLINE,
    SessionConfig,
    SessionConfigError,
    deadline_from,
)

__all__ = [
    "SIGN_IN_DEADLINE",
    "SIGN_IN_DEADLINE_ENV",
    "SessionConfig",
    "SessionConfigError",
    "sign_in_deadline_from",
]

SIGN_IN_DEADLINE_ENV = "TUI_PORTAL_SSH_SIGN_IN_SECONDS"  # for testing: shortens the 2 minutes


def sign_in_deadline_from(env: Mapping[str, str]) -> timedelta:
    """The deadline to sign in over SSH: 2 minutes, unless a test shortened it."""
    return deadline_from(env, SIGN_IN_DEADLINE_ENV)
