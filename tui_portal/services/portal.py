"""The one place that wires the services together over a database and a secrets key.

The command line, the terminal UI, the servers, the tests and the benchmarks all build
their services here, so each of them runs exactly the same code.

Opening a database: the secrets key is loaded (and checked against the fingerprint the
database keeps) *before* the schema is upgraded, since an upgrade may chain existing audit
events with a key derived from it; a missing key file is an error once the database has a
fingerprint, never silently replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tui_portal.config import Settings
from tui_portal.data.engine import Database, make_engine, make_url_safe
from tui_portal.data.models import PortalMeta
from tui_portal.data.schema import current_revision, ensure_schema
from tui_portal.errors import DatabaseError, SecretKeyError
from tui_portal.security.audit_chain import link_hash
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import SecretBox, derive_key, describe_mismatch, load_key
from tui_portal.services.accounts import Accounts
from tui_portal.services.activity import Activity
from tui_portal.services.audit import AuditLog
from tui_portal.services.clock import Clock, system_clock
from tui_portal.services.confirmation import PasswordConfirmation
from tui_portal.services.directory import Directory
from tui_portal.services.governance import Governance
from tui_portal.services.importer import UserImporter
from tui_portal.services.members import Members
from tui_portal.services.mfa import MfaService
from tui_portal.services.sessions import Sessions
from tui_portal.services.signin import SignInService
from tui_portal.services.throttling import ThrottleStore

KEY_FINGERPRINT = "secrets_key_fingerprint"


@dataclass(frozen=True)
class Portal:
    """Every service of one portal database, ready to use."""

    db: Database
    settings: Settings
    directory: Directory
    members: Members
    governance: Governance
    sign_in: SignInService
    sessions: Sessions
    mfa: MfaService
    accounts: Accounts
    activity: Activity
    audit: AuditLog
    importer: UserImporter
    passwords: Passwords
    throttles: ThrottleStore

    @property
    def engine(self) -> Engine:
        """The database engine (for tests and benchmarks that look underneath)."""
        return self.db.engine

    def close(self) -> None:
        """Release the database connections."""
        self.db.engine.dispose()


def _stored_fingerprint(db: Database) -> str | None:
    """The fingerprint of the key this database was set up with, if it has one yet."""
    if current_revision(db.engine) is None:
        return None
    with db.read() as session:
        return session.scalar(select(PortalMeta.value).where(PortalMeta.key == KEY_FINGERPRINT))


def _remember_fingerprint(db: Database, box: SecretBox, settings: Settings) -> None:
    """Keep the key's fingerprint on first use; afterwards refuse any other key."""
    try:
        with db.write() as session:
            stored = session.get(PortalMeta, KEY_FINGERPRINT)
            if stored is None:
                session.add(PortalMeta(key=KEY_FINGERPRINT, value=box.fingerprint))
            elif not box.matches_fingerprint(stored.value):
                raise SecretKeyError(describe_mismatch(settings.key_source))
    except IntegrityError:  # another process remembered its key first: compare with that
        _remember_fingerprint(db, box, settings)


def open_portal(
    settings: Settings, *, clock: Clock = system_clock, passwords: Passwords | None = None
) -> Portal:
    """Open (creating or upgrading) the database, check the secrets key, build the services."""
    engine = make_engine(settings.database_url)
    db = Database.over(engine)
    try:
        try:
            fingerprint = _stored_fingerprint(db)
        except SQLAlchemyError as error:
            raise _unusable(settings, error) from error
        key = load_key(settings.key_source, create=fingerprint is None)
        box = SecretBox(key)
        if fingerprint is not None and not box.matches_fingerprint(fingerprint):
            raise SecretKeyError(describe_mismatch(settings.key_source))
        audit_key = derive_key(key, "audit-chain")
        ensure_schema(engine, audit_sealer=partial(link_hash, audit_key))
        try:
            _remember_fingerprint(db, box, settings)
        except SQLAlchemyError as error:
            raise _unusable(settings, error) from error
    except BaseException:
        engine.dispose()
        raise
    return _assemble(db, settings, clock, passwords or Passwords(), box, key, audit_key=audit_key)


def _unusable(settings: Settings, error: SQLAlchemyError) -> DatabaseError:
    return DatabaseError(
        f"cannot use database {make_url_safe(settings.database_url)}: "
        f"{getattr(error, 'orig', error)}"
    )


def _assemble(
    db: Database,
    settings: Settings,
    clock: Clock,
    passwords: Passwords,
    box: SecretBox,
    key: bytes,
    *,
    audit_key: bytes,
) -> Portal:
    recovery_key = derive_key(key, "recovery-codes")
    audit = AuditLog(db, clock, audit_key)
    throttles = ThrottleStore(db, clock, derive_key(key, "throttle-subjects"))
    sessions = Sessions(db, clock, audit)
    confirmation = PasswordConfirmation(db, passwords, sessions, throttles, audit)
    return Portal(
        db=db,
        settings=settings,
        directory=Directory(db, clock, passwords, audit, throttles),
        members=Members(db, sessions),
        governance=Governance(db, sessions, confirmation, audit),
        sign_in=SignInService(db, clock, passwords, box, recovery_key, throttles, sessions, audit),
        sessions=sessions,
        mfa=MfaService(
            db,
            clock,
            box,
            recovery_key,
            throttles,
            sessions,
            confirmation,
            audit,
            settings.issuer,
        ),
        accounts=Accounts(db, clock, passwords, sessions, confirmation, throttles, audit),
        activity=Activity(db, sessions),
        audit=audit,
        importer=UserImporter(db, clock, audit, throttles),
        passwords=passwords,
        throttles=throttles,
    )
