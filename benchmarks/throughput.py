"""Service throughput: sign-ins per second, and the cost of checking an MFA code.

Sign-ins run through the real service with the real argon2id parameters, in one and in two
processes sharing one SQLite file; each process signs in its own users for a fixed time.
The anchor of each is bare argon2id verification in as many processes: the work a sign-in
cannot avoid. A code check is timed through the service (the TOTP comparison, then the
conditional UPDATE that claims the time step against replay), with a clock that moves one
step per check so every code is new; its anchor is the TOTP comparison alone.

    python benchmarks/throughput.py [--seconds S] [--repeats N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    Scratch,
    median,
    ms,
    open_portal_at,
    print_header,
    print_table,
    ratio,
    scratch,
)

PASSWORD = "a benchmark password"
SOURCE = "local:benchmark"
USERS_PER_PROCESS = 4
CODE_CHECKS = 200
SIGN_IN_CODE_STEPS = 20
_runs = 0  # sign-in runs so far: each one's clocks start a day later


def username(process: int, number: int, mfa: bool) -> str:
    return f"{'mfa' if mfa else 'plain'}.p{process}.u{number}"


def prepare(space: Scratch, db: Path, processes: int) -> dict[str, str]:
    """Users for every process, with and without MFA; the TOTP secret of each MFA user."""
    from tui_portal.security.totp import code_at_step, time_step
    from tui_portal.services.clock import ManualClock
    from tui_portal.services.results import Operator, SignedIn

    benchmark = Operator("benchmark")
    clock = ManualClock(datetime.now(UTC))
    portal = open_portal_at(space, db, clock=clock)
    secrets: dict[str, str] = {}
    try:
        for process in range(processes):
            for number in range(USERS_PER_PROCESS):
                for mfa in (False, True):
                    name = username(process, number, mfa)
                    portal.directory.create_user(name, PASSWORD, operator=benchmark)
                    if mfa:
                        signed = portal.sign_in.sign_in(
                            username=name, password=PASSWORD, source=SOURCE
                        )
                        assert isinstance(signed, SignedIn)
                        enrolment = portal.mfa.start_enrolment(signed.caller)
                        step = time_step(clock().timestamp())
                        code = code_at_step(enrolment.secret, step)
                        portal.mfa.confirm_enrolment(
                            signed.caller, credential_id=enrolment.credential_id, code=code
                        )
                        secrets[name] = enrolment.secret
    finally:
        portal.close()
    return secrets


def worker(job: dict[str, Any]) -> tuple[int, float]:
    """One process: sign-ins (or bare argon2 verifications) until the deadline."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    os.environ.update(job["env"])
    from tui_portal.config import resolve_settings
    from tui_portal.security.passwords import Passwords
    from tui_portal.security.totp import code_at_step, time_step
    from tui_portal.services.clock import ManualClock
    from tui_portal.services.portal import open_portal
    from tui_portal.services.results import CodeRequired

    # Each process's clock runs ahead by a step per sign-in, so every code is new; each
    # run starts a day after the last one, past every step used before.
    clock = ManualClock(datetime.now(UTC) + timedelta(days=job["day"]))
    portal = open_portal(resolve_settings(db=job["db"], environ=job["env"]), clock=clock)
    names = [username(job["process"], n, job["mfa"]) for n in range(USERS_PER_PROCESS)]
    stored = Passwords().hash(PASSWORD)
    done = 0
    while time.time() < job["start"]:
        time.sleep(0.001)
    started = time.perf_counter()
    while time.time() < job["start"] + job["seconds"]:
        name = names[done % len(names)]
        if job["kind"] == "argon2":
            assert portal.passwords.verify(stored, PASSWORD).matched
        else:
            step = portal.sign_in.sign_in(username=name, password=PASSWORD, source=SOURCE)
            if isinstance(step, CodeRequired):
                clock.advance(30)
                code = code_at_step(job["secrets"][name], time_step(clock().timestamp()))
                portal.sign_in.verify_code(token=step.token, code=code)
        done += 1
    elapsed = time.perf_counter() - started
    portal.close()
    return done, elapsed


def rate(
    space: Scratch, db: Path, secrets: dict[str, str], kind: str, mfa: bool, n: int, seconds: float
) -> float:
    """Sign-ins (or verifications) per second over ``n`` processes running together."""
    global _runs
    _runs += 1
    context = multiprocessing.get_context("spawn")
    start = time.time() + 3.0  # every process has opened its portal by then
    jobs = [
        {
            "env": {k: v for k, v in space.env.items() if k.startswith(("TUI_", "XDG_"))},
            "db": str(db),
            "process": process,
            "mfa": mfa,
            "kind": kind,
            "secrets": secrets,
            "start": start,
            "seconds": seconds,
            "day": _runs,
        }
        for process in range(n)
    ]
    with context.Pool(n) as pool:
        results = pool.map(worker, jobs)
    return sum(done / elapsed for done, elapsed in results)


