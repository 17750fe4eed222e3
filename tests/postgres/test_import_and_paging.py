"""Bulk import and the Users table's paging on PostgreSQL, checked against SQLite: the same
file gives the same members, and every case-insensitive prefix finds the same rows in the
same order on both databases."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tui_portal.errors import InvalidInput
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal
from tui_portal.services.results import Caller, MemberRow, SignedIn
from tui_portal.services.validation import text_key

from .support import OPERATOR, SOURCE, START, new_key, open_on

USERS = 3000
ACME, GLOBEX = "Acme Cloud", "Globex Labs"
MANAGER_PASSWORD = "manager password"
HASHER = PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1)  # the import's floor
# Usernames that differ only in punctuation or letter case, and names and emails whose
# case-folded forms leave ASCII: a locale-aware comparison orders and matches these
# differently from a code-point one.
STEMS = ["ab", "a-b", "a.b", "a_b", "Ab", "AB.x", "zed", "Zoe", "x@y", "o-o", "e_e", "ann"]
NAMES = [
    "Émile Zola",
    "emma Stone",
    "Éloïse Ém",
    "Ærø Skøbing",
    "Straße Weg",
    "STRASSE Hof",
    "ångström Å",
    "Zoë Zed",
    "Anna-Lena Berg",
    "anna lena Berg",
    "Øre Sund",
    "İpek Işık",
    "a-b Test",
    "",
]
DOMAINS = ["example.org", "Éxample.net", "a-b.example", "AB.example"]
PREFIXES = [
    "",
    "a",
    "A",
    "ab",
    "a-",
    "a.",
    "a_",
    "ab.",
    "e",
    "é",
    "É",
    "em",
    "émi",
    "ær",
    "straß",
    "strasse",
    "ss",
    "å",
    "ång",
    "z",
    "zo",
    "zoë",
    "ø",
    "i",
    "i̇p",
    "x@",
    "anna-",
    "anna ",
    "o-o",
    "nobody",
]


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    email: str


Members = dict[str, list[Person]]


def write_csv(path: Path) -> Members:
    """A file of USERS people (every tenth in both organisations), the hashes quoted as
    any CSV writer quotes them. Returns each organisation's members."""
    hashes = [HASHER.hash(f"password number {n}") for n in range(6)]
    members: Members = {ACME: [], GLOBEX: []}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(["username", "name", "email", "org", "role", "password_hash"])
        for n, stem, name, domain, password_hash in zip(
            range(USERS),
            itertools.cycle(STEMS),
            itertools.cycle(NAMES),
            itertools.cycle(DOMAINS),
            itertools.cycle(hashes),
            strict=False,
        ):
            person = Person(
                f"{stem}{n:04d}", name, f"{stem.replace('@', '.')}{n}@{domain}" if n % 7 else ""
            )
            orgs = [ACME, GLOBEX] if n % 10 == 0 else [ACME if n % 3 else GLOBEX]
            for org in orgs:
                role = "admin" if n % 50 == 0 else "member"
                writer.writerow(
                    [person.username, person.name, person.email, org, role, password_hash]
                )
                members[org].append(person)
    text = path.read_text(encoding="utf-8")
    assert f'"{hashes[0]}"' in text  # the commas in the hash are quoted
    return members


def expected(people: list[Person], prefix: str) -> tuple[int, list[str]]:
    """What a filter should find, worked out here: a case-folded prefix of the username,
    name or email, in username order, comparing code points."""
    folded = text_key(prefix.strip())
    found = sorted(
        (
            p.username
            for p in people
            if any(
                key.startswith(folded)
                for key in (p.username.lower(), text_key(p.name), text_key(p.email))
            )
        ),
        key=str.lower,
    )
    return len(found), found


def prepare(portal: Portal, path: Path) -> Caller:
    """The organisations and an account manager; then import the file. Returns a session
    of the manager's."""
    for org in (ACME, GLOBEX):
        portal.directory.create_organisation(org, operator=OPERATOR)
    portal.directory.create_user("sam", MANAGER_PASSWORD, operator=OPERATOR, account_manager=True)
    with path.open(encoding="utf-8", newline="") as handle:
        summary = portal.importer.import_rows(handle, operator=OPERATOR)
    assert summary.users == USERS
    signed = portal.sign_in.sign_in(username="sam", password=MANAGER_PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn)
    return signed.caller


def everything(portal: Portal, actor: Caller, org_id: int, prefix: str) -> tuple[int, list[str]]:
    """Every member matching ``prefix``, a page of 500 at a time, and the reported total."""
    usernames: list[str] = []
    totals = set()
    for offset in itertools.count(0, 500):
        page = portal.members.member_page(
            actor, org_id=org_id, prefix=prefix, offset=offset, limit=500
        )
        totals.add(page.total)
        usernames.extend(row.username for row in page.rows)
        if len(page.rows) < 500:
            break
    assert len(totals) == 1
    return totals.pop(), usernames


@pytest.fixture(scope="module")
def import_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Members]:
    path = tmp_path_factory.mktemp("import") / "people.csv"
    return path, write_csv(path)


