"""Telling people what happened to their account: "Security activity" and the sign-in notice.

Both read the account's own events from the audit trail (``target_user_id``), newest first
for the activity, and since the last notice for the notice. The notice is built when a
sign-in completes, inside its transaction: it covers the events since the account's
watermark (``users.notified_through``) by anyone but the session signing in, and the
watermark moves past them, so the same events are never shown twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import AuditEvent, User
from tui_portal.services.audit import Event
from tui_portal.services.results import ActivityEntry, ActivityPage, Caller, SecurityNotice
from tui_portal.services.sessions import Sessions

ACTIVITY_PAGE = 20

_FAILURES = {
    Event.SIGN_IN_FAILED: ("failed sign-in attempt", "failed sign-in attempts"),
    Event.MFA_CODE_FAILED: ("wrong MFA or recovery code", "wrong MFA or recovery codes"),
    Event.PASSWORD_CONFIRM_FAILED: (
        "wrong password when confirming a change",
        "wrong passwords when confirming a change",
    ),
    Event.SIGN_IN_THROTTLED: (
        "attempt refused while throttled",
        "attempts refused while throttled",
    ),
}
_CHANGES = {
    Event.MFA_CODE_REPLAYED: "an MFA code was used a second time (someone may have seen it)",
    Event.MFA_DISABLED_BY_SELF: "MFA was disabled",
    Event.MFA_DISABLED_BY_ADMIN: "MFA was disabled",
    Event.MFA_DISABLED_BY_ACCOUNT_MANAGER: "MFA was disabled",
    Event.MFA_DISABLED_BY_OPERATOR: "MFA was disabled",
    Event.MFA_DEVICE_REPLACED: "the authenticator device was replaced",
    Event.RECOVERY_CODE_USED: "a recovery code was used",
    Event.PASSWORD_CHANGED: "the password was changed",
    Event.PASSWORD_SET_BY_OPERATOR: "the password was set",
    Event.ACCOUNT_LOCKED: "the account was locked after too many failures",
    Event.ACCOUNT_UNLOCKED: "the account was unlocked",
    Event.SESSIONS_REVOKED: "sessions were signed out",
}
_ANONYMOUS = frozenset({Event.MFA_CODE_REPLAYED.value, Event.ACCOUNT_LOCKED.value})
_ATTEMPTS = frozenset(
    event.value
    for event in (
        Event.SIGN_IN_FAILED,
        Event.SIGN_IN_THROTTLED,
        Event.MFA_CODE_FAILED,
        Event.MFA_CODE_REPLAYED,
        Event.ACCOUNT_LOCKED,
    )
)
"""Events of attempts made with the account's name, by whoever typed it."""
_CHANGE_NAMES = frozenset(event.value for event in _CHANGES)
NOTICE_EVENTS = frozenset(event.value for event in (*_FAILURES, *_CHANGES))

_DESCRIPTIONS = {
    Event.SIGN_IN_SUCCEEDED: "Signed in",
    Event.SIGN_IN_FAILED: "Failed sign-in (wrong password)",
    Event.SIGN_IN_THROTTLED: "Sign-in refused: too many failed attempts",
    Event.MFA_CODE_FAILED: "Wrong MFA code",
    Event.MFA_CODE_REPLAYED: "An MFA code was used a second time",
    Event.PASSWORD_CONFIRM_FAILED: "Wrong password when confirming a change",
    Event.MFA_ENROLMENT_STARTED: "Started setting up an authenticator",
    Event.MFA_ENROLMENT_CODE_FAILED: "Wrong code while setting up an authenticator",
    Event.MFA_ENABLED: "MFA enabled",
    Event.MFA_DEVICE_REPLACED: "Authenticator device replaced",
    Event.MFA_DISABLED_BY_SELF: "MFA disabled",
    Event.MFA_DISABLED_BY_ADMIN: "MFA disabled by an organisation admin",
    Event.MFA_DISABLED_BY_ACCOUNT_MANAGER: "MFA disabled by an account manager",
    Event.MFA_DISABLED_BY_OPERATOR: "MFA disabled by an operator",
    Event.RECOVERY_CODE_USED: "Signed in with a recovery code",
    Event.RECOVERY_CODES_GENERATED: "New recovery codes made",
    Event.PASSWORD_CHANGED: "Password changed",
    Event.PASSWORD_SET_BY_OPERATOR: "Password set by an operator",
    Event.ACCOUNT_LOCKED: "Account locked after too many failures",
    Event.ACCOUNT_UNLOCKED: "Account unlocked",
    Event.SESSIONS_REVOKED: "Sessions signed out",
    Event.USER_CREATED: "Account created",
    Event.MEMBERSHIP_CREATED: "Added to an organisation",
    Event.MEMBERSHIP_REMOVED: "Removed from an organisation",
    Event.ROLE_CHANGED: "Role changed",
}