def code_checks(space: Scratch, db: Path, secrets: dict[str, str]) -> dict[str, list[float]]:
    """Seconds per code check: the check with its replay UPDATE, the whole code step of a
    sign-in, and (the anchor) the TOTP comparison alone."""
    from sqlalchemy import select

    from tui_portal.data.models import MfaCredential, User
    from tui_portal.security.secret_box import SecretBox, load_key
    from tui_portal.security.totp import check_code, code_at_step, time_step
    from tui_portal.services.clock import ManualClock
    from tui_portal.services.results import CodeRequired
    from tui_portal.services.signin import consume_code

    clock = ManualClock(datetime.now(UTC) + timedelta(days=_runs + 1))
    portal = open_portal_at(space, db, clock=clock)
    box = SecretBox(load_key(portal.settings.key_source, create=False))
    name = username(0, 0, True)
    secret = secrets[name]
    figures: dict[str, list[float]] = {"check": [], "step": [], "bare": []}
    for _ in range(CODE_CHECKS):
        clock.advance(30)
        now = clock()
        code = code_at_step(secret, time_step(now.timestamp()))
        start = time.perf_counter()
        with portal.db.write() as session:
            credential = session.scalar(
                select(MfaCredential)
                .join(User, User.id == MfaCredential.user_id)
                .where(User.username_key == name, MfaCredential.status == "active")
            )
            assert credential is not None
            assert consume_code(session, credential, box, code, now).accepted
        figures["check"].append(time.perf_counter() - start)
    # The password step (argon2) of each sign-in is not timed: only its code step is.
    for _ in range(SIGN_IN_CODE_STEPS):
        pending = portal.sign_in.sign_in(username=name, password=PASSWORD, source=SOURCE)
        assert isinstance(pending, CodeRequired)
        clock.advance(30)
        code = code_at_step(secret, time_step(clock().timestamp()))
        start = time.perf_counter()
        portal.sign_in.verify_code(token=pending.token, code=code)
        figures["step"].append(time.perf_counter() - start)
    for number in range(CODE_CHECKS):
        now_seconds = clock().timestamp() + 30 * number
        code = code_at_step(secret, time_step(now_seconds))
        start = time.perf_counter()
        assert check_code(secret, code, now_seconds, -1).accepted
        figures["bare"].append(time.perf_counter() - start)
    portal.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args()
    command = "python benchmarks/throughput.py"
    if args.seconds != 4.0:
        command += f" --seconds {args.seconds:g}"
    if args.repeats != 3:
        command += f" --repeats {args.repeats}"
    print_header("Service throughput: sign-ins per second, and the cost of a code check", command)
    kinds = {"argon2": ("argon2", False), "without": ("sign-in", False), "with": ("sign-in", True)}
    with scratch() as space:
        db = space.db()
        secrets = prepare(space, db, processes=2)
        rows = []
        for processes in (1, 2):
            # The anchor and both kinds of sign-in take turns, so noise falls on all three.
            rates: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(args.repeats):
                for name, (kind, mfa) in kinds.items():
                    rates[name].append(rate(space, db, secrets, kind, mfa, processes, args.seconds))
            anchor = median(rates["argon2"])
            for name in ("without", "with"):
                figure = median(rates[name])
                rows.append(
                    [
                        f"sign-ins/s, {name} MFA, "
                        f"{processes} process{'es' if processes > 1 else ''}",
                        f"{figure:,.2f}/s",
                        f"{anchor:,.2f}/s",
                        ratio(figure, anchor),
                    ]
                )
        checks = code_checks(space, db, secrets)
    bare = median(checks["bare"])
    rows.append(
        [
            f"code check with its replay UPDATE (median of {len(checks['check'])})",
            ms(median(checks["check"])),
            ms(bare),
            ratio(median(checks["check"]), bare),
        ]
    )
    rows.append(
        [
            f"code step of a sign-in, complete (median of {len(checks['step'])})",
            ms(median(checks["step"])),
            ms(bare),
            ratio(median(checks["step"]), bare),
        ]
    )
    print(
        f"median of {args.repeats} runs of {args.seconds:g} s, taking turns with the anchor; "
        "one SQLite file shared by the processes; argon2id "
        f"t=3, m=64 MiB, p=4. Anchors: bare argon2id verifications per second in as many "
        f"processes; for code checks, the TOTP comparison alone (3 HMACs, no database)."
    )
    print()
    print_table(["figure", "portal", "anchor", "ratio to anchor"], rows)


if __name__ == "__main__":
    main()
