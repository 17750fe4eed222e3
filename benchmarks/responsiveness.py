"""Responsiveness: the longest stall of the event loop during each procedure a person does.

The real app runs over a real database with the real argon2id parameters, driven with
Pilot; a 5 ms timer on the app's event loop records the longest gap between its ticks
while each procedure runs. Anything that blocked the loop (argon2, a query, a slow render)
shows up as a long gap. The anchor is the same timer while the app sits idle, which shows
how steady the machine itself is.

    python benchmarks/responsiveness.py [--members N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from _common import (
    ADMIN,
    ADMIN_PASSWORD,
    ORG,
    Scratch,
    Ticker,
    median,
    ms,
    open_portal_at,
    print_header,
    print_table,
    ratio,
    scratch,
    seed_org,
    send_keys,
    until,
    verdict,
)

GOAL = 0.025
SIZE = (80, 24)
SOURCE = "local:benchmark"
MFA_MEMBER = "mfa.member"
MFA_MEMBER_PASSWORD = "a member's own password"
IDLE_SECONDS = 2.0


class StallSampler:
    """Where the event loop was while it was stalled past the goal, sampled from a thread.

    Every few milliseconds, when the ticker is overdue, the main thread's stack is read and
    summed up as its innermost function, and the innermost portal function that led there.
    """

    def __init__(self, ticker: Ticker) -> None:
        self.ticker = ticker
        self.procedure: str | None = None
        self.samples: dict[str, Counter[str]] = {}
        self._main = threading.main_thread().ident
        self.collections: dict[str, tuple[float, int]] = {}
        self._collecting_since = 0.0
        gc.callbacks.append(self._collection)
        threading.Thread(target=self._run, name="stall-sampler", daemon=True).start()

    def _collection(self, phase: str, info: dict[str, int]) -> None:
        """Note the longest cycle collection of each procedure (it stops every thread)."""
        if phase == "start":
            self._collecting_since = time.perf_counter()
            return
        procedure = self.procedure
        if procedure is None:
            return
        took = time.perf_counter() - self._collecting_since
        if took > self.collections.get(procedure, (0.0, 0))[0]:
            self.collections[procedure] = (took, info["generation"])

    def _run(self) -> None:
        while True:
            time.sleep(0.002)
            procedure, last = self.procedure, self.ticker.last_tick
            if procedure is None or not last or time.perf_counter() - last < GOAL:
                continue
            frame = sys._current_frames().get(self._main or 0)
            if frame is not None:
                self.samples.setdefault(procedure, Counter())[describe(frame)] += 1


def describe(frame: FrameType) -> str:
    """``innermost function (from the innermost portal function)``."""
    stack = traceback.extract_stack(frame)
    innermost = stack[-1]
    portal = next((f for f in reversed(stack) if "tui_portal" in f.filename), None)

    def where(summary: traceback.FrameSummary) -> str:
        path = summary.filename.replace("\\", "/")
        for marker in ("site-packages/", "tui_portal/", "lib/python"):
            if marker in path:
                path = path.split(marker, 1)[1]
                break
        return f"{path}:{summary.name}"

    text = where(innermost)
    return (
        f"{text} (from {where(portal)})" if portal is not None and portal is not innermost else text
    )


class Session:
    """The app, its pilot, the clock and the ticker, and the longest gap per procedure."""

    def __init__(self, app: Any, pilot: Any, clock: Any, portal: Any) -> None:
        self.app, self.pilot, self.clock, self.portal = app, pilot, clock, portal
        self.ticker = Ticker(app)
        self.gaps: dict[str, list[float]] = {}
        self.sampler: StallSampler | None = None

    async def measure(self, name: str, procedure: Callable[[], Awaitable[None]]) -> None:
        """Run ``procedure`` and note the longest gap between ticks while it ran."""
        await self.pilot.pause()
        self.ticker.reset()
        if self.sampler is not None:
            self.sampler.procedure = name
        await procedure()
        await asyncio.sleep(Ticker.INTERVAL * 2)  # let the last gap end
        if self.sampler is not None:
            self.sampler.procedure = None
        self.gaps.setdefault(name, []).append(self.ticker.longest)

    def code(self, secret: str) -> str:
        """The code an authenticator shows now."""
        from tui_portal.security.totp import code_at_step, time_step

        return code_at_step(secret, time_step(self.clock().timestamp()))

    async def type(self, text: str) -> None:
        await send_keys(self.app, *text)

    async def press(self, *keys: str) -> None:
        await send_keys(self.app, *keys)


def enrol_member(portal: Any, username: str, password: str, clock: Any) -> None:
    """Give the member an authenticator, as if they had enrolled themselves."""
    from tui_portal.security.totp import code_at_step, time_step

    clock.advance(30)
    caller = portal.sign_in.sign_in(username=username, password=password, source=SOURCE).caller
    enrolment = portal.mfa.start_enrolment(caller)
    code = code_at_step(enrolment.secret, time_step(clock().timestamp()))
    portal.mfa.confirm_enrolment(caller, credential_id=enrolment.credential_id, code=code)
    portal.sessions.sign_out(caller)


async def one_round(s: Session, member_id: int) -> None:
    """Every procedure once, from the sign-in screen back to it."""
    from tui_portal.screens.confirm_password import ConfirmPasswordModal
    from tui_portal.screens.enable_mfa import EnableMfaScreen
    from tui_portal.screens.mfa_code import MfaCodeScreen
    from tui_portal.screens.notice import SecurityNoticeModal
    from tui_portal.screens.profile import ProfileScreen
    from tui_portal.screens.recovery_codes import RecoveryCodesScreen
    from tui_portal.screens.users import UsersScreen

    app = s.app

    def account_mfa() -> bool:
        return bool(app.session is not None and app.session.account.mfa_enabled)

    async def sign_in_password() -> None:
        await s.type(ADMIN)
        await s.press("enter")
        await s.type(ADMIN_PASSWORD)
        await s.press("enter")

    def first_screen_up() -> bool:
        """The profile is drawn, with the notice of what happened since the last sign-in
        over it when there is one (the rounds before this one leave events behind)."""
        session = app.session
        if session is None or not app.screen.is_mounted:
            return False
        if session.notice is not None:  # the modal comes a moment after the profile
            return isinstance(app.screen, SecurityNoticeModal)
        return isinstance(app.screen, ProfileScreen)

    async def past_the_notice() -> None:
        """Dismiss the notice, between two measured procedures."""
        if isinstance(app.screen, SecurityNoticeModal):
            await s.press("enter")
        await until(lambda: isinstance(app.screen, ProfileScreen))

    async def password_only() -> None:
        await sign_in_password()
        await until(first_screen_up)

    await s.measure("sign in (password, no MFA)", password_only)
    await past_the_notice()

    secret = ""

    async def enrol() -> None:
        nonlocal secret
        await s.press("e")
        await until(
            lambda: isinstance(app.screen, EnableMfaScreen) and app.screen.query("#secret-key")
        )
        secret = app.screen.query_one("#secret-key").content.plain.replace(" ", "")
        await s.type(s.code(secret))
        await s.press("enter")
        await until(
            lambda: (
                account_mfa()
                and isinstance(app.screen, RecoveryCodesScreen)
                and app.screen.is_mounted
            )
        )
        await s.press("enter")  # Done, after the recovery codes
        await until(lambda: isinstance(app.screen, ProfileScreen))

    await s.measure("enrol MFA (QR code, then a code, then the recovery codes)", enrol)
    app.sign_out()
    await until(lambda: app.session is None and type(app.screen).__name__ == "SignInScreen")
    s.clock.advance(30)

    async def password_step() -> None:
        await sign_in_password()
        await until(lambda: isinstance(app.screen, MfaCodeScreen))

    await s.measure("sign in with MFA: password step", password_step)

    async def code_step() -> None:
        await s.type(s.code(secret))
        await s.press("enter")
        await until(first_screen_up)

    await s.measure("sign in with MFA: confirm the code", code_step)
    await past_the_notice()

    async def disable_own() -> None:
        await s.press("d")
        await until(lambda: isinstance(app.screen, ConfirmPasswordModal))
        await s.type(ADMIN_PASSWORD)
        await s.press("enter")
        await until(lambda: not account_mfa() and isinstance(app.screen, ProfileScreen))

    await s.measure("confirm password, disable own MFA", disable_own)

    async def open_users() -> None:
        await s.press("u")
        await until(
            lambda: (
                isinstance(app.screen, UsersScreen)
                and app.screen.query_one("#members").loaded is not None
            )
        )

    await s.measure("open Users", open_users)

    async def filter_members() -> None:
        await s.press("slash")
        await s.type("mfa.m")
        table = app.screen.query_one("#members")
        await until(lambda: table.total == 1 and table.loaded is not None)

    await s.measure("filter the members (5 keys)", filter_members)

    async def disable_member() -> None:
        table = app.screen.query_one("#members")
        await s.press("enter", "d")
        await until(lambda: isinstance(app.screen, ConfirmPasswordModal))
        await s.type(ADMIN_PASSWORD)
        await s.press("enter")
        await until(
            lambda: (
                isinstance(app.screen, UsersScreen)
                and table.highlighted is not None
                and not table.highlighted.row.mfa_enabled
            )
        )

    await s.measure("confirm password, disable a member's MFA", disable_member)

    async def idle() -> None:
        await asyncio.sleep(IDLE_SECONDS)

    await s.measure("idle (anchor: the machine's own jitter)", idle)
    await s.press("escape")
    app.sign_out()
    await until(lambda: app.session is None and type(app.screen).__name__ == "SignInScreen")
    enrol_member(s.portal, MFA_MEMBER, MFA_MEMBER_PASSWORD, s.clock)


async def run(
    space: Scratch, rounds: int, members: int, why: bool
) -> tuple[dict[str, list[float]], dict[str, Counter[str]], dict[str, tuple[float, int]]]:
    from tui_portal.launch import make_app
    from tui_portal.services.clock import ManualClock

    db = space.db()
    seed_org(space, db, members)
    clock = ManualClock(datetime.now(UTC))
    portal = open_portal_at(space, db, clock=clock)  # the real argon2id parameters
    from tui_portal.services.results import Operator

    benchmark = Operator("benchmark")
    member = portal.directory.create_user(
        MFA_MEMBER, MFA_MEMBER_PASSWORD, operator=benchmark, name="Mfa Member"
    )
    portal.directory.add_member(ORG, MFA_MEMBER, "member", operator=benchmark)
    enrol_member(portal, MFA_MEMBER, MFA_MEMBER_PASSWORD, clock)
    app = make_app(space.settings(db), portal=portal, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app._portal.done())
        session = Session(app, pilot, clock, portal)
        if why:
            session.sampler = StallSampler(session.ticker)
        for _ in range(rounds):
            await one_round(session, member.id)
        session.ticker.stop()
        sampler = session.sampler
        return (
            session.gaps,
            sampler.samples if sampler else {},
            sampler.collections if sampler else {},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times to do every procedure")
    parser.add_argument("--members", type=int, default=100_000, help="members of the org")
    parser.add_argument("--why", action="store_true", help="sample where the loop stalls")
    args = parser.parse_args()
    command = "python benchmarks/responsiveness.py"
    if args.rounds != 3:
        command += f" --rounds {args.rounds}"
    if args.members != 100_000:
        command += f" --members {args.members}"
    if args.why:
        command += " --why"
    print_header("Responsiveness: the longest event-loop gap of a 5 ms ticker", command)
    with scratch() as space:
        gaps, stalls, collections = asyncio.run(run(space, args.rounds, args.members, args.why))
    print(
        f"{args.rounds} rounds, {args.members:,} members, {SIZE[0]}x{SIZE[1]}, real argon2id "
        "parameters; each figure is the longest gap of any round (median of the rounds)"
    )
    print()
    rows = []
    for name, values in gaps.items():
        worst = max(values)
        rows.append(
            [
                name,
                f"{ms(worst)} ({ms(median(values))})",
                ratio(worst, GOAL),
                "" if "anchor" in name else f"≤ {ms(GOAL)}: {verdict(worst <= GOAL)}",
            ]
        )
    print_table(["procedure", "longest gap (median)", "ratio to 25 ms goal", "goal"], rows)
    if args.why:
        print("Where the event loop was while stalled past 25 ms (samples every 2 ms):")
        print()
        for name, counter in stalls.items():
            total = sum(counter.values())
            print(f"{name}: {total} samples")
            for where, count in counter.most_common(4):
                print(f"  {count / total:4.0%}  {where}")
        print()
        print("The longest cycle collection during each procedure (it stops every thread):")
        print()
        for name, (took, generation) in collections.items():
            print(f"  {name}: {ms(took)} (generation {generation})")
        print()


if __name__ == "__main__":
    main()
