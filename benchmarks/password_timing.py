"""How long a wrong password takes to be refused, for known, unknown and imported accounts.

If the answer for a name with an account came faster or slower than for a name without
one, the timing alone would tell an attacker who has an account. The portal checks an
unknown name against a dummy hash at its own argon2id parameters, and pads a check against
a stored hash with cheaper parameters (an imported one) to the usual time. This measures
all three, interleaved, through the real sign-in service with the real parameters, and
the anchor: the same imported hash checked bare, without the padding (how it was before).

    .venv/bin/python benchmarks/password_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from collections.abc import Callable

from _common import (
    median,
    ms,
    open_portal_at,
    percentile,
    print_header,
    print_table,
    ratio,
    scratch,
)

IMPORTED_PARAMETERS = {"time_cost": 5, "memory_cost": 7168, "parallelism": 1}  # the import floor
PASSWORD = "the right password 2026"
WRONG = "not the right password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40, help="attempts of each kind")
    rounds = parser.parse_args().rounds
    print_header(
        "Refusing a wrong password: known, unknown and imported accounts",
        f"python benchmarks/password_timing.py --rounds {rounds}",
    )
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    from tui_portal.errors import InvalidCredentials
    from tui_portal.services.results import Operator

    imported_hasher = PasswordHasher(**IMPORTED_PARAMETERS)
    with scratch() as space:
        portal = open_portal_at(space, space.db())  # the real argon2id parameters
        operator = Operator("benchmark")
        rows = ["username,name,email,org,role,password_hash"]
        portal.directory.create_organisation("Timing", operator=operator)
        for n in range(rounds):
            portal.directory.create_user(f"known{n}", PASSWORD, operator=operator)
            rows.append(f'imported{n},,,Timing,member,"{imported_hasher.hash(PASSWORD)}"')
        portal.importer.import_rows([line + "\n" for line in rows], operator=operator)
        bare_hash = imported_hasher.hash(PASSWORD)
        checker = PasswordHasher()  # verifies at the parameters written in the hash

        def attempt(name: str, number: int) -> Callable[[], None]:
            def run() -> None:
                try:
                    portal.sign_in.sign_in(
                        username=name,
                        password=WRONG,
                        source=f"ssh:10.{number // 250}.{number % 250}.1",
                    )
                except InvalidCredentials:
                    return
                raise AssertionError("a wrong password was accepted")

            return run

        kinds: dict[str, list[float]] = {"known": [], "unknown": [], "imported": [], "bare": []}
        order = [(kind, n) for n in range(rounds) for kind in kinds]
        random.Random(20261201).shuffle(order)
        for position, (kind, n) in enumerate(order):
            if kind == "bare":
                started = time.perf_counter()
                with contextlib.suppress(VerifyMismatchError):
                    checker.verify(bare_hash, WRONG)
                kinds[kind].append(time.perf_counter() - started)
                continue
            name = {"known": f"known{n}", "unknown": f"nobody{n}", "imported": f"imported{n}"}[kind]
            run = attempt(name, position)
            started = time.perf_counter()
            run()
            kinds[kind].append(time.perf_counter() - started)
        portal.close()

    known = median(kinds["known"])
    table = []
    for kind, label in (
        ("known", "known account, current parameters (anchor)"),
        ("unknown", "name without an account"),
        ("imported", "imported account, cheaper parameters"),
        ("bare", "before: the imported hash checked bare"),
    ):
        figures = kinds[kind]
        table.append(
            [
                label,
                ms(median(figures)),
                ratio(median(figures), known),
                ms(percentile(figures, 0.9)),
            ]
        )
    print(
        f"{rounds} wrong passwords of each kind, interleaved; ratios to the known account's median"
    )
    print()
    print_table(["refused sign-in", "median", "ratio", "p90"], table)
    spread = [median(kinds[k]) / known for k in ("unknown", "imported")]
    goal = all(0.9 <= value <= 1.1 for value in spread)
    print()
    print(f"goal: unknown and imported within 0.9–1.1× of known: {'met' if goal else 'MISSED'}")


if __name__ == "__main__":
    main()
