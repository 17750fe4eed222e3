"""Throttle state in the database, one row per username, updated atomically.

The rule itself lives in :mod:`tui_portal.security.throttle`; this module stores what it
needs. Rows are keyed by the case-folded username whether or not the account exists, so a
throttled answer reveals nothing about who has an account.
"""

from __future__ import annotations

from sqlalchemy import case, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.data.models import Throttle
from tui_portal.security import throttle as rule
from tui_portal.services.clock import Clock


class ThrottleStore:
    """Reads and records failures for a subject (a case-folded username)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def wait_seconds(self, subject: str) -> int:
        """Whole seconds the subject must wait before its next attempt; 0 when it may try."""
        wait = rule.wait_before_next_attempt(self.state(subject), self._clock())
        return rule.whole_seconds(wait)

    def record_failure(self, subject: str) -> None:
        """Count one more failure, atomically even when several processes fail at once."""
        now = self._clock()
        window_open = Throttle.window_started_at > now - rule.WINDOW
        statement = (
            update(Throttle)
            .where(Throttle.subject == subject)
            .values(
                failures=Throttle.failures + 1,
                last_failure_at=now,
                window_failures=case((window_open, Throttle.window_failures + 1), else_=1),
                window_started_at=case((window_open, Throttle.window_started_at), else_=now),
            )
            .execution_options(synchronize_session=False)
        )
        for _attempt in range(3):
            with self._sessions.begin() as session:
                if session.execute(statement).rowcount:  # type: ignore[attr-defined]
                    return
            try:
                with self._sessions.begin() as session:
                    session.add(
                        Throttle(
                            subject=subject,
                            failures=1,
                            last_failure_at=now,
                            window_started_at=now,
                            window_failures=1,
                        )
                    )
                return
            except IntegrityError:  # another process inserted it first: update theirs
                continue

    def reset(self, subject: str, session: Session) -> None:
        """Forget the failures of a subject that has just succeeded."""
        session.execute(delete(Throttle).where(Throttle.subject == subject))

    def state(self, subject: str) -> rule.ThrottleState:
        """The stored state, for reports and tests."""
        with self._sessions() as session:
            row = session.get(Throttle, subject)
            if row is None:
                return rule.ThrottleState()
            return rule.ThrottleState(
                row.failures, row.last_failure_at, row.window_started_at, row.window_failures
            )
