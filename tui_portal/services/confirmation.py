"""Re-checking a signed-in person's password before a sensitive change.

It counts like any other attempt: claimed on the account's and the source's counters
before argon2 runs, given back when the password is right, audited when it is wrong.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import User
from tui_portal.errors import IncorrectPassword
from tui_portal.security.passwords import Passwords
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.results import Caller
from tui_portal.services.sessions import Sessions
from tui_portal.services.throttling import Claim, ThrottleStore

MAX_PASSWORD_INPUT = 1024  # longer input is refused before any hashing


class PasswordConfirmation:
    """Confirms the caller's own password, under the throttle."""

    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        sessions: Sessions,
        throttles: ThrottleStore,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._sessions = sessions
        self._throttles = throttles
        self._audit = audit

    def confirm(
        self,
        caller: Caller,
        password: str,
        *,
        account: User | None = None,
        enrolling: bool = False,
    ) -> Claim:
        """Return when ``password`` is the caller's; otherwise ``IncorrectPassword`` (or
        ``Throttled`` / ``Locked`` before any check).

        ``account`` is the caller's row if the caller has just read it (saves a read). The
        claim returned is still counted: settle it with :meth:`settle_in` in the same
        transaction as the change the password allows, so that the change and the attempt
        given back commit together.
        """
        if account is None:
            with self._db.read() as session:
                account = self._sessions.require(session, caller, enrolling=enrolling)
        username, stored, user_id = account.username, account.password_hash, account.id
        claim = self._throttles.claim(
            (
                self._throttles.source(caller.source),
                self._throttles.account(username, known=True),
            )
        )
        well_formed = 0 < len(password) <= MAX_PASSWORD_INPUT
        if well_formed and self._passwords.verify(stored, password).matched:
            return claim
        self.failed(claim, caller, username, user_id, Event.PASSWORD_CONFIRM_FAILED)
        raise IncorrectPassword()

    def settle_in(self, session: Session, claim: Claim) -> None:
        """The password was right and the change is being made: give the attempt back."""
        self._throttles.refund_in(session, claim)

    def failed(
        self, claim: Claim, caller: Caller, username: str, user_id: int, event: Event
    ) -> None:
        """Record a failed attempt of a signed-in person (and the lock it may have caused)."""
        where = Where.of_caller(caller, username)
        with self._db.write() as session:
            self._audit.record(session, event, where, target=username, target_user_id=user_id)
            if claim.locks:
                self._audit.record(
                    session, Event.ACCOUNT_LOCKED, where, target=username, target_user_id=user_id
                )
