"""The demo database: two organisations and a handful of people, seeded on first use.

Every procedure of the portal can be tried with these accounts: enrolling MFA, signing in
with a code, and an admin recovering a member who lost their authenticator.
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import TYPE_CHECKING

from tui_portal.services.clock import Clock

if TYPE_CHECKING:
    from tui_portal.services.portal import Portal
    from tui_portal.services.results import Operator

ACME = "Acme Cloud"
GLOBEX = "Globex Labs"
GENERATED_MEMBERS = 240

# (username, password, what to try) as the sign-in screen lists them.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("ada", "ada-demo-pass", "admin of both organisations"),
    ("grace", "grace-demo-pass", f"admin of {GLOBEX}"),
    ("margaret", "margaret-demo-pass", f"member of {ACME}, no MFA yet"),
    ("linus", "linus-demo-pass", "has MFA: ask an admin to disable it"),
    ("bobby", "bobby-demo-pass", "a name with [markup] in it"),
    ("sam", "sam-demo-pass", "account manager (staff)"),
)

_PEOPLE = {
    "ada": ("Ada Lovelace", "ada@acme.example", False, [(ACME, "admin"), (GLOBEX, "admin")]),
    "grace": ("Grace Hopper", "grace@globex.example", False, [(GLOBEX, "admin")]),
    "margaret": ("Margaret Hamilton", "margaret@acme.example", False, [(ACME, "member")]),
    "linus": (
        "Linus Torvalds",
        "linus@acme.example",
        False,
        [(ACME, "member"), (GLOBEX, "member")],
    ),
    "bobby": ("[bold]Bobby[/] Tables", "bobby@globex.example", False, [(GLOBEX, "member")]),
    "sam": ("Sam Support", "sam@portal.example", True, []),
}
_FIRST = ["Alex", "Blair", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Indy", "Jo"]
_LAST = ["Archer", "Baker", "Carter", "Dyer", "Evans", "Fisher", "Gardner", "Hunter"]


def seed_demo(portal: Portal, clock: Clock) -> bool:
    """Fill an empty demo database; returns whether it seeded anything."""
    from tui_portal.security import totp
    from tui_portal.services.results import Operator, SignedIn

    directory = portal.directory
    if directory.organisations():
        return False
    seeder = Operator("demo-seed")
    for org in (ACME, GLOBEX):
        directory.create_organisation(org, operator=seeder)
    passwords = {username: password for username, password, _ in DEMO_ACCOUNTS}
    ids: dict[str, int] = {}
    for username, (name, email, manager, memberships) in _PEOPLE.items():
        ids[username] = directory.create_user(
            username,
            passwords[username],
            operator=seeder,
            name=name,
            email=email,
            account_manager=manager,
        ).id
        for org, role in memberships:
            directory.add_member(org, username, role, operator=seeder)
    linus = portal.sign_in.sign_in(
        username="linus", password=passwords["linus"], source=seeder.source
    )
    assert isinstance(linus, SignedIn)
    enrolment = portal.mfa.start_enrolment(linus.caller)
    code = totp.code_at_step(enrolment.secret, totp.time_step(clock().timestamp()))
    portal.mfa.confirm_enrolment(linus.caller, credential_id=enrolment.credential_id, code=code)
    portal.sessions.sign_out(linus.caller)
    _seed_generated_members(portal, seeder)
    return True


def _seed_generated_members(portal: Portal, seeder: Operator) -> None:
    """Enough members in one organisation to page through; none of them can sign in."""
    # An argon2id hash of a random password nobody knows, at the cheapest parameters an
    # import accepts (the import checks every hash against its bounds).
    from argon2 import PasswordHasher

    from tui_portal.security.passwords import IMPORT_BOUNDS

    unusable = PasswordHasher(
        time_cost=IMPORT_BOUNDS.min_memory_time // IMPORT_BOUNDS.min_memory_kib,
        memory_cost=IMPORT_BOUNDS.min_memory_kib,
        parallelism=1,
    ).hash(secrets.token_urlsafe(32))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["username", "name", "email", "org", "role", "password_hash"])
    for n in range(GENERATED_MEMBERS):
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n // len(_FIRST)) % len(_LAST)]
        username = f"{first.lower()}.{last.lower()}{n}"
        writer.writerow(
            [username, f"{first} {last}", f"{username}@acme.example", ACME, "member", unusable]
        )
    buffer.seek(0)
    portal.importer.import_rows(buffer, operator=seeder)
