"""The one place that wires the services together over a database and a secrets key.

The command line, the terminal UI, the tests and the benchmarks all build their services
here, so each of them runs exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.config import Settings
from tui_portal.data.engine import make_engine, make_session_factory, make_url_safe
from tui_portal.data.models import PortalMeta
from tui_portal.data.schema import ensure_schema
from tui_portal.errors import DatabaseError, SecretKeyError
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import (
    SecretBox,
    describe_mismatch,
    load_or_create_key,
)
from tui_portal.services.audit import AuditLog
from tui_portal.services.clock import Clock, system_clock
from tui_portal.services.directory import Directory
from tui_portal.services.importer import UserImporter
from tui_portal.services.mfa import MfaService
from tui_portal.services.signin import SignInService
from tui_portal.services.throttling import ThrottleStore

KEY_FINGERPRINT = "secrets_key_fingerprint"


@dataclass(frozen=True)
class Portal:
    """Every service of one portal database, ready to use."""

    engine: Engine
    settings: Settings
    directory: Directory
    sign_in: SignInService
    mfa: MfaService
    audit: AuditLog
    importer: UserImporter
    passwords: Passwords

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def check_key(sessions: sessionmaker[Session], box: SecretBox, settings: Settings) -> None:
    """Remember the key's fingerprint on first use; afterwards refuse any other key."""
    try:
        with sessions.begin() as session:
            stored = session.get(PortalMeta, KEY_FINGERPRINT)
            if stored is None:
                session.add(PortalMeta(key=KEY_FINGERPRINT, value=box.fingerprint))
            elif not box.matches_fingerprint(stored.value):
                raise SecretKeyError(describe_mismatch(settings.key_source))
    except IntegrityError:  # another process remembered its key first: compare with that
        check_key(sessions, box, settings)


def open_portal(
    settings: Settings, *, clock: Clock = system_clock, passwords: Passwords | None = None
) -> Portal:
    """Open (creating or upgrading) the database, check the secrets key, build the services."""
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
        box = SecretBox(load_or_create_key(settings.key_source))
        sessions = make_session_factory(engine)
        try:
            check_key(sessions, box, settings)
        except SQLAlchemyError as error:
            raise DatabaseError(
                f"cannot use database {make_url_safe(settings.database_url)}: "
                f"{getattr(error, 'orig', error)}"
            ) from error
    except BaseException:
        engine.dispose()
        raise
    passwords = passwords or Passwords()
    audit = AuditLog(sessions, clock)
    throttles = ThrottleStore(sessions, clock)
    directory = Directory(sessions, clock, passwords, audit)
    return Portal(
        engine=engine,
        settings=settings,
        directory=directory,
        sign_in=SignInService(sessions, clock, passwords, box, throttles, audit),
        mfa=MfaService(sessions, clock, passwords, box, throttles, audit, settings.issuer),
        audit=audit,
        importer=UserImporter(sessions, clock, audit),
        passwords=passwords,
    )
