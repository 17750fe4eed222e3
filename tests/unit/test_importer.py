"""Bulk import: argon2 hashes taken as they are, all rows or none, errors with line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher, Type

from tui_portal.errors import InvalidInput
from tui_portal.security.passwords import IMPORT_BOUNDS, Passwords, imported_hash_problem
from tui_portal.services.audit import Event
from tui_portal.services.importer import ImportSummary
from tui_portal.services.portal import Portal
from tui_portal.services.results import SignedIn

from .support import OPERATOR, SOURCE, create_user

HEADER = ["username", "name", "email", "org", "role", "password_hash"]
# The cheapest argon2id parameters an import accepts.
HASHER = PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1)
ANN_HASH = HASHER.hash("ann's password")
BEN_HASH = HASHER.hash("ben's password")


def csv_lines(*rows: list[str], header: list[str] | None = None) -> list[str]:
    """Rows written the way any CSV writer writes them (the hashes hold commas, so quoted)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER if header is None else header)
    writer.writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def ann(org: str = "Acme", role: str = "member", **changes: str) -> list[str]:
    fields = {
        "username": "ann",
        "name": "Ann Example",
        "email": "ann@example.org",
        "org": org,
        "role": role,
        "password_hash": ANN_HASH,
    }
    fields.update(changes)
    return [fields[h] for h in HEADER]


def ben(org: str = "Acme", role: str = "admin") -> list[str]:
    return ["Ben", "Ben Sample", "", org, role, BEN_HASH]


@pytest.fixture
def orgs(portal: Portal) -> None:
    for name in ("Acme", "Beta"):
        portal.directory.create_organisation(name, operator=OPERATOR)
    create_user(portal, "existing", orgs={"Acme": "member"})


