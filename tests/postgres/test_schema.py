"""The schema on PostgreSQL: the migration matches the models, upgrading is idempotent, the
audit trail is append-only, and case-folded keys compare as they do on SQLite."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tui_portal.data.engine import make_engine
from tui_portal.data.models import Base
from tui_portal.data.schema import MIGRATIONS, ensure_schema, head_revision
from tui_portal.errors import DatabaseError
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import SignedIn

from .cluster import Cluster
from .support import OPERATOR, open_on

# As installed: the file ships with the package, for operators to run.
RUNTIME_GRANTS = resources.files("tui_portal.data") / "sql" / "postgresql_runtime_role.sql"

TABLES = {
    "organisations",
    "users",
    "memberships",
    "mfa_credentials",
    "throttles",
    "audit_events",
    "portal_meta",
    "alembic_version",
    "sessions",
    "recovery_codes",
}
KEY_COLUMNS = {
    ("organisations", "name_key"),
    ("users", "username_key"),
    ("users", "name_key"),
    ("users", "email_key"),
    ("memberships", "username_key"),
}


def test_the_migration_makes_the_schema_of_the_models(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert engine.dialect.name == "postgresql"
        ensure_schema(engine)
        assert set(inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_ensure_schema_is_idempotent(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO portal_meta (key, value) VALUES ('k', 'v')"))
        ensure_schema(engine)
        ensure_schema(engine)
        assert set(inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            assert connection.execute(text("SELECT value FROM portal_meta")).scalar_one() == "v"
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert versions.scalars().all() == [head_revision()]
    finally:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(DatabaseError, match="newer than this tui-portal knows"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_case_folded_keys_compare_code_point_by_code_point(pg_url: str) -> None:
    """Prefix ranges and username order must not depend on the server's locale."""
    engine = make_engine(pg_url)
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            collations = {
                (table, column): collation
                for table, column, collation in connection.execute(
                    text(
                        "SELECT table_name, column_name, collation_name"
                        " FROM information_schema.columns WHERE table_schema = 'public'"
                    )
                )
            }
    finally:
        engine.dispose()
    assert {column: collations[column] for column in KEY_COLUMNS} == dict.fromkeys(KEY_COLUMNS, "C")


def test_the_audit_trail_refuses_updates_and_deletes(
    pg_portal: Portal, clock: ManualClock, pg_url: str, key: str, tmp_path: Path
) -> None:
    pg_portal.directory.create_organisation("Acme", operator=OPERATOR)
    trail = pg_portal.audit.trail()
    assert [r.event for r in trail] == [Event.ORGANISATION_CREATED]
    with pg_portal.engine.connect() as connection:
        for statement in (
            "UPDATE audit_events SET actor = 'someone else'",
            "UPDATE audit_events SET detail = '' WHERE id = (SELECT min(id) FROM audit_events)",
            "DELETE FROM audit_events",
            "DELETE FROM audit_events WHERE event = 'organisation_created'",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(DBAPIError, match="audit_events is append-only"):
                connection.execute(text(statement))
            connection.rollback()
    # New events still go in, and the old one is unchanged, also for a second opening.
    pg_portal.directory.create_organisation("Beta", operator=OPERATOR)
    again = open_on(pg_url, key, clock, tmp_path)
    try:
        assert again.audit.trail()[0] == trail[0]
        assert [r.org for r in again.audit.trail()] == ["Acme", "Beta"]
    finally:
        again.close()


def test_a_database_made_before_the_key_collation_is_upgraded_in_place(pg_url: str) -> None:
    engine = make_engine(pg_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (username, username_key, name, name_key, email,"
                    " email_key, password_hash, is_account_manager, created_at)"
                    " VALUES ('Emile', 'emile', 'Émile', 'émile', '', '', 'x', false, now()),"
                    " ('ezra', 'ezra', 'Ezra', 'ezra', '', '', 'x', false, now())"
                )
            )
        ensure_schema(engine)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
            found = connection.execute(
                text("SELECT username FROM users WHERE name_key >= 'é' AND name_key < 'ê'")
            )
            assert found.scalars().all() == ["Emile"]
            ordered = connection.execute(text("SELECT name_key FROM users ORDER BY name_key"))
            assert ordered.scalars().all() == ["ezra", "émile"]
    finally:
        engine.dispose()


def test_a_runtime_role_can_only_add_to_and_read_the_trail(
    pg_url: str, postgres_cluster: Cluster, key: str, clock: ManualClock, tmp_path: Path
) -> None:
    """The set-up the README describes: the migrating role owns the schema; the app runs
    as a role granted what tui_portal/data/sql/postgresql_runtime_role.sql grants."""
    import psycopg
    from sqlalchemy.engine import make_url

    database = make_url(pg_url).database
    with psycopg.connect(postgres_cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE ROLE portal_owner LOGIN")
        admin.execute("CREATE ROLE portal_app LOGIN")
        admin.execute(f'ALTER DATABASE "{database}" OWNER TO portal_owner')
    owner_url = str(make_url(pg_url).set(username="portal_owner"))
    app_url = str(make_url(pg_url).set(username="portal_app"))
    try:
        open_on(owner_url, key, clock, tmp_path).close()  # `tui-portal init`, as the owner
        grants = RUNTIME_GRANTS.read_text(encoding="utf-8")
        as_owner = postgres_cluster.conninfo(database).replace("user=postgres", "user=portal_owner")
        with psycopg.connect(as_owner, autocommit=True) as owner:
            owner.execute(grants)
        app = open_on(app_url, key, clock, tmp_path)
        try:
            app.directory.create_organisation("Acme", operator=OPERATOR)
            app.directory.create_user("ann", "ann's good password", operator=OPERATOR)
            signed = app.sign_in.sign_in(
                username="ann", password="ann's good password", source="ssh:x"
            )
            assert isinstance(signed, SignedIn)
            with app.engine.connect() as connection:
                for statement in (
                    "TRUNCATE audit_events",
                    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                    "UPDATE audit_events SET actor = 'x'",
                    "DELETE FROM audit_events",
                    "DROP TABLE audit_events",
                ):
                    with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                        connection.execute(text(statement))
                    connection.rollback()
            report = app.audit.verify()
            assert report.intact and report.events == 3  # organisation, user, sign-in
        finally:
            app.close()
    finally:
        with psycopg.connect(postgres_cluster.conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute("DROP ROLE IF EXISTS portal_app")
            admin.execute("DROP ROLE IF EXISTS portal_owner")