def describe(event: str, org: str, detail: str) -> str:
    """One event of the account's own activity, in plain words."""
    try:
        known = Event(event)
    except ValueError:
        return event.replace("_", " ")
    words = _DESCRIPTIONS.get(known, event.replace("_", " "))
    if org:
        words += f" ({org})"
    if known in (Event.ROLE_CHANGED, Event.SESSIONS_REVOKED) and detail:
        words += f": {detail}"
    return words


def _who(actor: str, username: str) -> str:
    if not actor or actor == username:
        return "you"
    return actor


@dataclass(frozen=True)
class EventGroup:
    """Events of one kind, by one actor, from one source: what a notice line is made of."""

    event: str
    actor: str
    source: str
    count: int


def _sources(groups: Sequence[EventGroup]) -> str:
    places = sorted({group.source or "unknown" for group in groups})
    named = ", ".join(places[:3])
    return named + (f" and {len(places) - 3} more" if len(places) > 3 else "")


def build_notice(groups: Sequence[EventGroup], username: str) -> SecurityNotice | None:
    """The notice for the account's events since its last notice, or ``None``."""
    lines: list[str] = []
    for event, (one, many) in _FAILURES.items():
        matching = [group for group in groups if group.event == event.value]
        if matching:
            count = sum(group.count for group in matching)
            lines.append(f"{count} {one if count == 1 else many} (from {_sources(matching)})")
    for group in groups:
        words = _CHANGES.get(Event(group.event)) if group.event in _CHANGE_NAMES else None
        if words is None:
            continue
        sentence = words[0].upper() + words[1:]
        times = f" ({group.count} times)" if group.count > 1 else ""
        if group.event in _ANONYMOUS:  # done with the account's name, by whoever typed it
            lines.append(f"{sentence}{times} (from {group.source or 'unknown'})")
            continue
        who = _who(group.actor, username)
        by = "by you, in another session" if who == "you" else f"by {who}"
        lines.append(f"{sentence} {by}{times} ({group.source or 'unknown'})")
    return SecurityNotice(tuple(lines)) if lines else None


class Activity:
    """An account's own events, for the profile and for the sign-in notice."""

    def __init__(self, db: Database, sessions: Sessions) -> None:
        self._db = db
        self._sessions = sessions

    def recent(
        self, caller: Caller, *, older_than: int | None = None, limit: int = ACTIVITY_PAGE
    ) -> ActivityPage:
        """A page of the caller's own events, newest first."""
        limit = max(1, min(limit, 100))
        with self._db.read() as session:
            user = self._sessions.require(session, caller, enrolling=True)
            query = select(AuditEvent).where(AuditEvent.target_user_id == user.id)
            if older_than is not None:
                query = query.where(AuditEvent.seq < older_than)
            rows = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
            entries = tuple(
                ActivityEntry(
                    seq=row.seq,
                    at=row.at,
                    what=describe(row.event, row.org, row.detail),
                    by=_who(row.actor, user.username),
                    source=row.source,
                    attempt=row.event in _ATTEMPTS,
                )
                for row in rows[:limit]
            )
            older = rows[limit - 1].seq if len(rows) > limit else None
            return ActivityPage(entries, older)

    @staticmethod
    def notice_in(
        session: Session, user: User, *, session_id: str
    ) -> tuple[SecurityNotice | None, int]:
        """The notice for a sign-in completing in ``session``'s transaction, and the new
        watermark (the newest of the account's events it has seen), in one query. Call it
        before recording the sign-in's own events: they are the next notice's to tell (a
        recovery code used)."""
        groups = session.execute(
            select(
                AuditEvent.event,
                AuditEvent.actor,
                AuditEvent.source,
                func.count(),
                func.max(AuditEvent.seq),
            )
            .where(
                AuditEvent.target_user_id == user.id,
                AuditEvent.seq > user.notified_through,
                AuditEvent.session_id != session_id,
            )
            .group_by(AuditEvent.event, AuditEvent.actor, AuditEvent.source)
            .order_by(func.min(AuditEvent.seq))
        ).all()
        if not groups:
            return None, user.notified_through
        newest = max(group[4] for group in groups)
        noticed = [EventGroup(*group[:4]) for group in groups if group[0] in NOTICE_EVENTS]
        return build_notice(noticed, user.username), newest
