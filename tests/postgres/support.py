"""Helpers for the PostgreSQL tests: the shared world and settings, for a database URL.

Kept apart from the fixtures so that worker processes import only this and the portal.
"""

from __future__ import annotations

from tests.world import (
    ACME,
    GLOBEX,
    ISSUER,
    OPERATOR,
    SOURCE,
    START,
    World,
    build_world,
    cheap_passwords,
    code_at,
    new_key,
    open_on,
    settings_for,
)

__all__ = [
    "ACME",
    "GLOBEX",
    "ISSUER",
    "OPERATOR",
    "SOURCE",
    "START",
    "World",
    "build_world",
    "cheap_passwords",
    "code_at",
    "new_key",
    "open_on",
    "settings_for",
]
