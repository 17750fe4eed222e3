"""Signed-in sessions that the database knows, so that every host sees the same truth.

A session is a row: whose, since when, last seen, from where, and how it signed in. It
ends when its person signs out or is signed out for being idle; from elsewhere ("Sign out
other sessions"); when the account's MFA is disabled or its password changed or set by
someone else; and 12 hours after it started however active (NIST SP 800-63B, AAL2). A live
session reads its own row every few seconds (one primary-key read) to learn that it has
ended or that what it shows (roles, memberships, MFA) has changed.

Every service call made for a signed-in person passes through :meth:`Sessions.require`
first, in the same transaction as the rest of the call: an ended session can do nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import SignInSession, User
from tui_portal.errors import PermissionDenied, SessionEnded
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.clock import Clock
from tui_portal.services.results import (
    Caller,
    SessionEndReason,
    SessionStatus,
    SessionSummary,
)

SESSION_LIFETIME = timedelta(hours=12)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)  # "last seen" is written at most this often
ENROL_FIRST = "Enable MFA first: your organisation requires it"
_REASONS: tuple[SessionEndReason, ...] = (
    "signed_out",
    "idle",
    "expired",
    "signed_out_elsewhere",
    "mfa_disabled",
    "password_changed",
    "password_set",
)


def _reason(value: str) -> SessionEndReason | None:
    return next((reason for reason in _REASONS if reason == value), None)


class Sessions:
    """Opens, checks, lists and ends sessions."""

    def __init__(self, db: Database, clock: Clock, audit: AuditLog) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit

    # -- inside other services' transactions ------------------------------------------

    def open_in(
        self, session: Session, user: User, *, source: str, method: str, must_enrol: bool
    ) -> SignInSession:
        """A new live session for ``user``, added to ``session``'s transaction."""
        now = self._clock()
        row = SignInSession(
            id=str(uuid.uuid4()),
            user_id=user.id,
            started_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            source=source,
            method=method,
            must_enrol=must_enrol,
            ended_at=None,
            end_reason="",
        )
        session.add(row)
        return row

    def require(self, session: Session, caller: Caller, *, enrolling: bool = False) -> User:
        """The caller's account, if their session is live; otherwise ``SessionEnded``.

        A session that must enrol MFA first (its organisation requires it) may only enrol:
        anything else is refused unless ``enrolling``.
        """
        found = session.execute(
            select(SignInSession, User)
            .join(User, User.id == SignInSession.user_id)
            .where(SignInSession.id == caller.session_id)
        ).first()
        if found is None:
            raise SessionEnded()
        row, user = found
        if row.user_id != caller.user_id or row.ended_at is not None:
            raise SessionEnded()
        if row.expires_at <= self._clock():
            raise SessionEnded()
        if row.must_enrol and not enrolling:
            raise PermissionDenied(ENROL_FIRST)
        return user

    def enrolled_in(self, session: Session, caller: Caller) -> None:
        """The caller's session has enrolled MFA: it is no longer held to enrolling."""
        session.execute(
            update(SignInSession)
            .where(SignInSession.id == caller.session_id)
            .values(must_enrol=False)
            .execution_options(synchronize_session=False)
        )

    def end_all_in(
        self,
        session: Session,
        user: User,
        *,
        reason: SessionEndReason,
        where: Where,
        keep: str | None = None,
    ) -> int:
        """End every live session of ``user`` (but ``keep``'s); audited with how many."""
        now = self._clock()
        conditions = [SignInSession.user_id == user.id, SignInSession.ended_at.is_(None)]
        if keep is not None:
            conditions.append(SignInSession.id != keep)
        ended = session.execute(
            update(SignInSession)
            .where(*conditions)
            .values(ended_at=now, end_reason=reason)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if ended:
            self._audit.record(
                session,
                Event.SESSIONS_REVOKED,
                where,
                target=user.username,
                target_user_id=user.id,
                detail=f"{ended} session{'' if ended == 1 else 's'} ({reason.replace('_', ' ')})",
            )
        return int(ended)

    # -- calls from a live session ----------------------------------------------------

    def heartbeat(self, caller: Caller, *, active: bool) -> SessionStatus:
        """The session's own row: still live? what revision is the account at?

        ``active`` (a key or click since the last heartbeat) moves "last seen" on, at most
        once a minute, so that a heartbeat is normally one primary-key read.
        """
        now = self._clock()
        if active:
            with self._db.write() as session:
                session.execute(
                    update(SignInSession)
                    .where(
                        SignInSession.id == caller.session_id,
                        SignInSession.ended_at.is_(None),
                        SignInSession.last_seen_at < now - LAST_SEEN_RESOLUTION,
                    )
                    .values(last_seen_at=now)
                    .execution_options(synchronize_session=False)
                )
        with self._db.read() as session:
            found = session.execute(
                select(
                    SignInSession.user_id,
                    SignInSession.ended_at,
                    SignInSession.end_reason,
                    SignInSession.expires_at,
                    User.revision,
                )
                .join(User, User.id == SignInSession.user_id)
                .where(SignInSession.id == caller.session_id)
            ).first()
        if found is None or found.user_id != caller.user_id:
            return SessionStatus(False, "signed_out_elsewhere", 0, now)
        if found.ended_at is not None:
            return SessionStatus(False, _reason(found.end_reason), found.revision, found.expires_at)
        if found.expires_at <= now:
            return SessionStatus(False, "expired", found.revision, found.expires_at)
        return SessionStatus(True, None, found.revision, found.expires_at)

    def live(self, caller: Caller) -> tuple[SessionSummary, ...]:
        """The account's live sessions, newest first, this one marked."""
        now = self._clock()
        with self._db.read() as session:
            self.require(session, caller, enrolling=True)
            rows = session.scalars(
                select(SignInSession)
                .where(
                    SignInSession.user_id == caller.user_id,
                    SignInSession.ended_at.is_(None),
                    SignInSession.expires_at > now,
                )
                .order_by(SignInSession.started_at.desc(), SignInSession.id)
            ).all()
            return tuple(
                SessionSummary(
                    id=row.id,
                    started_at=row.started_at,
                    last_seen_at=row.last_seen_at,
                    source=row.source,
                    method=row.method,
                    current=row.id == caller.session_id,
                )
                for row in rows
            )

    def sign_out(self, caller: Caller, *, reason: SessionEndReason = "signed_out") -> None:
        """End the caller's own session (signing out, idle, or past its lifetime)."""
        with self._db.write() as session:
            session.execute(
                update(SignInSession)
                .where(
                    SignInSession.id == caller.session_id,
                    SignInSession.user_id == caller.user_id,
                    SignInSession.ended_at.is_(None),
                )
                .values(ended_at=self._clock(), end_reason=reason)
                .execution_options(synchronize_session=False)
            )

    def sign_out_others(self, caller: Caller) -> int:
        """End every other live session of the caller's account; how many ended."""
        with self._db.write() as session:
            user = self.require(session, caller, enrolling=True)
            where = Where(user.username, caller.source, caller.session_id)
            return self.end_all_in(
                session, user, reason="signed_out_elsewhere", where=where, keep=caller.session_id
            )
