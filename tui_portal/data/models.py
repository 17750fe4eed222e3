"""SQLAlchemy 2 typed models: organisations, users, memberships, MFA, sessions, throttles, audit.

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
    """An organisation that users belong to; its name is unique without regard to case.

    ``mfa_required`` is its policy: members without MFA must enrol at their next sign-in.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(key_string(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """A person who signs in. Passwords are argon2id PHC strings; nothing else secret lives here.

    ``revision`` goes up whenever something a live session shows changes (roles,
    memberships, MFA), so every session notices with one indexed read. ``notified_through``
    is the last audit event the person has been told about at sign-in.
    """

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
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=0)
    notified_through: Mapped[int] = mapped_column(Integer, default=0)

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
    """Failed attempts of one subject: an account name (known or not) or a source address.

    ``subject`` is a keyed hash (HMAC) of the case-folded name or the address, never the
    text itself: people sometimes type their password into the Username field. A row is
    read and changed in one write transaction (the write lock on SQLite, ``FOR UPDATE`` on
    PostgreSQL), so processes on any number of hosts agree on who makes the next attempt.
    """

    __tablename__ = "throttles"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    known: Mapped[bool] = mapped_column(Boolean, default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    window_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditEvent(Base):
    """One security event. Append-only: the database refuses updates, deletes and replaces.

    Each event carries ``seq`` (one more than the event before it) and ``hash``, a keyed
    hash over its fields and the previous event's hash: a chain that nobody without the
    secrets key can extend, rewrite or shorten in the middle without ``audit verify``
    naming the first broken link.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100), default="")
    target_user_id: Mapped[int | None] = mapped_column(Integer)
    org: Mapped[str] = mapped_column(String(100), default="", index=True)
    source: Mapped[str] = mapped_column(String(100), default="")
    session_id: Mapped[str] = mapped_column(String(36), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_target_user_id_seq", "target_user_id", "seq"),)


class SignInSession(Base):
    """One signed-in session, known to every host: who, since when, from where, how.

    A session ends when its person signs out, from elsewhere ("Sign out other sessions"),
    when its MFA is disabled or its password changed or set by someone else, and 12 hours
    after it started however active. Every session reads its own row every few seconds.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(32))
    must_enrol: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    end_reason: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (Index("ix_sessions_user_id_ended_at", "user_id", "ended_at"),)


class RecoveryCode(Base):
    """One single-use recovery code, kept only as a keyed hash with its own salt."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PortalMeta(Base):
    """Small facts about the database itself, such as the fingerprint of its secrets key."""

    __tablename__ = "portal_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
