"""MFA lifecycle: enrolling an authenticator, replacing it, recovery codes, and disabling it.

A new authenticator stays ``pending`` (never valid for sign-in) until a correct code
confirms it, and expires after 10 minutes; wrong confirmation codes count towards the
throttle like any other. Enabling MFA makes a set of recovery codes. Disabling always
re-checks a password: one's own for one's own MFA, and the admin's or account manager's own
when they disable it for someone else; it deletes the recovery codes and ends the account's
other sessions. Who may disable whose MFA is decided here (see
:mod:`tui_portal.services.authorisation`), whatever the UI shows.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import MfaCredential, RecoveryCode, User
from tui_portal.errors import (
    EnrolmentExpired,
    InvalidCode,
    MfaRequiredByPolicy,
    NothingToChange,
    PermissionDenied,
)
from tui_portal.security import recovery_codes, totp
from tui_portal.security.secret_box import SecretBox
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.authorisation import ResetGrant, authorise_reset
from tui_portal.services.clock import Clock
from tui_portal.services.confirmation import PasswordConfirmation
from tui_portal.services.lookups import (
    bump_revision,
    get_user,
    has_mfa,
    load_account,
    org_roles,
)
from tui_portal.services.results import (
    Account,
    Caller,
    Enrolment,
    MfaEnabled,
    Operator,
    OrgId,
    RecoveryCodes,
    UserId,
)
from tui_portal.services.sessions import Sessions
from tui_portal.services.signin import consume_code
from tui_portal.services.throttling import ThrottleStore

ENROLMENT_LIFETIME = timedelta(minutes=10)
_DISABLED_BY = {
    "admin": Event.MFA_DISABLED_BY_ADMIN,
    "account manager": Event.MFA_DISABLED_BY_ACCOUNT_MANAGER,
}


class MfaService:
    """Enrols, replaces and disables authenticators; makes recovery codes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        recovery_key: bytes,
        throttles: ThrottleStore,
        sessions: Sessions,
        confirmation: PasswordConfirmation,
        audit: AuditLog,
        issuer: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._recovery_key = recovery_key
        self._throttles = throttles
        self._sessions = sessions
        self._confirmation = confirmation
        self._audit = audit
        self.issuer = issuer

    # -- enrolment --------------------------------------------------------------------

    def start_enrolment(self, caller: Caller, *, password: str | None = None) -> Enrolment:
        """A new pending authenticator for the caller, replacing any earlier pending one.

        When the caller already has MFA this replaces the device, and the password must be
        confirmed first; the old device keeps working until the new one is confirmed.
        """
        with self._db.read() as session:
            user = self._sessions.require(session, caller, enrolling=True)
            replacing = has_mfa(session, user.id)
            username = user.username
        claim = (
            self._confirmation.confirm(caller, password or "", account=user) if replacing else None
        )
        secret = totp.new_secret()
        credential_id = str(uuid.uuid4())
        now = self._clock()
        with self._db.write() as session:
            self._sessions.require(session, caller, enrolling=True)
            if claim is not None:
                self._confirmation.settle_in(session, claim)
            session.execute(
                delete(MfaCredential).where(
                    MfaCredential.user_id == caller.user_id, MfaCredential.status == "pending"
                )
            )
            session.add(
                MfaCredential(
                    id=credential_id,
                    user_id=caller.user_id,
                    status="pending",
                    secret_ciphertext=self._box.seal(
                        secret, user_id=caller.user_id, credential_id=credential_id
                    ),
                    created_at=now,
                    expires_at=now + ENROLMENT_LIFETIME,
                    last_step=-1,
                )
            )
            self._audit.record(
                session,
                Event.MFA_ENROLMENT_STARTED,
                Where.of_caller(caller, username),
                target=username,
                target_user_id=caller.user_id,
                detail="replacing a device" if replacing else "",
            )
        return Enrolment(
            credential_id=credential_id,
            secret=secret,
            uri=totp.provisioning_uri(secret, username, self.issuer),
            expires_at=now + ENROLMENT_LIFETIME,
            replaces_existing=replacing,
        )

    def confirm_enrolment(self, caller: Caller, *, credential_id: str, code: str) -> MfaEnabled:
        """Turn the pending authenticator on, when ``code`` is right for it.

        A wrong code that is right for a time 2 to 10 steps away raises ``InvalidCode``
        with a clock hint. A confirmed device replaces any earlier one in one transaction;
        a first one comes with a new set of recovery codes.
        """
        with self._db.read() as session:
            username = self._sessions.require(session, caller, enrolling=True).username
        where = Where.of_caller(caller, username)
        claim = self._throttles.claim(
            (self._throttles.source(caller.source), self._throttles.account(username, known=True))
        )
        now = self._clock()
        check = totp.CodeCheck(accepted=False, malformed=True)
        with self._db.write() as session:
            user = self._sessions.require(session, caller, enrolling=True)
            pending = session.get(MfaCredential, credential_id)
            expired = (
                pending is None
                or pending.user_id != user.id
                or pending.status != "pending"
                or pending.expires_at is None
                or pending.expires_at <= now
            )
            if pending is not None and not expired and totp.is_well_formed(code):
                check = consume_code(session, pending, self._box, code, now, look_for_skew=True)
                if check.accepted:
                    self._throttles.refund_in(session, claim)
                    return self._activate(session, user, pending, caller, where)
        if expired:  # not an attempt at a code: give the attempt back
            self._throttles.refund(claim)
            raise EnrolmentExpired()
        self._confirmation.failed(
            claim, caller, username, caller.user_id, Event.MFA_ENROLMENT_CODE_FAILED
        )
        raise InvalidCode(skew_seconds=check.skew_seconds)

    def _activate(
        self,
        session: Session,
        user: User,
        pending: MfaCredential,
        caller: Caller,
        where: Where,
    ) -> MfaEnabled:
        previous = session.scalar(
            select(MfaCredential).where(
                MfaCredential.user_id == user.id, MfaCredential.status == "active"
            )
        )
        if previous is not None:
            session.delete(previous)
            session.flush()
        session.refresh(pending)
        pending.status = "active"
        pending.expires_at = None
        self._sessions.enrolled_in(session, caller)
        bump_revision(session, user.id)
        codes: RecoveryCodes | None = None
        if previous is None:
            codes = self._new_codes(session, user.id)
        events = (
            [Event.MFA_DEVICE_REPLACED]
            if previous is not None
            else [Event.MFA_ENABLED, Event.RECOVERY_CODES_GENERATED]
        )
        for event in events:
            self._audit.record(session, event, where, target=user.username, target_user_id=user.id)
        session.flush()
        return MfaEnabled(load_account(session, user.id), codes)

    # -- recovery codes ---------------------------------------------------------------

    def regenerate_recovery_codes(self, caller: Caller, *, password: str) -> RecoveryCodes:
        """A new set of recovery codes, after the password; the old set stops working."""
        with self._db.read() as session:
            user = self._sessions.require(session, caller)
            if not has_mfa(session, user.id):
                raise NothingToChange("Recovery codes come with MFA: enable MFA first")
        claim = self._confirmation.confirm(caller, password, account=user)
        with self._db.write() as session:
            user = self._sessions.require(session, caller)
            if not has_mfa(session, user.id):
                raise NothingToChange("Recovery codes come with MFA: enable MFA first")
            self._confirmation.settle_in(session, claim)
            codes = self._new_codes(session, user.id)
            bump_revision(session, user.id)
            self._audit.record(
                session,
                Event.RECOVERY_CODES_GENERATED,
                Where.of_caller(caller, user.username),
                target=user.username,
                target_user_id=user.id,
            )
            return codes

    def _new_codes(self, session: Session, user_id: int) -> RecoveryCodes:
        """Replace the user's recovery codes with a new set; only their hashes are kept."""
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        codes = recovery_codes.new_set()
        now = self._clock()
        for code in codes:
            salt = recovery_codes.new_salt()
            normalised = recovery_codes.normalise(code)
            assert normalised is not None
            session.add(
                RecoveryCode(
                    user_id=user_id,
                    salt=salt,
                    digest=recovery_codes.digest(self._recovery_key, salt, normalised),
                    created_at=now,
                    used_at=None,
                )
            )
        return RecoveryCodes(codes)

    # -- disabling --------------------------------------------------------------------

    def disable_own(self, caller: Caller, *, password: str) -> Account:
        """Turn off the caller's own MFA, after their password is confirmed.

        Refused while an organisation of theirs requires MFA (a new phone is Replace
        device; a lost one is an admin's reset, after which they enrol again)."""
        with self._db.read() as session:
            user = self._sessions.require(session, caller)
            if not has_mfa(session, user.id):
                raise NothingToChange("You have no MFA to disable")
            _refuse_while_required(session, user.id)
        claim = self._confirmation.confirm(caller, password, account=user)
        with self._db.write() as session:
            user = self._sessions.require(session, caller)
            _refuse_while_required(session, user.id)
            self._confirmation.settle_in(session, claim)
            where = Where.of_caller(caller, user.username)
            self._remove(session, user)
            self._sessions.end_all_in(
                session, user, reason="mfa_disabled", where=where, keep=caller.session_id
            )
            self._audit.record(
                session,
                Event.MFA_DISABLED_BY_SELF,
                where,
                target=user.username,
                target_user_id=user.id,
            )
            return load_account(session, user.id)

    def disable_for_user(
        self, caller: Caller, *, password: str, target_user_id: UserId, org_id: OrgId
    ) -> Account:
        """Turn off another user's MFA, as an admin of ``org_id`` or as an account manager.

        The permission is checked before the password and again with the change, and the
        caller's own password is confirmed in between; the target's sessions all end.
        """
        with self._db.read() as session:
            actor, _target, _grant = self._authorised(session, caller, target_user_id, org_id)
        claim = self._confirmation.confirm(caller, password, account=actor)
        with self._db.write() as session:
            actor, target, grant = self._authorised(session, caller, target_user_id, org_id)
            self._confirmation.settle_in(session, claim)
            where = Where.of_caller(caller, actor.username)
            self._remove(session, target)
            self._sessions.end_all_in(session, target, reason="mfa_disabled", where=where)
            self._audit.record(
                session,
                _DISABLED_BY[grant.authority],
                where,
                target=target.username,
                target_user_id=target.id,
                org=grant.org.name,
            )
            return load_account(session, target.id)

    def disable_by_operator(self, *, username: str, operator: Operator) -> Account:
        """The operator's break-glass reset from the command line; audited as such."""
        with self._db.write() as session:
            user = get_user(session, username)
            if not has_mfa(session, user.id):
                raise NothingToChange(f"{user.username} has no MFA")
            where = Where.of_operator(operator)
            self._remove(session, user)
            self._sessions.end_all_in(session, user, reason="mfa_disabled", where=where)
            self._audit.record(
                session,
                Event.MFA_DISABLED_BY_OPERATOR,
                where,
                target=user.username,
                target_user_id=user.id,
            )
            return load_account(session, user.id)

    # -- helpers ----------------------------------------------------------------------

    def _authorised(
        self, session: Session, caller: Caller, target_user_id: int, org_id: int
    ) -> tuple[User, User, ResetGrant]:
        actor = self._sessions.require(session, caller)
        target = session.get(User, target_user_id)
        if target is None:
            raise PermissionDenied("No such user")
        grant = authorise_reset(session, actor, target, org_id)
        if not has_mfa(session, target.id):
            raise NothingToChange(f"{target.username} has no MFA")
        return actor, target, grant

    @staticmethod
    def _remove(session: Session, user: User) -> None:
        """Delete the user's authenticators and recovery codes."""
        session.execute(delete(MfaCredential).where(MfaCredential.user_id == user.id))
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        bump_revision(session, user.id)


def _refuse_while_required(session: Session, user_id: int) -> None:
    """A person whose organisation requires MFA may not turn their own off."""
    requiring = tuple(o.name for o in org_roles(session, user_id) if o.mfa_required)
    if requiring:
        raise MfaRequiredByPolicy(requiring)
