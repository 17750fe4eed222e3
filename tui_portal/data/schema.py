"""Create or upgrade the schema with Alembic, cheaply when it is already current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tui_portal.data.engine import make_url_safe
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


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is there already."""
    config = _alembic_config()
    head = head_revision()
    try:
        with engine.begin() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # Processes opening a new database at once take turns: one migrates while
                # holding the write lock, and the others then find the schema current.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
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
        raise DatabaseError(
            f"cannot open database {make_url_safe(str(engine.url))}: {error.__class__.__name__}: "
            f"{getattr(error, 'orig', error)}"
        ) from error
