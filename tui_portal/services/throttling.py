"""Failed-attempt counters in the database: claimed before a check, settled after it.

The rule lives in :mod:`tui_portal.security.throttle`; this module applies it atomically.
An attempt first *claims* a slot on every counter it falls under (its account name and its
source) in one write transaction: each counter is read under a lock (SQLite's write lock,
``SELECT … FOR UPDATE`` on PostgreSQL), the rule decides, and the attempt is counted as a
failure there and then. Only then does the expensive check (argon2, a code) run. A check
that succeeds gives its failure back (or, for a complete sign-in, clears the account's
counter); a check that fails has nothing more to write. So of any number of processes
racing for the one attempt allowed, exactly one makes it, and a process that dies mid-check
has spent its attempt.

Counters are keyed by a keyed hash of the case-folded name or of the source, never by the
text itself: people sometimes type their password into the Username field.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import Throttle
from tui_portal.errors import DatabaseError, Locked, Throttled
from tui_portal.security import throttle as rule
from tui_portal.services.clock import Clock
from tui_portal.services.validation import username_key

_ENSURE_ATTEMPTS = 10
"""How often a claim re-inserts counters deleted under it before giving up."""


@dataclass(frozen=True)
class Subject:
    """One counter an attempt falls under: an account name or a source."""

    key: str
    kind: rule.Kind
    known: bool = False

    @property
    def policy(self) -> rule.Policy:
        """The numbers that apply to this kind of counter."""
        return rule.POLICIES[self.kind]


@dataclass(frozen=True)
class Claimed:
    """One counter as it was before an attempt claimed it, and as the claim left it."""

    subject: Subject
    before: rule.ThrottleState
    after: rule.ThrottleState


@dataclass(frozen=True)
class Claim:
    """An attempt that may go ahead, counted as a failure until it is settled.

    ``locks`` is true when this attempt, if it fails, is the one that locks the account.
    """

    counters: tuple[Claimed, ...]
    locks: bool
    written: bool = True  # counted as a failure already (False: decided in a transaction)

    @property
    def subjects(self) -> tuple[Subject, ...]:
        """The counters the attempt falls under."""
        return tuple(counter.subject for counter in self.counters)

    def counter(self, subject: Subject) -> Claimed:
        """The claim on one subject."""
        return next(c for c in self.counters if c.subject == subject)

    @property
    def account(self) -> Subject | None:
        """The account counter of the claim, if it has one."""
        return next((s for s in self.subjects if s.kind == "account"), None)


def source_address(source: str) -> str:
    """The part of a source that one person controls: ``ssh:ADDR`` and ``web:ADDR`` share
    the address, so both doors count together; ``local:NAME`` is the operating-system user."""
    kind, _, rest = source.partition(":")
    return f"address:{rest}" if kind in ("ssh", "web") else source


def _state(row: Throttle | None) -> rule.ThrottleState:
    if row is None:
        return rule.ThrottleState()
    return rule.ThrottleState(
        row.failures, row.last_failure_at, row.window_started_at, row.window_failures, row.locked_at
    )


class ThrottleStore:
    """Claims, settles and clears the counters of accounts and sources."""

    def __init__(self, db: Database, clock: Clock, key: bytes) -> None:
        self._db = db
        self._clock = clock
        self._key = key

    # -- subjects ---------------------------------------------------------------------

    def _hashed(self, text: str) -> str:
        return hmac.new(
            self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()

    def account(self, username: str, *, known: bool) -> Subject:
        """The counter of the account name typed (whether or not such an account exists)."""
        return Subject(self._hashed(f"account:{username_key(username)}"), "account", known)

    def source(self, source: str) -> Subject:
        """The counter of a source (``ssh:ADDR``, ``web:ADDR``, ``local:NAME``)."""
        return Subject(self._hashed(f"source:{source_address(source)}"), "source")

    # -- claiming and settling --------------------------------------------------------

    def claim(self, subjects: Sequence[Subject]) -> Claim:
        """Count one attempt on every subject, or refuse it (``Throttled``, ``Locked``)
        without counting anything."""
        with self._db.write() as session:
            return self.claim_in(session, subjects)

    def claim_in(self, session: Session, subjects: Sequence[Subject]) -> Claim:
        """:meth:`claim` inside the caller's write transaction, which must commit before
        the check it guards runs (so that other processes see the attempt counted)."""
        now = self._clock()
        rows, created = self._ensure_and_lock(session, subjects)
        counters: list[Claimed] = []
        for subject in subjects:
            row = rows[subject.key]
            before = _state(row)
            decision = rule.decide(before, now, subject.policy)
            if isinstance(decision, rule.IsLocked):
                raise Locked()
            if isinstance(decision, rule.MustWait):
                raise Throttled(rule.whole_seconds(decision.wait))
            self._store(row, decision.claimed, known=subject.known)
            counters.append(Claimed(subject, before, decision.claimed))
        if created:
            self._prune(session, now)
        locks = any(c.after.locked_at is not None and c.before.locked_at is None for c in counters)
        return Claim(tuple(counters), locks)

    def decide_in(self, session: Session, subjects: Sequence[Subject]) -> Claim:
        """Decide an attempt whose check runs inside ``session``'s write transaction (an
        MFA or recovery code: cheap enough to hold the lock for). The counters are locked,
        not yet written: :meth:`failed_in` counts the failure, :meth:`passed_in` settles a
        success, in the same transaction. Refused as :meth:`claim` refuses."""
        now = self._clock()
        rows = self._lock_rows(session, subjects)
        counters: list[Claimed] = []
        for subject in subjects:
            before = _state(rows.get(subject.key))
            decision = rule.decide(before, now, subject.policy)
            if isinstance(decision, rule.IsLocked):
                raise Locked()
            if isinstance(decision, rule.MustWait):
                raise Throttled(rule.whole_seconds(decision.wait))
            counters.append(Claimed(subject, before, decision.claimed))
        locks = any(c.after.locked_at is not None and c.before.locked_at is None for c in counters)
        return Claim(tuple(counters), locks, written=False)

    def failed_in(self, session: Session, claim: Claim) -> None:
        """Count the failure of an attempt decided by :meth:`decide_in`."""
        rows, created = self._ensure_and_lock(session, claim.subjects)
        for counter in claim.counters:
            self._store(rows[counter.subject.key], counter.after, known=counter.subject.known)
        if created:
            self._prune(session, self._clock())

    def passed_in(self, session: Session, claim: Claim, *, complete: bool) -> None:
        """Settle an attempt that succeeded: a complete sign-in clears the account's counter;
        anything else leaves the counters as they were before the attempt."""
        if not claim.written:
            account = claim.account
            if complete and account is not None and claim.counter(account).before.failures:
                session.execute(delete(Throttle).where(Throttle.subject == account.key))
            return
        if complete:
            self.complete_in(session, claim)
        else:
            self.refund_in(session, claim)

    def refund(self, claim: Claim) -> None:
        """The claimed attempt succeeded: give back the failure it counted."""
        with self._db.write() as session:
            self.refund_in(session, claim)

    def refund_in(self, session: Session, claim: Claim) -> None:
        """:meth:`refund`, inside the caller's transaction.

        When nothing else has counted since the claim, the counter is put back exactly as it
        was (so a right password leaves no wait behind it); otherwise the one failure is
        taken off what others have counted since."""
        rows = self._lock_rows(session, claim.subjects)
        for counter in claim.counters:
            row = rows.get(counter.subject.key)
            if row is None:
                continue
            current = _state(row)
            restored = (
                counter.before
                if current == counter.after
                else rule.after_refund(current, counter.subject.policy)
            )
            if restored == rule.ThrottleState():  # nothing left to count: no row to keep
                session.delete(row)
            else:
                self._store(row, restored, known=row.known)

    def complete_in(self, session: Session, claim: Claim) -> None:
        """A sign-in completed: the account starts afresh, the source gets its attempt back."""
        account = claim.account
        if account is not None:
            session.execute(delete(Throttle).where(Throttle.subject == account.key))
        rest = tuple(c for c in claim.counters if c.subject.kind != "account")
        if rest:
            self.refund_in(session, Claim(rest, locks=False))

    def clear(self, session: Session, subject: Subject) -> bool:
        """Forget a counter (an operator's unlock, a new account); whether there was one."""
        removed = session.execute(delete(Throttle).where(Throttle.subject == subject.key))
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def state(self, subject: Subject) -> rule.ThrottleState:
        """The stored state of one counter, for reports and tests."""
        with self._db.read() as session:
            return _state(session.get(Throttle, subject.key))

    # -- rows -------------------------------------------------------------------------

    def _ensure_and_lock(
        self, session: Session, subjects: Sequence[Subject]
    ) -> tuple[dict[str, Throttle], bool]:
        """Every subject's counter, locked for this transaction, inserting the missing ones;
        and whether any was new.

        On PostgreSQL another host may delete a counter (a completed sign-in, a prune)
        between the insert that found it present and the lock that follows: the lock then
        finds nothing, so the insert is tried again until every counter is held."""
        created = False
        for _ in range(_ENSURE_ATTEMPTS):
            created = self._ensure_rows(session, subjects) or created
            rows = self._lock_rows(session, subjects)
            if all(s.key in rows for s in subjects):
                return rows, created
        raise DatabaseError("throttle counters kept disappearing while being claimed")

    def _ensure_rows(self, session: Session, subjects: Sequence[Subject]) -> bool:
        """Insert the counters that do not exist yet; whether any was new."""
        values = [
            {
                "subject": s.key,
                "kind": s.kind,
                "known": s.known,
                "failures": 0,
                "window_failures": 0,
            }
            for s in subjects
        ]
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        result = session.execute(insert(Throttle).values(values).on_conflict_do_nothing())
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def _lock_rows(session: Session, subjects: Sequence[Subject]) -> dict[str, Throttle]:
        query = (
            select(Throttle)
            .where(Throttle.subject.in_([s.key for s in subjects]))
            .order_by(Throttle.subject)  # one order everywhere, so two claims never deadlock
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {row.subject: row for row in session.scalars(query)}

    @staticmethod
    def _store(row: Throttle, state: rule.ThrottleState, *, known: bool) -> None:
        row.failures = state.failures
        row.last_failure_at = state.last_failure_at
        row.window_started_at = state.window_started_at
        row.window_failures = state.window_failures
        row.locked_at = state.locked_at
        row.known = row.known or known

    @staticmethod
    def _prune(session: Session, now: datetime) -> None:
        """Forget counters nobody needs: unknown names and sources whose hour has passed.

        A locked name stays locked, known or not, so a lock tells nothing about who has an
        account."""
        stale = now - rule.WINDOW
        session.execute(
            delete(Throttle).where(
                Throttle.last_failure_at < stale,
                Throttle.locked_at.is_(None),
                or_(
                    Throttle.kind == "source",
                    and_(Throttle.kind == "account", Throttle.known.is_(False)),
                ),
            )
        )
