"""Bulk import of users from another identity store: a CSV of argon2 hashes, all or nothing.

The header is ``username,name,email,org,role,password_hash``. A user in several
organisations takes one row per organisation, with the same name, email and hash. Every row
is checked before anything is written; the first bad row stops the import with its line
number, and nothing is written. Nothing is hashed: the hashes are taken as they are, if
they are argon2id within the bounds of :data:`tui_portal.security.passwords.IMPORT_BOUNDS`.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import Base, Membership, Organisation, Throttle, User
from tui_portal.errors import InvalidInput
from tui_portal.security.passwords import imported_hash_problem
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.clock import Clock
from tui_portal.services.results import Operator
from tui_portal.services.throttling import ThrottleStore


class CsvRows(Protocol):
    """The rows of a CSV file as :func:`csv.reader` gives them, and the line it is at."""

    @property
    def line_num(self) -> int:
        """The number of lines read so far."""

    def __iter__(self) -> Iterator[list[str]]:
        """The rows, one list of fields each."""


HEADER = ["username", "name", "email", "org", "role", "password_hash"]
MAX_FIELD = 1024
INSERT_BATCH = 5000
USERS = Base.metadata.tables[User.__tablename__]
MEMBERSHIPS = Base.metadata.tables[Membership.__tablename__]


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote."""

    users: int
    memberships: int


@dataclass
class _PlannedUser:
    """One row of the file, checked, waiting for the whole file to be checked too."""

    line: int
    username: str
    name: str
    email: str
    password_hash: str
    memberships: dict[int, str]


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a large file's rows are held in memory: they
    form no cycles, and the collector would walk all of them again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class UserImporter:
    """Checks a whole CSV, then writes it in one transaction."""

    def __init__(
        self, db: Database, clock: Clock, audit: AuditLog, throttles: ThrottleStore
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._throttles = throttles

    def import_rows(self, lines: Iterable[str], *, operator: Operator) -> ImportSummary:
        """Import from the lines of a CSV file (opened with ``newline=""``)."""
        csv.field_size_limit(MAX_FIELD * 4)
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise InvalidInput(
                    "line 1: the file is empty; expected the header " + ",".join(HEADER)
                )
            if [h.strip() for h in header] != HEADER:
                raise InvalidInput("line 1: the header must be exactly " + ",".join(HEADER))
            with _cycle_collector_paused(), self._db.write() as session:
                org_ids = {
                    key: org_id
                    for org_id, key in session.execute(
                        select(Organisation.id, Organisation.name_key)
                    )
                }
                existing = set(session.scalars(select(User.username_key)))
                planned = self._plan(reader, org_ids, existing)
                summary = self._write(session, planned)
                self._forget_counters(session, planned)
                self._audit.record(
                    session,
                    Event.USERS_IMPORTED,
                    Where.of_operator(operator),
                    detail=f"{summary.users} users, {summary.memberships} memberships",
                )
        except csv.Error as error:
            raise InvalidInput(f"line {reader.line_num}: not valid CSV ({error})") from None
        self._refresh_statistics()
        return summary

    def _refresh_statistics(self) -> None:
        """Let PostgreSQL's planner see the new rows at once, rather than after its next
        background analysis: until then it pages an organisation with a poor plan."""
        with self._db.write() as session:
            if self._db.dialect == "postgresql":
                session.execute(text("ANALYZE users"))
                session.execute(text("ANALYZE memberships"))

    def _plan(
        self, reader: CsvRows, org_ids: dict[str, int], existing: set[str]
    ) -> dict[str, _PlannedUser]:
        planned: dict[str, _PlannedUser] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(HEADER):
                raise InvalidInput(f"line {line}: expected {len(HEADER)} fields, found {len(row)}")
            if any(len(cell) > MAX_FIELD for cell in row):
                raise InvalidInput(f"line {line}: a field is longer than {MAX_FIELD} characters")
            username, name, email, org, role, password_hash = (cell.strip() for cell in row)
            try:
                rules.check_username(username)
                name = rules.check_display_name(name)
                email = rules.check_email(email)
                rules.check_role(role)
            except InvalidInput as error:
                raise InvalidInput(f"line {line}: {error}") from None
            problem = imported_hash_problem(password_hash)
            if problem is not None:
                raise InvalidInput(
                    f"line {line}: password_hash is not an importable argon2id hash: {problem}"
                )
            org_id = org_ids.get(rules.text_key(org))
            if org_id is None:
                raise InvalidInput(f"line {line}: no organisation named {org!r}")
            key = rules.username_key(username)
            if key in existing:
                raise InvalidInput(f"line {line}: a user named {username!r} exists already")
            user = planned.get(key)
            if user is None:
                planned[key] = _PlannedUser(
                    line, username, name, email, password_hash, {org_id: role}
                )
                continue
            if (user.username, user.name, user.email, user.password_hash) != (
                username,
                name,
                email,
                password_hash,
            ):
                raise InvalidInput(
                    f"line {line}: {username!r} appears on line {user.line} with other details"
                )
            if org_id in user.memberships:
                raise InvalidInput(f"line {line}: {username!r} is in {org!r} twice")
            user.memberships[org_id] = role
        return planned

    def _forget_counters(self, session: Session, planned: dict[str, _PlannedUser]) -> None:
        """New accounts start with no failed attempts, whatever was typed under their names."""
        keys = [self._throttles.account(u.username, known=True).key for u in planned.values()]
        for start in range(0, len(keys), INSERT_BATCH):
            session.execute(
                delete(Throttle).where(Throttle.subject.in_(keys[start : start + INSERT_BATCH]))
            )

    def _write(self, session: Session, planned: dict[str, _PlannedUser]) -> ImportSummary:
        # Plain multi-row INSERTs (one executemany per batch) and one SELECT per batch for
        # the new ids: RETURNING would send one statement per row to SQLite.
        now = self._clock()
        # In username order, so that every index on the username grows at its end.
        users = [planned[key] for key in sorted(planned)]
        user_ids: dict[str, int] = {}
        for start in range(0, len(users), INSERT_BATCH):
            batch = users[start : start + INSERT_BATCH]
            rows = [
                {
                    "username": u.username,
                    "username_key": rules.username_key(u.username),
                    "name": u.name,
                    "name_key": rules.text_key(u.name),
                    "email": u.email,
                    "email_key": rules.text_key(u.email),
                    "password_hash": u.password_hash,
                    "is_account_manager": False,
                    "created_at": now,
                    "last_sign_in_at": None,
                    "revision": 0,
                    "notified_through": 0,
                }
                for u in batch
            ]
            session.execute(insert(USERS), rows)
            keys = [row["username_key"] for row in rows]
            user_ids.update(
                (key, user_id)
                for user_id, key in session.execute(
                    select(User.id, User.username_key).where(User.username_key.in_(keys))
                )
            )
        memberships = [
            {"org_id": org_id, "user_id": user_ids[key], "role": role, "username_key": key}
            for key, user in planned.items()
            for org_id, role in user.memberships.items()
        ]
        for start in range(0, len(memberships), INSERT_BATCH):
            session.execute(insert(MEMBERSHIPS), memberships[start : start + INSERT_BATCH])
        return ImportSummary(users=len(users), memberships=len(memberships))