@pytest.fixture
def sqlite_portal(tmp_path: Path) -> Iterator[Portal]:
    portal = open_on(f"sqlite:///{tmp_path / 'same.db'}", new_key(), ManualClock(START), tmp_path)
    try:
        yield portal
    finally:
        portal.close()


def test_import_and_member_pages_agree_with_sqlite(
    pg_portal: Portal, sqlite_portal: Portal, import_file: tuple[Path, Members]
) -> None:
    path, members = import_file
    pg_manager = prepare(pg_portal, path)
    lite_manager = prepare(sqlite_portal, path)

    pg_orgs = {o.name: o.id for o in pg_portal.directory.organisations()}
    lite_orgs = {o.name: o.id for o in sqlite_portal.directory.organisations()}
    for org in (ACME, GLOBEX):
        assert everything(pg_portal, pg_manager, pg_orgs[org], "")[0] == len(members[org])
        for prefix in PREFIXES:
            on_postgres = everything(pg_portal, pg_manager, pg_orgs[org], prefix)
            on_sqlite = everything(sqlite_portal, lite_manager, lite_orgs[org], prefix)
            assert on_postgres == expected(members[org], prefix), (org, prefix)
            assert on_sqlite == on_postgres, (org, prefix)
    assert expected(members[ACME], "É")[0] > 0
    assert expected(members[ACME], "nobody")[0] == 0


def test_member_pages_are_windows_of_one_order(
    pg_portal: Portal, import_file: tuple[Path, Members]
) -> None:
    path, members = import_file
    manager = prepare(pg_portal, path)
    org_id = next(o.id for o in pg_portal.directory.organisations() if o.name == ACME)
    directory = pg_portal.members
    whole = everything(pg_portal, manager, org_id, "")[1]
    stitched: list[str] = []
    for offset in range(0, len(whole) + 100, 100):
        page = directory.member_page(manager, org_id=org_id, offset=offset, limit=100)
        assert (page.total, page.offset) == (len(members[ACME]), offset)
        stitched.extend(row.username for row in page.rows)
    assert stitched == whole
    last = directory.member_page(manager, org_id=org_id, offset=len(whole) - 1, limit=100)
    assert [row.username for row in last.rows] == whole[-1:]
    beyond = directory.member_page(manager, org_id=org_id, offset=len(whole), limit=100)
    assert (beyond.rows, beyond.total) == ((), len(whole))
    for offset, limit in ((-1, 100), (0, 0), (0, 501)):
        with pytest.raises(InvalidInput):
            directory.member_page(manager, org_id=org_id, offset=offset, limit=limit)

    # Roles came through, and an imported person signs in with the password their hash
    # was made from (person n has hash n % 6).
    roles = {row.username: row.role for row in everything_rows(pg_portal, manager, org_id)}
    assert roles["ab0000"] == "admin"
    assert roles["a-b0001"] == "member"
    signed_in = pg_portal.sign_in.sign_in(
        username="A-B0001", password="password number 1", source=SOURCE
    )
    assert isinstance(signed_in, SignedIn)
    assert not signed_in.account.mfa_enabled


def everything_rows(portal: Portal, actor: Caller, org_id: int) -> list[MemberRow]:
    rows: list[MemberRow] = []
    for offset in itertools.count(0, 500):
        page = portal.members.member_page(actor, org_id=org_id, offset=offset, limit=500)
        rows.extend(page.rows)
        if len(page.rows) < 500:
            return rows
    raise AssertionError("unreachable")


def test_a_bad_row_stops_the_import_and_nothing_is_written(
    pg_portal: Portal, tmp_path: Path
) -> None:
    pg_portal.directory.create_organisation(ACME, operator=OPERATOR)
    good = HASHER.hash("a password")
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["username", "name", "email", "org", "role", "password_hash"])
        for n in range(200):
            writer.writerow([f"user{n:03d}", "", "", ACME, "member", good])
        writer.writerow(["late", "", "", ACME, "member", "plain text password"])
    with (
        path.open(encoding="utf-8", newline="") as handle,
        pytest.raises(InvalidInput, match="line 202"),
    ):
        pg_portal.importer.import_rows(handle, operator=OPERATOR)
    assert pg_portal.directory.list_users() == []


def test_an_import_leaves_fresh_planner_statistics(pg_portal: Portal) -> None:
    """Right after an import the planner already knows the new rows (no slow first pages)."""
    from sqlalchemy import text

    pg_portal.directory.create_organisation(ACME, operator=OPERATOR)
    good = HASHER.hash("a password")
    lines = ["username,name,email,org,role,password_hash\n"] + [
        f'user{n:03d},,,{ACME},member,"{good}"\n' for n in range(50)
    ]
    pg_portal.importer.import_rows(lines, operator=OPERATOR)
    with pg_portal.engine.connect() as connection:
        analysed = dict(
            connection.execute(
                text(
                    "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname IN ('users', 'memberships')"
                )
            ).all()
        )
    assert analysed == {"users": True, "memberships": True}
