"""Sessions, recovery codes, MFA policy, hashed throttle subjects, and a chained audit trail.

- ``sessions``: every signed-in session, so that any host can end any session.
- ``recovery_codes``: single-use codes, kept as keyed hashes with their own salts.
- ``organisations.mfa_required``; ``users.password_changed_at``, ``revision`` and
  ``notified_through``.
- ``throttles`` is recreated: its rows were keyed by the name as typed, which is sometimes
  a password typed in the wrong field. The new rows are keyed by a keyed hash. The old
  rows (and any counts in them) are dropped.
- ``audit_events`` gains where each event came from (``source``, ``session_id``), the
  account it concerns (``target_user_id``), and the chain (``seq``, ``prev_hash``,
  ``hash``). Existing events are chained in order by the sealer that the portal hands the
  migration (it holds the secrets key; this module never sees the key). SQLite also gains a
  guard against ``REPLACE INTO``, which would otherwise rewrite rows without firing the
  delete trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlalchemy as sa
from alembic import context, op

from tui_portal.data.models import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
Sealer = Callable[[str, Mapping[str, object]], str]
GENESIS = "0" * 64
_UNCHAINED = ("id", "prev_hash", "hash")

SQLITE_GUARDS = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    # REPLACE deletes the row it conflicts with without firing delete triggers (unless
    # recursive_triggers is on, which no other connection can be made to set).
    """CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
       WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id OR seq = NEW.seq)
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
POSTGRESQL_GUARD = """CREATE TRIGGER audit_events_no_change
       BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"""
POSTGRESQL_TRUNCATE_GUARD = """CREATE TRIGGER audit_events_no_truncate
       BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"""


def _drop_guards(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")


def _create_guards(dialect: str) -> None:
    if dialect == "sqlite":
        for statement in SQLITE_GUARDS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRESQL_GUARD)
        op.execute(POSTGRESQL_TRUNCATE_GUARD)


def _seal_existing_events() -> None:
    """Chain the events written before this revision, oldest first."""
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("at", UtcDateTime()),
        sa.column("event", sa.String),
        sa.column("actor", sa.String),
        sa.column("target", sa.String),
        sa.column("target_user_id", sa.Integer),
        sa.column("org", sa.String),
        sa.column("source", sa.String),
        sa.column("session_id", sa.String),
        sa.column("detail", sa.Text),
        sa.column("seq", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    bind = op.get_bind()
    bind.execute(
        events.update().values(
            target_user_id=sa.select(users.c.id)
            .where(users.c.username == events.c.target)
            .scalar_subquery()
        )
    )
    rows = bind.execute(sa.select(events).order_by(events.c.at, events.c.id)).mappings().all()
    if not rows:
        return
    sealer: Sealer | None = context.config.attributes.get("audit_sealer")
    if sealer is None:
        raise RuntimeError("existing audit events need the portal's sealer to be chained")
    previous = GENESIS
    for seq, row in enumerate(rows, start=1):
        fields = {name: value for name, value in row.items() if name not in _UNCHAINED}
        fields["seq"] = seq
        digest = sealer(previous, fields)
        bind.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=previous, hash=digest)
        )
        previous = digest


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("mfa_required", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_changed_at", TZ, nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("notified_through", sa.Integer, nullable=False, server_default="0")
        )

    op.execute("DELETE FROM throttles")  # overwritten, with secure_delete, before the drop
    op.drop_table("throttles")
    op.create_table(
        "throttles",
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("known", sa.Boolean, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TZ, nullable=True),
        sa.Column("window_started_at", TZ, nullable=True),
        sa.Column("window_failures", sa.Integer, nullable=False),
        sa.Column("locked_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("subject", name="pk_throttles"),
    )
    op.create_index("ix_throttles_last_failure_at", "throttles", ["last_failure_at"])

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("must_enrol", sa.Boolean, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_sessions_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id_ended_at", "sessions", ["user_id", "ended_at"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_recovery_codes_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])

    _drop_guards(dialect)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer, nullable=True))
        batch.add_column(sa.Column("target_user_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("source", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("session_id", sa.String(36), nullable=False, server_default=""))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _seal_existing_events()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.Integer, nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_audit_events_seq", ["seq"])
        batch.create_index("ix_audit_events_target_user_id_seq", ["target_user_id", "seq"])
    _create_guards(dialect)


def downgrade() -> None:
    raise NotImplementedError("the chained audit trail cannot be un-chained")