@pytest.fixture
def no_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails the test if anything hashes a password; yields the calls seen."""
    calls: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> str:
        calls.append("hash")
        raise AssertionError("importing must not hash")

    monkeypatch.setattr(PasswordHasher, "hash", refuse)
    monkeypatch.setattr(Passwords, "hash", refuse)
    yield calls


def user_count(portal: Portal) -> int:
    return len(portal.directory.list_users())


@pytest.mark.usefixtures("orgs")
def test_import_takes_the_hashes_and_memberships(portal: Portal, no_hashing: list[str]) -> None:
    summary = portal.importer.import_rows(
        csv_lines(ann("Acme", "member"), ann("beta", "admin"), ben("ACME", "admin")),
        operator=OPERATOR,
    )
    assert summary == ImportSummary(users=2, memberships=3)
    assert no_hashing == []
    listing = {u.username: u for u in portal.directory.list_users()}
    assert set(listing) == {"ann", "Ben", "existing"}
    assert listing["ann"].name == "Ann Example"
    assert listing["ann"].email == "ann@example.org"
    assert [(o.name, o.role) for o in listing["ann"].organisations] == [
        ("Acme", "member"),
        ("Beta", "admin"),
    ]
    assert [(o.name, o.role) for o in listing["Ben"].organisations] == [("Acme", "admin")]
    assert not listing["ann"].mfa_enabled
    trail = portal.audit.trail()
    assert trail[-1].event == Event.USERS_IMPORTED
    assert trail[-1].detail == "2 users, 3 memberships"


@pytest.mark.usefixtures("orgs")
def test_imported_users_sign_in_with_their_old_passwords(portal: Portal) -> None:
    portal.importer.import_rows(csv_lines(ann(), ben()), operator=OPERATOR)
    step = portal.sign_in.sign_in(username="ANN", password="ann's password", source=SOURCE)
    assert isinstance(step, SignedIn)
    assert isinstance(
        portal.sign_in.sign_in(username="ben", password="ben's password", source=SOURCE), SignedIn
    )


@pytest.mark.usefixtures("orgs")
def test_blank_lines_are_skipped(portal: Portal) -> None:
    lines = csv_lines(ann())
    lines.insert(1, "\n")
    lines.append(",,,,,\n")
    assert portal.importer.import_rows(lines, operator=OPERATOR).users == 1


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (
            PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1, type=Type.I).hash("pw"),
            "only argon2id",
        ),
        (
            PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1, type=Type.D).hash("pw"),
            "only argon2id",
        ),
        ("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "weaker"),
        ("$argon2id$v=19$m=7168,t=4,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "weaker"),
        ("$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "cost more"),
        ("$argon2id$v=19$m=65536,t=11,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "cost more"),
        ("$argon2id$v=19$m=65536,t=3,p=64$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "parallelism"),
        ("$argon2id$v=16$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "version"),
    ],
)
def test_only_argon2id_within_bounds_is_imported(value: str, words: str) -> None:
    problem = imported_hash_problem(value)
    assert problem is not None and words in problem


def test_the_bounds_admit_owasp_floor_settings_and_the_portals_own() -> None:
    for memory, passes in ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)):
        value = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=1).hash("x")
        assert imported_hash_problem(value) is None, (memory, passes)
    assert imported_hash_problem(PasswordHasher().hash("x")) is None
    assert IMPORT_BOUNDS.min_memory_kib == 7168


TRUNCATED = [
    ANN_HASH[: ANN_HASH.rindex("$")],  # no hash part
    ANN_HASH[: ANN_HASH.rindex("$") + 1],  # empty hash part
    ANN_HASH[:20],  # cut inside the parameters
    ANN_HASH[: ANN_HASH.rindex("$") + 5],  # a hash of three bytes
]


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        (csv_lines(ann(), header=["user", "name", "email", "org", "role", "hash"]), 1, "header"),
        (csv_lines(ann(), header=HEADER[:-1]), 1, "header"),
        ([], 1, "empty"),
        (csv_lines(ben(), ann(role="owner")), 3, "role"),
        (csv_lines(ben(), ann(role="Admin")), 3, "role"),
        (csv_lines(ben(), ann(password_hash="hunter2hunter2")), 3, "argon2"),
        (csv_lines(ben(), ann(password_hash="")), 3, "argon2"),
        (csv_lines(ben(), ann(password_hash="$2b$12$" + "a" * 53)), 3, "argon2"),  # bcrypt
        *[(csv_lines(ben(), ann(password_hash=t)), 3, "argon2") for t in TRUNCATED],
        (csv_lines(ben(), ann(org="Nowhere")), 3, "no organisation named 'Nowhere'"),
        (csv_lines(ben(), ann(username="EXISTING")), 3, "exists already"),
        (csv_lines(ben(), ann(), ann(name="Someone Else")), 4, "appears on line 3"),
        (csv_lines(ann(), ben(), ann(password_hash=BEN_HASH, org="Beta")), 4, "line 2"),
        (csv_lines(ann(), ann()), 3, "twice"),
        (csv_lines(ben(), ann()[:5]), 3, "expected 6 fields, found 5"),
        (csv_lines(ben(), [*ann(), "extra"]), 3, "expected 6 fields, found 7"),
        (csv_lines(ben(), ann(username="bad name")), 3, "Usernames"),
        (csv_lines(ben(), ann(name="Ann\x1b[31m")), 3, "control characters"),
        (csv_lines(ben(), ann(email="not-an-email")), 3, "email"),
        (csv_lines(ben(), ann(name="x" * 2000)), 3, "longer than"),
        ([*csv_lines(ben()), 'ann,"unterminated\n'], 3, "not valid CSV"),
    ],
)
@pytest.mark.usefixtures("orgs")
def test_a_bad_row_stops_the_import_and_nothing_is_written(
    portal: Portal, no_hashing: list[str], lines: list[str], line: int, words: str
) -> None:
    users_before = user_count(portal)
    trail_before = len(portal.audit.trail())
    with pytest.raises(InvalidInput) as raised:
        portal.importer.import_rows(lines, operator=OPERATOR)
    message = str(raised.value)
    assert message.startswith(f"line {line}:"), message
    assert words in message
    assert user_count(portal) == users_before
    assert len(portal.audit.trail()) == trail_before
    assert no_hashing == []
    # No secret value is ever echoed back in the message.
    assert ANN_HASH not in message and BEN_HASH not in message


@pytest.mark.parametrize(
    "value",
    [
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ANN_HASH,
        BEN_HASH,
    ],
)
def test_well_formed_phc_strings(value: str) -> None:
    assert imported_hash_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "password",
        "$argon2id$",
        "$argon2id$v=19$m=65536,t=3,p=4",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",  # 4-byte salt
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA",  # 4-byte hash
        "$argon2id$v=19$m=x,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=65536,t=3,p=4$c2Fs!HNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2x$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$extra",
    ],
)
def test_malformed_phc_strings(value: str) -> None:
    assert imported_hash_problem(value) is not None


def test_passwords_insist_on_argon2id() -> None:
    with pytest.raises(ValueError, match="argon2id"):
        Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I))
