"""The audit trail: one append-only, hash-chained row per security event, never a secret in it.

Events are written inside the transaction of the change they record, so a change and its
event commit or roll back together. Each event is chained to the one before it (see
:mod:`tui_portal.security.audit_chain`); appending takes the chain's lock (SQLite's write
lock, which every writing transaction holds; an advisory lock on PostgreSQL), so events from
any number of processes form one chain. Record the event as the last step of a transaction,
after its other changes, so the chain's lock is held for as short a time as possible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import AuditEvent, Organisation
from tui_portal.errors import NotFound
from tui_portal.security.audit_chain import CHAINED_FIELDS, GENESIS, link_hash, links
from tui_portal.services.clock import Clock
from tui_portal.services.results import AuditRecord, Caller, ChainReport, Operator
from tui_portal.services.validation import text_key

AUDIT_CHAIN_LOCK = 0x7475692D61756474  # PostgreSQL advisory lock key: "tui-audt" in ASCII
_CHAIN_HEAD = "tui_portal.audit_chain_head"  # where a transaction keeps the chain's last link
VERIFY_BATCH = 2000


class Event(StrEnum):
    """Every kind of event the trail records."""

    SIGN_IN_SUCCEEDED = "sign_in_succeeded"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    MFA_CODE_FAILED = "mfa_code_failed"
    MFA_CODE_REPLAYED = "mfa_code_replayed"
    PASSWORD_CONFIRM_FAILED = "password_confirm_failed"  # noqa: S105 - an event name
    MFA_ENROLMENT_STARTED = "mfa_enrolment_started"
    MFA_ENROLMENT_CODE_FAILED = "mfa_enrolment_code_failed"
    MFA_ENABLED = "mfa_enabled"
    MFA_DEVICE_REPLACED = "mfa_device_replaced"
    MFA_DISABLED_BY_SELF = "mfa_disabled_by_self"
    MFA_DISABLED_BY_ADMIN = "mfa_disabled_by_admin"
    MFA_DISABLED_BY_ACCOUNT_MANAGER = "mfa_disabled_by_account_manager"
    MFA_DISABLED_BY_OPERATOR = "mfa_disabled_by_operator"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_GENERATED = "recovery_codes_generated"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    PASSWORD_SET_BY_OPERATOR = "password_set_by_operator"  # noqa: S105 - an event name
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    SESSIONS_REVOKED = "sessions_revoked"
    MFA_POLICY_CHANGED = "mfa_policy_changed"
    USER_CREATED = "user_created"
    USERS_IMPORTED = "users_imported"
    ORGANISATION_CREATED = "organisation_created"
    MEMBERSHIP_CREATED = "membership_created"
    MEMBERSHIP_REMOVED = "membership_removed"
    ROLE_CHANGED = "role_changed"


@dataclass(frozen=True)
class Where:
    """Who acted and from where, as every event records it.

    ``actor`` is a username, ``operator:NAME``, or empty when a name typed at sign-in
    matches no account (what people type there is sometimes a password, so it is never
    written down). ``session_id`` names the portal session the event belongs to, if any.
    """

    actor: str
    source: str
    session_id: str = ""

    @classmethod
    def of_operator(cls, operator: Operator) -> Where:
        """An operator at the shell."""
        return cls(operator.actor, operator.source)

    @classmethod
    def of_caller(cls, caller: Caller, username: str) -> Where:
        """A signed-in person, in their session."""
        return cls(username, caller.source, caller.session_id)


class AuditLog:
    """Writes events inside the caller's transaction, reads the trail, verifies the chain."""

    def __init__(self, db: Database, clock: Clock, key: bytes) -> None:
        self._db = db
        self._clock = clock
        self._key = key

    def seal(self, prev_hash: str, fields: dict[str, object]) -> str:
        """The hash that chains ``fields`` to ``prev_hash`` (the schema upgrade uses it)."""
        return link_hash(self._key, prev_hash, fields)

    def record(
        self,
        session: Session,
        event: Event,
        where: Where,
        *,
        target: str = "",
        target_user_id: int | None = None,
        org: str = "",
        detail: str = "",
    ) -> AuditEvent:
        """Add one event to ``session``'s transaction, chained to the newest event."""
        seq, prev_hash = self._chain_head(session)
        fields: dict[str, object] = {
            "seq": seq + 1,
            "at": self._clock(),
            "event": event.value,
            "actor": where.actor,
            "target": target,
            "target_user_id": target_user_id,
            "org": org,
            "source": where.source,
            "session_id": where.session_id,
            "detail": detail,
        }
        digest = link_hash(self._key, prev_hash, fields)
        row = AuditEvent(**fields, prev_hash=prev_hash, hash=digest)
        session.add(row)
        session.info[_CHAIN_HEAD] = (seq + 1, digest)
        return row

    def record_now(
        self,
        event: Event,
        where: Where,
        *,
        target: str = "",
        target_user_id: int | None = None,
        org: str = "",
        detail: str = "",
    ) -> None:
        """Record an event on its own, outside any other change (failures, throttling)."""
        with self._db.write() as session:
            self.record(
                session,
                event,
                where,
                target=target,
                target_user_id=target_user_id,
                org=org,
                detail=detail,
            )

    def _chain_head(self, session: Session) -> tuple[int, str]:
        """The newest event's (seq, hash), holding the chain's lock until this commits."""
        head: tuple[int, str] | None = session.info.get(_CHAIN_HEAD)
        if head is not None:
            return head
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
        newest = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        return (0, GENESIS) if newest is None else (newest[0], newest[1])

    # -- reading ----------------------------------------------------------------------

    def trail(self, org: str | None = None) -> list[AuditRecord]:
        """Every event, oldest first, optionally only those of one organisation."""
        with self._db.read() as session:
            query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.seq)
            if org is not None:
                found = session.scalar(
                    select(Organisation.name).where(Organisation.name_key == text_key(org))
                )
                if found is None:
                    raise NotFound(f"No organisation named {org!r}")
                query = query.where(AuditEvent.org == found)
            return [
                AuditRecord(
                    seq=row.seq,
                    at=row.at,
                    event=row.event,
                    actor=row.actor,
                    target=row.target,
                    org=row.org,
                    source=row.source,
                    detail=row.detail,
                )
                for row in session.scalars(query)
            ]

    def verify(self) -> ChainReport:
        """Walk the whole chain, oldest first, and name the first event that breaks it."""
        expected_seq, prev_hash, count = 1, GENESIS, 0
        for row in self._all_in_order():
            fields = {name: getattr(row, name) for name in CHAINED_FIELDS}
            if row.seq != expected_seq:
                return _broken(count, prev_hash, row, f"expected event number {expected_seq}")
            if row.prev_hash != prev_hash:
                return _broken(count, prev_hash, row, "it does not follow the event before it")
            if not links(self._key, prev_hash, fields, row.hash):
                return _broken(count, prev_hash, row, "its contents do not match its hash")
            expected_seq, prev_hash, count = row.seq + 1, row.hash, count + 1
        return ChainReport(events=count, last_hash=prev_hash)

    def _all_in_order(self) -> Iterator[AuditEvent]:
        after = 0
        while True:
            with self._db.read() as session:
                batch = list(
                    session.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.seq > after)
                        .order_by(AuditEvent.seq)
                        .limit(VERIFY_BATCH)
                    )
                )
            yield from batch
            if len(batch) < VERIFY_BATCH:
                return
            after = batch[-1].seq


def _broken(count: int, last_hash: str, row: AuditEvent, problem: str) -> ChainReport:
    return ChainReport(events=count, last_hash=last_hash, broken_at=row.seq, problem=problem)
