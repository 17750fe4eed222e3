"""The audit trail: one append-only row per security event, with no secret ever in it."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tui_portal.data.models import AuditEvent, Organisation
from tui_portal.errors import NotFound
from tui_portal.services.clock import Clock
from tui_portal.services.results import AuditRecord
from tui_portal.services.validation import text_key


class Event(StrEnum):
    """Every kind of event the trail records."""

    SIGN_IN_SUCCEEDED = "sign_in_succeeded"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    MFA_CODE_FAILED = "mfa_code_failed"
    MFA_CODE_REPLAYED = "mfa_code_replayed"
    PASSWORD_CONFIRM_FAILED = "password_confirm_failed"  # noqa: S105 - an event name
    MFA_ENROLMENT_STARTED = "mfa_enrolment_started"
    MFA_ENABLED = "mfa_enabled"
    MFA_DEVICE_REPLACED = "mfa_device_replaced"
    MFA_DISABLED_BY_SELF = "mfa_disabled_by_self"
    MFA_DISABLED_BY_ADMIN = "mfa_disabled_by_admin"
    MFA_DISABLED_BY_ACCOUNT_MANAGER = "mfa_disabled_by_account_manager"
    MFA_DISABLED_BY_OPERATOR = "mfa_disabled_by_operator"
    USER_CREATED = "user_created"
    USERS_IMPORTED = "users_imported"
    ORGANISATION_CREATED = "organisation_created"
    MEMBERSHIP_CREATED = "membership_created"


class AuditLog:
    """Writes events inside the caller's transaction, and reads the trail back oldest first."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def record(
        self,
        session: Session,
        event: Event,
        *,
        actor: str,
        target: str = "",
        org: str = "",
        detail: str = "",
    ) -> None:
        """Add one event to ``session``; it commits or rolls back with the change it records."""
        session.add(
            AuditEvent(
                at=self._clock(),
                event=event.value,
                actor=actor,
                target=target,
                org=org,
                detail=detail,
            )
        )

    def record_now(self, event: Event, **fields: str) -> None:
        """Record an event on its own, outside any other change (failures, throttling)."""
        with self._sessions.begin() as session:
            self.record(session, event, **fields)

    def trail(self, org: str | None = None) -> list[AuditRecord]:
        """Every event, oldest first, optionally only those of one organisation."""
        with self._sessions() as session:
            query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
            if org is not None:
                found = session.scalar(
                    select(Organisation.name).where(Organisation.name_key == text_key(org))
                )
                if found is None:
                    raise NotFound(f"No organisation named {org!r}")
                query = query.where(AuditEvent.org == found)
            return [
                AuditRecord(
                    at=row.at,
                    event=row.event,
                    actor=row.actor,
                    target=row.target,
                    org=row.org,
                    detail=row.detail,
                )
                for row in session.scalars(query)
            ]
