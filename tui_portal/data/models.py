"""SQLAlchemy 2 typed models: organisations, users, memberships, MFA credentials, throttles, audit.

Only the service layer touches these classes; the UI sees frozen dataclasses instead.
Lower-cased ``*_key`` columns hold the case-folded forms that searches and uniqueness use,
so that a prefix filter is an indexed range scan on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def key_string(length: int) -> String:
    """A case-folded key column. Keys compare code point by code point on every database, as
    SQLite does, so prefix ranges and username order never depend on a PostgreSQL server's
    locale (whose collation would, for one, sort "é" and "e" together)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints the same way."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organisation(Base):
    """An organisation that users belong to; its name is unique without regard to case."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(key_string(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class User(Base):
    """A person who signs in. Passwords are argon2id PHC strings; nothing else secret lives here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(key_string(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    name_key: Mapped[str] = mapped_column(key_string(100), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    email_key: Mapped[str] = mapped_column(key_string(254), default="", index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    is_account_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(Base):
    """A user's place in an organisation, with the role ``member`` or ``admin``."""

    __tablename__ = "memberships"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    # A copy of the member's case-folded username, so that one organisation's members are
    # listed in order straight from one index, without visiting the whole organisation.
    username_key: Mapped[str] = mapped_column(key_string(64))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        Index("ix_memberships_user_id", "user_id"),
        Index("ix_memberships_org_id_username_key", "org_id", "username_key"),
    )


class MfaCredential(Base):
    """A TOTP authenticator: ``pending`` until a code confirms it, then ``active``.

    The secret is AES-256-GCM ciphertext bound to this user and this credential id.
    ``last_step`` is the last accepted TOTP time step, the anchor of replay protection.
    """

    __tablename__ = "mfa_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_step: Mapped[int] = mapped_column(Integer, default=-1)

    __table_args__ = (UniqueConstraint("user_id", "status"),)


class Throttle(Base):
    """Failed sign-in attempts for one username (known or not), for passwords and codes alike."""

    __tablename__ = "throttles"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_failures: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """One security event. Append-only: the database refuses updates and deletes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100), default="")
    org: Mapped[str] = mapped_column(String(100), default="", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class PortalMeta(Base):
    """Small facts about the database itself, such as the fingerprint of its secrets key."""

    __tablename__ = "portal_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
