"""A small portal world shared by the UI, snapshot and PostgreSQL tests.

Two organisations and people in every role, on any database URL, with a manual clock,
cheap argon2 and an inline secrets key, so nothing touches the person's own folders and no
test sleeps for a TOTP window. It imports no UI, so spawned worker processes can use it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from argon2 import PasswordHasher

from tui_portal.config import KeySource, Settings
from tui_portal.security import totp
from tui_portal.security.passwords import Passwords
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import Account, Caller, CodeRequired, Operator, SignedIn

if TYPE_CHECKING:
    from tui_portal.app import PortalApp

# The start of a TOTP step, so step arithmetic stays obvious.
START = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
ISSUER = "Developer Portal"
OPERATOR = Operator("test")
SOURCE = "local:test"
ACME = "Acme Cloud"
GLOBEX = "Globex Labs"
MARKUP_NAME = "[bold red]Bobby[/] Tables"


def cheap_hasher() -> PasswordHasher:
    """argon2id with the smallest parameters: the same rules, a fraction of the cost."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def importable_hash(password: str = "imported password") -> str:
    """An argon2id hash an import accepts: the cheapest parameters within its bounds."""
    from tui_portal.security.passwords import IMPORT_BOUNDS

    hasher = PasswordHasher(
        time_cost=IMPORT_BOUNDS.min_memory_time // IMPORT_BOUNDS.min_memory_kib,
        memory_cost=IMPORT_BOUNDS.min_memory_kib,
        parallelism=1,
    )
    return hasher.hash(password)


def cheap_passwords() -> Passwords:
    """Passwords hashed with :func:`cheap_hasher`."""
    return Passwords(cheap_hasher())


def new_key() -> str:
    """A fresh secrets key in its text form (urlsafe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def settings_for(url: str, key: str, folder: Path) -> Settings:
    """Settings for a database URL and an inline key; the key file is never touched."""
    return Settings(
        database_url=url,
        key_source=KeySource(inline_value=key, key_file=folder / "unused.key"),
        issuer=ISSUER,
    )


def open_on(url: str, key: str, clock: ManualClock, folder: Path) -> Portal:
    """The portal over ``url``, as the command line and the app open it."""
    return open_portal(settings_for(url, key, folder), clock=clock, passwords=cheap_passwords())


def code_at(secret: str, moment: datetime, steps_ahead: int = 0) -> str:
    """The code an authenticator with ``secret`` shows at ``moment`` (or a few steps on)."""
    return totp.code_at_step(secret, totp.time_step(moment.timestamp()) + steps_ahead)


@dataclass
class World:
    """A portal with two organisations and people in every role."""

    portal: Portal
    clock: ManualClock
    settings: Settings
    key: str
    ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    recovery: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The recovery codes each person was given when MFA was enabled."""

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
        return code_at(self.secrets[username], self.clock(), steps_ahead)

    def app(
        self, *, heartbeat_seconds: float | None = None, portal: Portal | None = None, **kwargs: Any
    ) -> PortalApp:
        """A fresh terminal app over this world's portal (or over ``portal``, another host
        of the same database), its heartbeat every ``heartbeat_seconds`` when given."""
        from tui_portal.launch import make_app

        app = make_app(self.settings, clock=self.clock, portal=portal or self.portal, **kwargs)
        if heartbeat_seconds is not None:
            app.heartbeat_seconds = heartbeat_seconds
        return app

    def another_host(self) -> Portal:
        """The same database opened again, as a second app host would (its own pending
        sign-ins, its own connections); the caller closes it."""
        return open_portal(self.settings, clock=self.clock, passwords=cheap_passwords())

    def fail_sign_in(self, username: str, times: int, source: str = "ssh:203.0.113.7") -> None:
        """Someone types a wrong password for ``username``, ``times`` times, from ``source``."""
        from tui_portal.errors import InvalidCredentials

        for _ in range(times):
            try:
                self.portal.sign_in.sign_in(username=username, password="not-it-1", source=source)
            except InvalidCredentials:
                continue
            raise AssertionError("a wrong password was accepted")

    def signed_in(self, username: str, source: str = SOURCE) -> SignedIn:
        """Sign a person in through the services, with a code when they have MFA."""
        step = self.portal.sign_in.sign_in(
            username=username, password=self.PASSWORDS[username], source=source
        )
        if isinstance(step, CodeRequired):
            step = self.portal.sign_in.verify_code(token=step.token, code=self.code(username))
            self.clock.advance(totp.STEP_SECONDS)
        return step

    def account(self, username: str) -> Account:
        """The person's account as it is in the database now."""
        from tui_portal.services.lookups import load_account

        with self.portal.db.read() as session:
            return load_account(session, self.ids[username])

    def caller(self, username: str, source: str = SOURCE) -> Caller:
        """A live session of the person's, opened through the services."""
        return self.signed_in(username, source).caller

    def enrol(self, username: str) -> None:
        """Give a person an active authenticator, keeping its secret for the test."""
        caller = self.caller(username)
        enrolment = self.portal.mfa.start_enrolment(caller)
        self.secrets[username] = enrolment.secret
        enabled = self.portal.mfa.confirm_enrolment(
            caller, credential_id=enrolment.credential_id, code=self.code(username)
        )
        assert enabled.account.mfa_enabled and enabled.recovery_codes is not None
        self.recovery[username] = enabled.recovery_codes.codes
        self.portal.sessions.sign_out(caller)
        self.clock.advance(totp.STEP_SECONDS)


def build_world(url: str, folder: Path) -> World:
    """Two organisations; ada admin of both, grace admin of Globex, mia and leo (with MFA)
    members of Acme, bobby (a name that is markup) a member of Globex, and sam the account
    manager."""
    clock = ManualClock(START)
    key = new_key()
    settings = settings_for(url, key, folder)
    portal = open_portal(settings, clock=clock, passwords=cheap_passwords())
    world = World(portal=portal, clock=clock, settings=settings, key=key)
    directory = portal.directory
    for org in (ACME, GLOBEX):
        directory.create_organisation(org, operator=OPERATOR)
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
            operator=OPERATOR,
            name=name,
            email=email,
            account_manager=manager,
        )
        world.ids[username] = account.id
        for org, role in memberships:
            directory.add_member(org, username, role, operator=OPERATOR)
    world.enrol("leo")
    return world
