"""Signing in: the password step, then (for accounts with MFA) the authenticator-code step.

Every failure says the same thing. Unknown usernames cost the same argon2 work as known
ones. Failures of either step count towards one throttle per username, and only a complete
sign-in clears it, so a known password does not buy more guesses at the code.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.data.models import MfaCredential, User
from tui_portal.errors import InvalidCode, InvalidCredentials, Throttled
from tui_portal.security import totp
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import SecretBox
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event
from tui_portal.services.clock import Clock
from tui_portal.services.directory import find_user, load_account
from tui_portal.services.results import CodeRequired, SignedIn, SignInStep
from tui_portal.services.throttling import ThrottleStore

PENDING_SIGN_IN_LIFETIME = timedelta(minutes=5)
MAX_SIGN_IN_INPUT = 1024  # longer input is refused before any hashing


@dataclass
class _PendingSignIn:
    user_id: int
    subject: str
    expires_at: datetime


def consume_code(
    session: Session,
    credential: MfaCredential,
    box: SecretBox,
    code: str,
    now: datetime,
    *,
    look_for_skew: bool = False,
) -> totp.CodeCheck:
    """Check a code against a credential and, when accepted, claim its time step.

    The claim is one conditional UPDATE (``last_step < step``), so of two processes racing
    the same code exactly one succeeds; the loser's answer is ``replayed``.
    """
    secret = box.open(
        credential.secret_ciphertext, user_id=credential.user_id, credential_id=credential.id
    )
    check = totp.check_code(
        secret, code, now.timestamp(), credential.last_step, look_for_skew=look_for_skew
    )
    if not check.accepted or check.step is None:
        return check
    claimed = session.execute(
        update(MfaCredential)
        .where(MfaCredential.id == credential.id, MfaCredential.last_step < check.step)
        .values(last_step=check.step)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return totp.CodeCheck(accepted=False, step=check.step, replayed=True)
    return check


class SignInService:
    """Runs the two sign-in steps. Pending sign-ins live in this process, used once each."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        passwords: Passwords,
        box: SecretBox,
        throttles: ThrottleStore,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._passwords = passwords
        self._box = box
        self._throttles = throttles
        self._audit = audit
        self._pending: dict[str, _PendingSignIn] = {}
        self._lock = threading.Lock()

    def _check_throttle(self, subject: str, username: str) -> None:
        """Refuse the attempt while the subject must wait. ``username`` is the account's own
        name, or "" for an unknown one: what people type as a username is sometimes a
        password, so unknown names never reach the audit trail."""
        wait = self._throttles.wait_seconds(subject)
        if wait > 0:
            self._audit.record_now(Event.SIGN_IN_THROTTLED, actor=username, target=username)
            raise Throttled(wait)

    def sign_in(self, username: str, password: str) -> SignInStep:
        """The password step: a complete sign-in, or a pending one that needs a code."""
        well_formed = (
            rules.USERNAME_PATTERN.fullmatch(username) is not None
            and 0 < len(password) <= MAX_SIGN_IN_INPUT
        )
        if not well_formed:
            if len(password) <= MAX_SIGN_IN_INPUT:
                self._passwords.burn_equal_time(password)
            raise InvalidCredentials()
        subject = rules.username_key(username)
        with self._sessions() as session:
            user = find_user(session, username)
            stored_hash = None if user is None else user.password_hash
            user_id = None if user is None else user.id
            known_name = "" if user is None else user.username
            has_mfa = user is not None and self._active_credential(session, user.id) is not None
        self._check_throttle(subject, known_name)
        if stored_hash is None or user_id is None:
            self._passwords.burn_equal_time(password)
            self._fail(subject, Event.SIGN_IN_FAILED, actor="", detail="unknown account")
            raise InvalidCredentials()
        check = self._passwords.verify(stored_hash, password)
        if not check.matched:
            self._fail(
                subject,
                Event.SIGN_IN_FAILED,
                actor=known_name,
                target=known_name,
                detail="wrong password",
            )
            raise InvalidCredentials()
        if check.new_hash is not None:
            with self._sessions.begin() as session:
                session.execute(
                    update(User).where(User.id == user_id).values(password_hash=check.new_hash)
                )
        if has_mfa:
            return self._start_pending(user_id, subject, username)
        return self._complete(user_id, subject, method="password")

    def verify_code(self, token: str, code: str) -> SignedIn:
        """The code step of a pending sign-in: used once, within 5 minutes."""
        now = self._clock()
        with self._lock:
            pending = self._pending.get(token)
            if pending is not None and pending.expires_at <= now:
                del self._pending[token]
                pending = None
        if pending is None:
            raise InvalidCode()
        with self._sessions() as session:
            username = session.scalar(select(User.username).where(User.id == pending.user_id))
        self._check_throttle(pending.subject, username or "")
        if not totp.is_well_formed(code):
            self._fail(
                pending.subject,
                Event.MFA_CODE_FAILED,
                actor=username or "",
                target=username or "",
                detail="malformed code",
            )
            raise InvalidCode()
        with self._sessions.begin() as session:
            credential = self._active_credential(session, pending.user_id)
            if credential is None:  # MFA was disabled meanwhile: start again
                check = totp.CodeCheck(accepted=False)
            else:
                check = consume_code(session, credential, self._box, code, now)
        if not check.accepted:
            event = Event.MFA_CODE_REPLAYED if check.replayed else Event.MFA_CODE_FAILED
            self._fail(pending.subject, event, actor=username or "", target=username or "")
            raise InvalidCode()
        with self._lock:
            if self._pending.pop(token, None) is None:  # raced by another submit of this token
                raise InvalidCode()
        return self._complete(pending.user_id, pending.subject, method="password and MFA code")

    def cancel(self, token: str) -> None:
        """Forget a pending sign-in (the person went back to the sign-in screen)."""
        with self._lock:
            self._pending.pop(token, None)

    # -- steps ------------------------------------------------------------------------

    @staticmethod
    def _active_credential(session: Session, user_id: int) -> MfaCredential | None:
        return session.scalar(
            select(MfaCredential).where(
                MfaCredential.user_id == user_id, MfaCredential.status == "active"
            )
        )

    def _start_pending(self, user_id: int, subject: str, username: str) -> CodeRequired:
        now = self._clock()
        token = secrets.token_urlsafe(32)
        expires_at = now + PENDING_SIGN_IN_LIFETIME
        with self._lock:
            for stale in [t for t, p in self._pending.items() if p.expires_at <= now]:
                del self._pending[stale]
            self._pending[token] = _PendingSignIn(user_id, subject, expires_at)
        return CodeRequired(token=token, username=username, expires_at=expires_at)

    def _complete(self, user_id: int, subject: str, *, method: str) -> SignedIn:
        with self._sessions.begin() as session:
            user = session.get(User, user_id)
            assert user is not None
            user.last_sign_in_at = self._clock()
            self._throttles.reset(subject, session)
            self._audit.record(
                session,
                Event.SIGN_IN_SUCCEEDED,
                actor=user.username,
                target=user.username,
                detail=method,
            )
            session.flush()
            return SignedIn(load_account(session, user_id))

    def _fail(
        self, subject: str, event: Event, *, actor: str, target: str = "", detail: str = ""
    ) -> None:
        self._throttles.record_failure(subject)
        self._audit.record_now(event, actor=actor, target=target, detail=detail)
