"""A person's own account, and what an operator may do to one: passwords and locks.

- **Change password** (a signed-in person): the current password first (under the
  throttle), then a new one by the rules of :func:`tui_portal.services.validation.
  check_password` (the common-password list among them); the account's other sessions end.
- **Set password** (an operator, ``user set-password``): every session of the account ends.
- **Unlock** (an operator, ``user unlock``): the account's failed-attempt counter, and any
  lock on it, is forgotten.
"""

from __future__ import annotations

from tui_portal.data.engine import Database
from tui_portal.errors import InvalidInput, NothingToChange
from tui_portal.security.passwords import Passwords
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.clock import Clock
from tui_portal.services.confirmation import PasswordConfirmation
from tui_portal.services.lookups import get_user
from tui_portal.services.results import Caller, Operator
from tui_portal.services.sessions import Sessions
from tui_portal.services.throttling import ThrottleStore


class Accounts:
    """Password changes and resets, and unlocking."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        passwords: Passwords,
        sessions: Sessions,
        confirmation: PasswordConfirmation,
        throttles: ThrottleStore,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._clock = clock
        self._passwords = passwords
        self._sessions = sessions
        self._confirmation = confirmation
        self._throttles = throttles
        self._audit = audit

    def change_password(self, caller: Caller, *, current: str, new: str) -> int:
        """Replace the caller's password; returns how many other sessions were ended."""
        rules.check_password(new)
        if new == current:
            raise InvalidInput("The new password must differ from the current one")
        claim = self._confirmation.confirm(caller, current)
        new_hash = self._passwords.hash(new)
        with self._db.write() as session:
            user = self._sessions.require(session, caller)
            self._confirmation.settle_in(session, claim)
            user.password_hash = new_hash
            user.password_changed_at = self._clock()
            where = Where.of_caller(caller, user.username)
            ended = self._sessions.end_all_in(
                session, user, reason="password_changed", where=where, keep=caller.session_id
            )
            self._audit.record(
                session,
                Event.PASSWORD_CHANGED,
                where,
                target=user.username,
                target_user_id=user.id,
            )
            return ended

    def set_password(self, username: str, password: str, *, operator: Operator) -> int:
        """An operator sets a user's password; returns how many sessions were ended."""
        rules.check_password(password)
        with self._db.read() as session:
            get_user(session, username)
        new_hash = self._passwords.hash(password)
        with self._db.write() as session:
            user = get_user(session, username)
            user.password_hash = new_hash
            user.password_changed_at = self._clock()
            where = Where.of_operator(operator)
            ended = self._sessions.end_all_in(session, user, reason="password_set", where=where)
            self._audit.record(
                session,
                Event.PASSWORD_SET_BY_OPERATOR,
                where,
                target=user.username,
                target_user_id=user.id,
            )
            return ended

    def unlock(self, username: str, *, operator: Operator) -> None:
        """An operator ends an account's sign-in throttle or lock."""
        with self._db.write() as session:
            user = get_user(session, username)
            if not self._throttles.clear(
                session, self._throttles.account(user.username, known=True)
            ):
                raise NothingToChange(f"{user.username} has no failed attempts to forget")
            self._audit.record(
                session,
                Event.ACCOUNT_UNLOCKED,
                Where.of_operator(operator),
                target=user.username,
                target_user_id=user.id,
            )
