"""Case-folded key columns compare code point by code point on PostgreSQL, as on SQLite.

Under a server's locale collation, prefix ranges over these keys miss or add rows (a
prefix "é" missed "émile", a prefix "a" found "ångström") and usernames sort differently
from SQLite. Changing a column's collation rebuilds its indexes. Nothing changes on SQLite,
which compares text by code point already.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY_COLUMNS = [
    ("organisations", "name_key", 100),
    ("users", "username_key", 64),
    ("users", "name_key", 100),
    ("users", "email_key", 254),
    ("memberships", "username_key", 64),
]


def _set_collation(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in KEY_COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.String(length, collation=collation),
            existing_type=sa.String(length),
            existing_nullable=False,
        )


def upgrade() -> None:
    _set_collation("C")


def downgrade() -> None:
    _set_collation("default")
