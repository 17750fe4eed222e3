"""The schema: the migration matches the models, upgrading is idempotent; no UI in the core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tui_portal.data.engine import make_engine
from tui_portal.data.models import Base
from tui_portal.data.schema import ensure_schema, head_revision
from tui_portal.errors import DatabaseError


def test_the_migration_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_ensure_schema_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO portal_meta (key, value) VALUES ('k', 'v')"))
        tables = set(inspect(engine).get_table_names())
        ensure_schema(engine)
        ensure_schema(engine)
        assert set(inspect(engine).get_table_names()) == tables
        assert {
            "organisations",
            "users",
            "memberships",
            "mfa_credentials",
            "throttles",
            "audit_events",
            "portal_meta",
            "alembic_version",
        } <= tables
        with engine.connect() as connection:
            value = connection.execute(text("SELECT value FROM portal_meta WHERE key = 'k'"))
            assert value.scalar_one() == "v"
    finally:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(DatabaseError, match="newer than this tui-portal knows"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 1000
    finally:
        engine.dispose()


IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import tui_portal.services.portal
modules = ["tui_portal.config"]
for package in ("tui_portal.services", "tui_portal.security", "tui_portal.data"):
    found = importlib.import_module(package)
    for info in pkgutil.walk_packages(found.__path__, package + "."):
        # The Alembic environment runs migrations when imported; only Alembic loads it.
        if info.name != "tui_portal.data.migrations.env":
            modules.append(info.name)
for name in modules:
    importlib.import_module(name)
print(json.dumps({
    "imported": modules,
    "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
}))
"""


def test_the_service_core_never_imports_textual() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["textual"] == []
    imported = set(report["imported"])
    for expected in (
        "tui_portal.services.signin",
        "tui_portal.services.mfa",
        "tui_portal.services.directory",
        "tui_portal.services.importer",
        "tui_portal.security.totp",
        "tui_portal.security.secret_box",
        "tui_portal.data.models",
        "tui_portal.data.schema",
    ):
        assert expected in imported


def test_an_older_database_is_upgraded_its_events_chained_and_its_plain_throttles_dropped(
    tmp_path: Path,
) -> None:
    """A database made before the chain: its events are chained in order, with the key."""
    from alembic import command
    from alembic.config import Config

    from tests.world import new_key, settings_for
    from tui_portal.data.schema import MIGRATIONS
    from tui_portal.services.portal import open_portal

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (username, username_key, name, name_key, email, email_key,"
                    " password_hash, is_account_manager, created_at) VALUES ('ann', 'ann', '', '',"
                    " '', '', 'x', 0, '2026-11-01 10:00:00.000000')"
                )
            )
            for at, event in (
                ("2026-11-01 10:00:00.000000", "user_created"),
                ("2026-11-02 10:00:00.000000", "sign_in_succeeded"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (at, event, actor, target, org, detail)"
                        " VALUES (:at, :event, 'ann', 'ann', '', '')"
                    ),
                    {"at": at, "event": event},
                )
            connection.execute(
                text(
                    "INSERT INTO throttles (subject, failures, window_failures)"
                    " VALUES ('MyPasswordTypedAsName', 3, 3)"
                )
            )
    finally:
        engine.dispose()
    portal = open_portal(settings_for(url, new_key(), tmp_path))
    try:
        report = portal.audit.verify()
        assert report.intact and report.events == 2
        assert [(r.seq, r.event) for r in portal.audit.trail()] == [
            (1, "user_created"),
            (2, "sign_in_succeeded"),
        ]
        with portal.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM throttles").scalar() == 0
            owner = connection.exec_driver_sql(
                "SELECT target_user_id FROM audit_events WHERE seq = 1"
            ).scalar()
            assert owner == 1
    finally:
        portal.close()
    # Not even in the file's free pages: the old rows are overwritten, not just unlinked.
    for path in tmp_path.glob("old.db*"):
        assert b"MyPasswordTypedAsName" not in path.read_bytes(), path
