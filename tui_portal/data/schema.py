"""Create or upgrade the schema with Alembic, cheaply when it is already current."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tui_portal.data.engine import make_url_safe, writing
from tui_portal.errors import DatabaseError

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x7475692D706F7274  # PostgreSQL advisory lock key: "tui-port" in ASCII


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest migration this version of the portal knows."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


AuditSealer = Callable[[str, Mapping[str, object]], str]
"""Chains one audit event: (the previous event's hash, this event's fields) -> its hash."""


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; ``None`` for a new, empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        raise _cannot_open(engine, error) from error


def _cannot_open(engine: Engine, error: SQLAlchemyError) -> DatabaseError:
    return DatabaseError(
        f"cannot open database {make_url_safe(str(engine.url))}: {error.__class__.__name__}: "
        f"{getattr(error, 'orig', error)}"
    )


def ensure_schema(engine: Engine, *, audit_sealer: AuditSealer | None = None) -> None:
    """Bring the database to the newest schema; a no-op when it is there already.

    ``audit_sealer`` chains audit events written before the trail was chained; the portal
    passes it (it holds the secrets key), and it is only used when there are such events.
    """
    config = _alembic_config()
    config.attributes["audit_sealer"] = audit_sealer
    head = head_revision()
    try:
        with engine.begin() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        # Processes opening a new database at once take turns: one migrates while holding
        # the write lock (SQLite) or an advisory lock (PostgreSQL), and the others then find
        # the schema current.
        with writing(engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                # The same on PostgreSQL, with a lock held until this transaction ends.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            current = MigrationContext.configure(connection).get_current_revision()
            if current == head:
                return
            known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
            if current is not None and current not in known:
                raise DatabaseError(
                    f"the database is at schema {current}, newer than this tui-portal knows; "
                    "upgrade tui-portal"
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as error:
        raise _cannot_open(engine, error) from error
