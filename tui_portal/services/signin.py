"""Signing in: the password step, then (for accounts with MFA) a code or a recovery code.

Every failure says the same thing. Unknown usernames cost the same argon2 work as known
ones. Every attempt is claimed on its account's and its source's counters before it is
checked (see :mod:`tui_portal.services.throttling`); only a complete sign-in starts the
account's counter afresh, so a known password does not buy more guesses at the code. A
complete sign-in opens a session row, records the event, and builds the notice of what
happened since the last sign-in, all in one transaction.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import MfaCredential, RecoveryCode, User
from tui_portal.errors import (
    InvalidCode,
    InvalidCredentials,
    InvalidRecoveryCode,
    Locked,
    PortalError,
    Throttled,
)
from tui_portal.security import recovery_codes, totp
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import SecretBox
from tui_portal.services import validation as rules
from tui_portal.services.activity import Activity
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.clock import Clock
from tui_portal.services.confirmation import MAX_PASSWORD_INPUT
from tui_portal.services.lookups import account_from, loaded_user, mfa_active, org_roles
from tui_portal.services.results import Caller, CodeRequired, SignedIn, SignInStep, UserId
from tui_portal.services.sessions import Sessions
from tui_portal.services.throttling import Claim, Subject, ThrottleStore

PENDING_SIGN_IN_LIFETIME = timedelta(minutes=5)
MAX_SIGN_IN_INPUT = MAX_PASSWORD_INPUT

METHOD_PASSWORD = "password"  # noqa: S105 - a sign-in method's name
METHOD_CODE = "password and MFA code"
METHOD_RECOVERY = "password and recovery code"


@dataclass
class _PendingSignIn:
    """A correct password waiting for its MFA code, kept in this process only."""

    user_id: int
    username: str
    source: str
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


def use_recovery_code(
    session: Session, user_id: int, key: bytes, typed: str, now: datetime
) -> bool:
    """Whether ``typed`` is one of the user's unused recovery codes; if so it is used up,
    with one conditional UPDATE, so the same code cannot complete two sign-ins."""
    normalised = recovery_codes.normalise(typed)
    if normalised is None:
        return False
    stored = session.execute(
        select(RecoveryCode.id, RecoveryCode.salt, RecoveryCode.digest).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    matched = [
        code_id
        for code_id, salt, digest in stored
        if recovery_codes.matches(key, salt, normalised, digest)
    ]
    if not matched:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == matched[0], RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(used == 1)


class SignInService:
    """Runs the sign-in steps. Pending sign-ins live in this process, used once each."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        passwords: Passwords,
        box: SecretBox,
        recovery_key: bytes,
        throttles: ThrottleStore,
        sessions: Sessions,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._clock = clock
        self._passwords = passwords
        self._box = box
        self._recovery_key = recovery_key
        self._throttles = throttles
        self._sessions = sessions
        self._audit = audit
        self._pending: dict[str, _PendingSignIn] = {}
        self._lock = threading.Lock()

    # -- the password step ------------------------------------------------------------

    def sign_in(self, *, username: str, password: str, source: str) -> SignInStep:
        """The password step: a complete sign-in, or a pending one that needs a code.

        Two transactions around the argon2 check: the first finds the account and claims
        the attempt (committed, so other processes see it while argon2 runs), the second
        settles it.
        """
        well_formed = (
            rules.USERNAME_PATTERN.fullmatch(username) is not None
            and 0 < len(password) <= MAX_SIGN_IN_INPUT
        )
        if not well_formed:
            if len(password) <= MAX_SIGN_IN_INPUT:
                self._passwords.burn_equal_time(password)
            raise InvalidCredentials()
        with self._refusals_recorded(source) as refusal, self._db.write() as session:
            found = session.execute(
                select(User.id, User.username, User.password_hash, mfa_active(User.id)).where(
                    User.username_key == rules.username_key(username)
                )
            ).first()
            refusal.about(None if found is None else (found.username, found.id))
            subjects = (
                self._throttles.source(source),
                self._throttles.account(username, known=found is not None),
            )
            claim = self._throttles.claim_in(session, subjects)
        known_name = "" if found is None else found.username
        where = Where(known_name, source)
        if found is None:
            self._passwords.burn_equal_time(password)
            self._failed(claim, Event.SIGN_IN_FAILED, where, None, detail="unknown account")
            raise InvalidCredentials()
        check = self._passwords.verify(found.password_hash, password)
        if not check.matched:
            self._failed(claim, Event.SIGN_IN_FAILED, where, found.id, detail="wrong password")
            raise InvalidCredentials()
        with self._db.write() as session:
            if found[3]:  # MFA: the attempt is given back; the code step counts its own
                if check.new_hash is not None:
                    _store_hash(session, found.id, check.new_hash)
                self._throttles.refund_in(session, claim)
            else:
                return self._complete_in(
                    session, found.id, claim, source, METHOD_PASSWORD, check.new_hash
                )
        return self._start_pending(found.id, found.username, source)

    # -- the second step --------------------------------------------------------------

    def verify_code(self, *, token: str, code: str) -> SignedIn:
        """The code step of a pending sign-in: used once, within 5 minutes.

        One transaction: the counters are locked, the code checked (three HMACs) and its
        time step claimed, and the sign-in completed or the failure counted.
        """
        pending = self._pending_for(token)
        where = Where(pending.username, pending.source)
        with self._refusals_recorded(pending.source) as refusal, self._db.write() as session:
            refusal.about((pending.username, pending.user_id))
            claim = self._throttles.decide_in(session, self._subjects(pending))
            check = self._check_code(session, pending.user_id, code)
            if check.accepted:
                self._take_pending(token)
                return self._complete_in(
                    session, pending.user_id, claim, pending.source, METHOD_CODE
                )
            event = Event.MFA_CODE_REPLAYED if check.replayed else Event.MFA_CODE_FAILED
            detail = "malformed code" if check.malformed else ""
            self._failed_in(session, claim, event, where, pending.user_id, detail)
        raise InvalidCode()

    def verify_recovery_code(self, *, token: str, code: str) -> SignedIn:
        """The recovery-code step of a pending sign-in: each code completes one sign-in."""
        pending = self._pending_for(token, error=InvalidRecoveryCode)
        where = Where(pending.username, pending.source)
        with self._refusals_recorded(pending.source) as refusal, self._db.write() as session:
            refusal.about((pending.username, pending.user_id))
            claim = self._throttles.decide_in(session, self._subjects(pending))
            if use_recovery_code(session, pending.user_id, self._recovery_key, code, self._clock()):
                self._take_pending(token, error=InvalidRecoveryCode)
                return self._complete_in(
                    session, pending.user_id, claim, pending.source, METHOD_RECOVERY
                )
            self._failed_in(
                session, claim, Event.MFA_CODE_FAILED, where, pending.user_id, "recovery code"
            )
        raise InvalidRecoveryCode()

    def cancel(self, *, token: str) -> None:
        """Forget a pending sign-in (the person went back to the sign-in screen)."""
        with self._lock:
            self._pending.pop(token, None)

    # -- steps ------------------------------------------------------------------------

    def _check_code(self, session: Session, user_id: int, code: str) -> totp.CodeCheck:
        if not totp.is_well_formed(code):
            return totp.CodeCheck(accepted=False, malformed=True)
        credential = session.scalar(
            select(MfaCredential).where(
                MfaCredential.user_id == user_id, MfaCredential.status == "active"
            )
        )
        if credential is None:  # MFA was disabled meanwhile: start again
            return totp.CodeCheck(accepted=False)
        return consume_code(session, credential, self._box, code, self._clock())

    def _subjects(self, pending: _PendingSignIn) -> tuple[Subject, Subject]:
        return (
            self._throttles.source(pending.source),
            self._throttles.account(pending.username, known=True),
        )

    @contextmanager
    def _refusals_recorded(self, source: str) -> Iterator[_Refusal]:
        """Record an attempt the counters refused (``Throttled``, ``Locked``) once the
        refusing transaction has rolled back; name the account only when it exists."""
        refusal = _Refusal()
        try:
            yield refusal
        except (Throttled, Locked) as refused:
            username, user_id = refusal.account or ("", None)
            self._audit.record_now(
                Event.SIGN_IN_THROTTLED,
                Where(username, source),
                target=username,
                target_user_id=user_id,
                detail="locked" if isinstance(refused, Locked) else "",
            )
            raise

    def _failed(
        self, claim: Claim, event: Event, where: Where, user_id: int | None, detail: str = ""
    ) -> None:
        """Record a failed attempt already counted by its claim (and the lock it caused)."""
        with self._db.write() as session:
            self._record_failure(session, claim, event, where, user_id, detail)

    def _failed_in(
        self,
        session: Session,
        claim: Claim,
        event: Event,
        where: Where,
        user_id: int | None,
        detail: str = "",
    ) -> None:
        """Count a failed attempt decided in ``session``, and record it."""
        self._throttles.failed_in(session, claim)
        self._record_failure(session, claim, event, where, user_id, detail)

    def _record_failure(
        self,
        session: Session,
        claim: Claim,
        event: Event,
        where: Where,
        user_id: int | None,
        detail: str,
    ) -> None:
        """A name that matches no account is never written down."""
        target_id = user_id if where.actor else None
        self._audit.record(
            session, event, where, target=where.actor, target_user_id=target_id, detail=detail
        )
        if claim.locks and where.actor:
            self._audit.record(
                session, Event.ACCOUNT_LOCKED, where, target=where.actor, target_user_id=target_id
            )

    def _pending_for(self, token: str, error: type[PortalError] = InvalidCode) -> _PendingSignIn:
        now = self._clock()
        with self._lock:
            pending = self._pending.get(token)
            if pending is not None and pending.expires_at <= now:
                del self._pending[token]
                pending = None
        if pending is None:
            raise error()
        return pending

    def _take_pending(self, token: str, error: type[PortalError] = InvalidCode) -> None:
        with self._lock:
            if self._pending.pop(token, None) is None:  # raced by another submit of this token
                raise error()

    def _start_pending(self, user_id: int, username: str, source: str) -> CodeRequired:
        now = self._clock()
        token = secrets.token_urlsafe(32)
        expires_at = now + PENDING_SIGN_IN_LIFETIME
        with self._lock:
            for stale in [t for t, p in self._pending.items() if p.expires_at <= now]:
                del self._pending[stale]
            self._pending[token] = _PendingSignIn(user_id, username, source, expires_at)
        return CodeRequired(token=token, username=username, expires_at=expires_at)

    def _complete_in(
        self,
        session: Session,
        user_id: int,
        claim: Claim,
        source: str,
        method: str,
        new_hash: str | None = None,
    ) -> SignedIn:
        """Open the session: the counters, the row, the notice, the events, in ``session``."""
        now = self._clock()
        self._throttles.passed_in(session, claim, complete=True)
        user, mfa, codes_left = loaded_user(session, user_id)
        organisations = org_roles(session, user_id)
        opened = self._sessions.open_in(
            session,
            user,
            source=source,
            method=method,
            must_enrol=not mfa and any(o.mfa_required for o in organisations),
        )
        notice, newest = Activity.notice_in(session, user, session_id=opened.id)
        changes: dict[str, object] = {"last_sign_in_at": now, "notified_through": newest}
        if new_hash is not None:
            changes["password_hash"] = new_hash
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        where = Where(user.username, source, opened.id)
        if method == METHOD_RECOVERY:
            self._audit.record(
                session,
                Event.RECOVERY_CODE_USED,
                where,
                target=user.username,
                target_user_id=user.id,
            )
        self._audit.record(
            session,
            Event.SIGN_IN_SUCCEEDED,
            where,
            target=user.username,
            target_user_id=user.id,
            detail=method,
        )
        account = account_from(user, mfa, codes_left, organisations)
        caller = Caller(UserId(user_id), opened.id, source)
        return SignedIn(replace(account, last_sign_in_at=now), caller, notice)


class _Refusal:
    """Which account (if any) an attempt was for, should the counters refuse it."""

    def __init__(self) -> None:
        self.account: tuple[str, int] | None = None

    def about(self, account: tuple[str, int] | None) -> None:
        self.account = account


def _store_hash(session: Session, user_id: int, new_hash: str) -> None:
    session.execute(update(User).where(User.id == user_id).values(password_hash=new_hash))
