"""How many SQL statements each step of the portal sends to the database.

Counts every statement the engine executes (BEGIN and COMMIT included) while one step
runs through the real services on SQLite; the figures do not depend on the machine.

    .venv/bin/python benchmarks/statements.py
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _common import open_portal_at, print_header, print_table, scratch

PASSWORD = "a benchmark password 1"
# As counted on the portal before this version (no session rows, throttle or audit chain),
# with the same steps; the reference the rebuild was measured against.
BEFORE = {"the code step of a sign-in": 13, "an admin disables a member's MFA": 16}


class StatementCounter:
    """Counts the statements an engine executes while switched on."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.kinds: list[str] = []
        self._on = False
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(engine, "begin", self._began)
        event.listen(engine, "commit", self._committed)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._on:
            self.count += 1
            self.kinds.append(statement.split(None, 1)[0].upper())

    def _began(self, _conn: Any) -> None:
        if self._on:
            self.kinds.append("(begin)")

    def _committed(self, _conn: Any) -> None:
        if self._on:
            self.kinds.append("(commit)")

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.kinds, self._on = 0, [], True
        try:
            yield
        finally:
            self._on = False


def main() -> None:
    print_header("SQL statements per step", "python benchmarks/statements.py")
    from datetime import UTC, datetime

    from argon2 import PasswordHasher

    from tui_portal.security import totp
    from tui_portal.security.passwords import Passwords
    from tui_portal.services.clock import ManualClock
    from tui_portal.services.results import CodeRequired, Operator, SignedIn

    clock = ManualClock(datetime(2031, 1, 1, tzinfo=UTC))
    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    results: list[tuple[str, int, str]] = []
    with scratch() as space:
        portal = open_portal_at(space, space.db(), clock=clock, passwords=cheap)
        op = Operator("benchmark")
        portal.directory.create_organisation("Acme", operator=op)
        for name, role in (("admin", "admin"), ("member", "member"), ("plain", "member")):
            portal.directory.create_user(name, PASSWORD, operator=op)
            portal.directory.add_member("Acme", name, role, operator=op)

        def sign_in(name: str) -> Any:
            return portal.sign_in.sign_in(username=name, password=PASSWORD, source="ssh:1")

        signed = sign_in("member")
        assert isinstance(signed, SignedIn)
        enrolment = portal.mfa.start_enrolment(signed.caller)
        code = totp.code_at_step(enrolment.secret, totp.time_step(clock().timestamp()))
        portal.mfa.confirm_enrolment(
            signed.caller, credential_id=enrolment.credential_id, code=code
        )
        counter = StatementCounter(portal.engine)

        def measure(label: str, step: Callable[[], Any]) -> Any:
            with counter.counting():
                outcome = step()
            results.append((label, counter.count, " ".join(counter.kinds)))
            return outcome

        sign_in("plain")  # the first notice read is done: later ones are typical
        admin = measure("the password step of a sign-in, without MFA", lambda: sign_in("admin"))
        clock.advance(30)
        pending = measure("the password step of a sign-in, with MFA", lambda: sign_in("member"))
        assert isinstance(pending, CodeRequired)
        code = totp.code_at_step(enrolment.secret, totp.time_step(clock().timestamp()))
        measure(
            "the code step of a sign-in",
            lambda: portal.sign_in.verify_code(token=pending.token, code=code),
        )
        acme = next(o.id for o in portal.directory.organisations())
        members = {
            r.username: r.user_id
            for r in portal.members.member_page(admin.caller, org_id=acme).rows
        }
        measure(
            "an admin disables a member's MFA",
            lambda: portal.mfa.disable_for_user(
                admin.caller, password=PASSWORD, target_user_id=members["member"], org_id=acme
            ),
        )
        measure(
            "a session's heartbeat (every few seconds)",
            lambda: portal.sessions.heartbeat(admin.caller, active=False),
        )
        measure(
            "the Users screen's first window",
            lambda: portal.members.member_page(admin.caller, org_id=acme, limit=100),
        )
        portal.close()

    rows = [
        [label, str(count), str(BEFORE[label]) if label in BEFORE else "", kinds]
        for label, count, kinds in results
    ]
    print_table(["step", "statements", "before", "what they are"], rows)


if __name__ == "__main__":
    main()
