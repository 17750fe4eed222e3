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

    directory = portal.directory
    if directory.organisations():
        return False
    actor = "demo-seed"
    for org in (ACME, GLOBEX):
        directory.create_organisation(org, actor=actor)
    passwords = {username: password for username, password, _ in DEMO_ACCOUNTS}
    ids: dict[str, int] = {}
    for username, (name, email, manager, memberships) in _PEOPLE.items():
        ids[username] = directory.create_user(
            username,
            passwords[username],
            actor=actor,
            name=name,
            email=email,
            account_manager=manager,
        ).id
        for org, role in memberships:
            directory.add_member(org, username, role, actor=actor)
    linus_id = ids["linus"]
    enrolment = portal.mfa.start_enrolment(linus_id)
    code = totp.code_at_step(enrolment.secret, totp.time_step(clock().timestamp()))
    portal.mfa.confirm_enrolment(linus_id, enrolment.credential_id, code)
    _seed_generated_members(portal)
    return True


def _seed_generated_members(portal: Portal) -> None:
    """Enough members in one organisation to page through; none of them can sign in."""
    unusable = portal.passwords.hash(secrets.token_urlsafe(32))
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
    portal.importer.import_rows(buffer, actor="demo-seed")
