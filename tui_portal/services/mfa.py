"""MFA lifecycle: enrolling an authenticator, replacing it, and disabling it.

A new authenticator stays ``pending`` (never valid for sign-in) until a correct code
confirms it, and expires after 10 minutes. Disabling always re-checks a password: one's own
for one's own MFA, and the admin's or account manager's own when they disable it for
someone else. Who may disable whose MFA is decided here, whatever the UI shows.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.data.models import MfaCredential, Organisation, User
from tui_portal.errors import (
    EnrolmentExpired,
    IncorrectPassword,
    InvalidCode,
    NotFound,
    PermissionDenied,
    Throttled,
)
from tui_portal.security import totp
from tui_portal.security.passwords import Passwords
from tui_portal.security.secret_box import SecretBox
from tui_portal.services.audit import AuditLog, Event
from tui_portal.services.clock import Clock
from tui_portal.services.directory import find_user, load_account, role_of
from tui_portal.services.results import Account, Enrolment
from tui_portal.services.signin import MAX_SIGN_IN_INPUT, consume_code
from tui_portal.services.throttling import ThrottleStore

ENROLMENT_LIFETIME = timedelta(minutes=10)


class MfaService:
    """Enrols, replaces and disables authenticators, with the authorisation rules."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        passwords: Passwords,
        box: SecretBox,
        throttles: ThrottleStore,
        audit: AuditLog,
        issuer: str,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._passwords = passwords
        self._box = box
        self._throttles = throttles
        self._audit = audit
        self.issuer = issuer

    # -- enrolment --------------------------------------------------------------------

    def start_enrolment(self, actor_id: int, password: str | None = None) -> Enrolment:
        """A new pending authenticator for the actor, replacing any earlier pending one.

        When the actor already has MFA this replaces the device, and the password must be
        confirmed first; the old device keeps working until the new one is confirmed.
        """
        with self._sessions() as session:
            user = self._user(session, actor_id)
            replacing = self._credential(session, actor_id, "active") is not None
            username = user.username
        if replacing:
            self.confirm_password(actor_id, password or "")
        secret = totp.new_secret()
        credential_id = str(uuid.uuid4())
        now = self._clock()
        with self._sessions.begin() as session:
            session.execute(
                delete(MfaCredential).where(
                    MfaCredential.user_id == actor_id, MfaCredential.status == "pending"
                )
            )
            session.add(
                MfaCredential(
                    id=credential_id,
                    user_id=actor_id,
                    status="pending",
                    secret_ciphertext=self._box.seal(
                        secret, user_id=actor_id, credential_id=credential_id
                    ),
                    created_at=now,
                    expires_at=now + ENROLMENT_LIFETIME,
                    last_step=-1,
                )
            )
            self._audit.record(
                session,
                Event.MFA_ENROLMENT_STARTED,
                actor=username,
                target=username,
                detail="replacing a device" if replacing else "",
            )
        return Enrolment(
            credential_id=credential_id,
            secret=secret,
            uri=totp.provisioning_uri(secret, username, self.issuer),
            expires_at=now + ENROLMENT_LIFETIME,
            replaces_existing=replacing,
        )

    def confirm_enrolment(self, actor_id: int, credential_id: str, code: str) -> Account:
        """Turn the pending authenticator on, when ``code`` is right for it.

        A wrong code that is right for a time 2 to 10 steps away raises ``InvalidCode``
        with a clock hint. A confirmed device replaces any earlier one in one transaction.
        """
        if not totp.is_well_formed(code):
            raise InvalidCode()
        now = self._clock()
        with self._sessions.begin() as session:
            user = self._user(session, actor_id)
            pending = session.get(MfaCredential, credential_id)
            if (
                pending is None
                or pending.user_id != actor_id
                or pending.status != "pending"
                or pending.expires_at is None
                or pending.expires_at <= now
            ):
                raise EnrolmentExpired()
            check = consume_code(session, pending, self._box, code, now, look_for_skew=True)
            if not check.accepted:
                raise InvalidCode(skew_seconds=check.skew_seconds)
            previous = self._credential(session, actor_id, "active")
            if previous is not None:
                session.delete(previous)
                session.flush()
            session.refresh(pending)
            pending.status = "active"
            pending.expires_at = None
            event = Event.MFA_DEVICE_REPLACED if previous is not None else Event.MFA_ENABLED
            self._audit.record(session, event, actor=user.username, target=user.username)
            session.flush()
            return load_account(session, actor_id)

    # -- disabling --------------------------------------------------------------------

    def disable_own(self, actor_id: int, password: str) -> Account:
        """Turn off the actor's own MFA, after their password is confirmed."""
        self.confirm_password(actor_id, password)
        with self._sessions.begin() as session:
            user = self._user(session, actor_id)
            self._remove_credentials(session, actor_id)
            self._audit.record(
                session, Event.MFA_DISABLED_BY_SELF, actor=user.username, target=user.username
            )
            session.flush()
            return load_account(session, actor_id)

    def disable_for_user(
        self, actor_id: int, password: str, target_user_id: int, org_id: int
    ) -> Account:
        """Turn off another user's MFA, as an admin of ``org_id`` or as an account manager.

        An admin may act only on members of an organisation where they hold the admin role;
        an account manager on anyone. The actor's own password is confirmed first.
        """
        with self._sessions() as session:
            self._authorise_disable(session, actor_id, target_user_id, org_id)
        self.confirm_password(actor_id, password)
        with self._sessions.begin() as session:
            actor, org = self._authorise_disable(session, actor_id, target_user_id, org_id)
            target = self._user(session, target_user_id)
            self._remove_credentials(session, target_user_id)
            is_admin = role_of(session, org_id, actor_id) == "admin"
            event = (
                Event.MFA_DISABLED_BY_ADMIN if is_admin else Event.MFA_DISABLED_BY_ACCOUNT_MANAGER
            )
            self._audit.record(
                session, event, actor=actor.username, target=target.username, org=org.name
            )
            session.flush()
            return load_account(session, target_user_id)

    def disable_by_operator(self, username: str, *, operator: str) -> Account:
        """The operator's break-glass reset from the command line; audited as such."""
        with self._sessions.begin() as session:
            user = find_user(session, username)
            if user is None:
                raise NotFound(f"No user named {username!r}")
            self._remove_credentials(session, user.id)
            self._audit.record(
                session, Event.MFA_DISABLED_BY_OPERATOR, actor=operator, target=user.username
            )
            session.flush()
            return load_account(session, user.id)

    def confirm_password(self, actor_id: int, password: str) -> None:
        """Re-check the signed-in person's password; failures count towards their throttle."""
        with self._sessions() as session:
            user = self._user(session, actor_id)
            subject, username, stored = user.username_key, user.username, user.password_hash
        wait = self._throttles.wait_seconds(subject)
        if wait > 0:
            raise Throttled(wait)
        if (
            not 0 < len(password) <= MAX_SIGN_IN_INPUT
            or not self._passwords.verify(stored, password).matched
        ):
            self._throttles.record_failure(subject)
            self._audit.record_now(Event.PASSWORD_CONFIRM_FAILED, actor=username, target=username)
            raise IncorrectPassword()

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _user(session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No such user")
        return user

    @staticmethod
    def _credential(session: Session, user_id: int, status: str) -> MfaCredential | None:
        return session.scalar(
            select(MfaCredential).where(
                MfaCredential.user_id == user_id, MfaCredential.status == status
            )
        )

    @staticmethod
    def _remove_credentials(session: Session, user_id: int) -> None:
        session.execute(delete(MfaCredential).where(MfaCredential.user_id == user_id))

    def _authorise_disable(
        self, session: Session, actor_id: int, target_user_id: int, org_id: int
    ) -> tuple[User, Organisation]:
        actor = self._user(session, actor_id)
        org = session.get(Organisation, org_id)
        if org is None:
            raise NotFound("No such organisation")
        if role_of(session, org_id, target_user_id) is None:
            raise PermissionDenied(f"That user is not a member of {org.name}")
        if not actor.is_account_manager and role_of(session, org_id, actor_id) != "admin":
            raise PermissionDenied(f"Only admins of {org.name} can disable MFA for its members")
        return actor, org
