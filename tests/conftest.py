"""Fixtures shared by the UI and snapshot tests: a small portal world on a temporary file.

Time is a ManualClock, argon2 runs with cheap parameters, and the secrets key is inline, so
nothing touches the person's own folders and no test sleeps for a TOTP window.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from argon2 import PasswordHasher

from tui_portal.app import PortalApp
from tui_portal.config import KeySource, Settings
from tui_portal.launch import make_app
from tui_portal.security import totp
from tui_portal.security.passwords import Passwords
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal

START = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
ACME = "Acme Cloud"
GLOBEX = "Globex Labs"
MARKUP_NAME = "[bold red]Bobby[/] Tables"


def cheap_passwords() -> Passwords:
    """argon2id with the smallest parameters: the same rules, fast tests."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@dataclass
class World:
    """A portal with two organisations and people in every role."""

    portal: Portal
    clock: ManualClock
    settings: Settings
    ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    PASSWORDS: ClassVar[dict[str, str]] = {
        "ada": "ada-password-1",
        "grace": "grace-password-1",
        "mia": "mia-password-1",
        "leo": "leo-password-1",
        "bobby": "bobby-password-1",
        "sam": "sam-password-1",
    }

    def code(self, username: str, steps_ahead: int = 0) -> str:
        """The code the person's authenticator shows now (or a few steps on)."""
        step = totp.time_step(self.clock().timestamp()) + steps_ahead
        return totp.code_at_step(self.secrets[username], step)

    def app(self, **kwargs: Any) -> PortalApp:
        """A fresh app over this world's portal."""
        return make_app(self.settings, clock=self.clock, portal=self.portal, **kwargs)

    def enrol(self, username: str) -> None:
        """Give a person an active authenticator, keeping its secret for the test."""
        user_id = self.ids[username]
        enrolment = self.portal.mfa.start_enrolment(user_id)
        self.secrets[username] = enrolment.secret
        self.portal.mfa.confirm_enrolment(user_id, enrolment.credential_id, self.code(username))
        self.clock.advance(30)


def build_world(tmp_path: Path) -> World:
    """Two organisations; ada admin of both, grace admin of Globex, members with and
    without MFA, a member whose name is markup, and sam the account manager."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        key_source=KeySource(inline_value=key, key_file=tmp_path / "unused.key"),
        issuer="Developer Portal",
    )
    clock = ManualClock(START)
    portal = open_portal(settings, clock=clock, passwords=cheap_passwords())
    world = World(portal=portal, clock=clock, settings=settings)
    directory = portal.directory
    for org in (ACME, GLOBEX):
        directory.create_organisation(org, actor="test")
    people = {
        "ada": ("Ada Lovelace", "ada@acme.example", False, [(ACME, "admin"), (GLOBEX, "admin")]),
        "grace": ("Grace Hopper", "grace@globex.example", False, [(GLOBEX, "admin")]),
        "mia": ("Mia Member", "mia@acme.example", False, [(ACME, "member")]),
        "leo": ("Leo Lost-Phone", "leo@acme.example", False, [(ACME, "member")]),
        "bobby": (MARKUP_NAME, "bobby@globex.example", False, [(GLOBEX, "member")]),
        "sam": ("Sam Support", "sam@portal.example", True, []),
    }
    for username, (name, email, manager, memberships) in people.items():
        account = directory.create_user(
            username,
            World.PASSWORDS[username],
            actor="test",
            name=name,
            email=email,
            account_manager=manager,
        )
        world.ids[username] = account.id
        for org, role in memberships:
            directory.add_member(org, username, role, actor="test")
    world.enrol("leo")
    return world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A fresh portal world for one test."""
    built = build_world(tmp_path)
    yield built
    built.portal.close()


@pytest.fixture
def fixed_secret(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Make new TOTP secrets predictable (snapshots of the QR code need one)."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    monkeypatch.setattr(totp, "new_secret", lambda: secret)
    return lambda: secret


async def settle(app: PortalApp, rounds: int = 3) -> None:
    """Let thread workers finish and their results reach the screen."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await asyncio.sleep(0.01)
        await app.workers.wait_for_complete()
