"""Active sessions and Security activity on the profile, and sessions that end because of
what happened in another: a second app over the same database (another host) returns to
the sign-in screen within 10 seconds, by its own heartbeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.widgets import Button

from tests.tui.flows import (
    AppPilot,
    message,
    past_the_notice,
    screen_name,
    screen_text,
    sign_in,
    signed_in_as,
    text_of,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.world import ACME, OPERATOR, World
from tui_portal.app import PortalApp

WITHIN = 10.0
"""The contract's bound, in seconds of real time, with the app's own 3-second heartbeat."""


def sessions_text(app: PortalApp) -> str:
    return text_of(app.screen.query_one("#sessions"))


def activity_text(app: PortalApp) -> str:
    return text_of(app.screen.query_one("#activity"))


async def lists_loaded(pilot: AppPilot, app: PortalApp) -> None:
    await wait_until(pilot, lambda: "From" in sessions_text(app), "the sessions")
    await wait_until(pilot, lambda: "When" in activity_text(app), "the activity")


async def test_active_sessions_marks_this_one_and_signs_out_the_others(world: World) -> None:
    other = world.caller("mia", source="ssh:203.0.113.7")
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await lists_loaded(pilot, app)
        shown = sessions_text(app)
        assert "ssh:203.0.113.7" in shown and app.source in shown
        assert shown.count("this session") == 1
        assert "Active sessions" in app.screen.query_one("#sessions-box").border_title  # type: ignore[operator]
        assert "Sign out other sessions" in str(
            app.screen.query_one("#sign-out-others", Button).label
        )
        await pilot.press("o")
        await wait_until(
            pilot,
            lambda: message(app, "#sessions-message") == "1 other session signed out.",
            "the other session to end",
        )
        await wait_until(pilot, lambda: "ssh:203.0.113.7" not in sessions_text(app), "the list")
        assert "this session" in sessions_text(app)
        assert not world.portal.sessions.heartbeat(other, active=False).live
        await wait_until(pilot, lambda: "Sessions signed out" in activity_text(app), "the event")


async def test_security_activity_is_newest_first_with_source_and_who_a_page_at_a_time(
    world: World,
) -> None:
    world.fail_sign_in("mia", 4, source="ssh:198.51.100.9")
    world.clock.advance(60)
    world.portal.accounts.set_password("mia", "operator-set-pass", operator=OPERATOR)
    World.PASSWORDS["mia"] = "operator-set-pass"
    try:
        for _ in range(10):  # more events than one page
            world.clock.advance(60)
            world.portal.sessions.sign_out(world.caller("mia"))
        app = world.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await signed_in_as(pilot, world, "mia")
            await lists_loaded(pilot, app)
            shown = activity_text(app)
            assert "Security activity" in (app.screen.query_one("#activity-box").border_title or "")
            lines = shown.splitlines()
            first = next(i for i, line in enumerate(lines) if "Signed in" in line)
            assert f"by you · from {app.source}" in lines[first + 1]  # newest first: this one
            assert "Password set by an operator" not in shown  # older than the first page
            older = app.screen.query_one("#older-activity", Button)
            assert older.display
            older.focus()
            await pilot.pause()
            await pilot.press("enter")
            await wait_until(
                pilot, lambda: "Password set by an operator" in activity_text(app), "older"
            )
            shown = activity_text(app)
            assert "by operator:test · from local:test" in shown
            assert "Failed sign-in (wrong password)" in shown
            failed = shown.splitlines()[
                next(i for i, line in enumerate(shown.splitlines()) if "Failed sign-in" in line) + 1
            ]
            assert failed.strip() == "from ssh:198.51.100.9"  # whoever typed it, not "you"
            assert shown.index("Password set by an operator") < shown.index("Failed sign-in")
    finally:
        World.PASSWORDS["mia"] = "mia-password-1"


@asynccontextmanager
async def two_hosts(world: World) -> AsyncIterator[tuple[AppPilot, AppPilot]]:
    """Two apps over one database, each on its own portal (as on two hosts): the first
    with its usual heartbeat, the second too, both signed in as leo."""
    host = world.another_host()
    first, second = world.app(), world.app(portal=host)
    try:
        async with first.run_test(size=(80, 24)) as one, second.run_test(size=(80, 24)) as two:
            yield one, two
    finally:
        host.close()


async def signed_out_within(pilot: AppPilot, seconds: float) -> float:
    """Wait, in real time, for the app to return to the sign-in screen by itself."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    app = pilot.app
    await wait_until(
        pilot,
        lambda: screen_name(app) == "SignInScreen" and bool(app.screen.query("#message")),  # type: ignore[arg-type]
        "signed out",
        seconds,
    )
    # The screen is on the stack a moment before its status line has been given the words.
    await wait_until(
        pilot,
        lambda: message(app, "#message") == "You have been signed out",  # type: ignore[arg-type]
        "the words",
        1.0,
    )
    return loop.time() - began


async def test_a_second_app_returns_to_sign_in_after_the_first_disables_its_mfa(
    world: World,
) -> None:
    async with two_hosts(world) as (one, two):
        await signed_in_as(two, world, "leo")
        world.clock.advance(30)
        await signed_in_as(one, world, "leo")
        await one.press("d")
        await wait_for_screen(one, "ConfirmPasswordModal")
        await type_text(one, World.PASSWORDS["leo"])
        await one.press("enter")
        await wait_for_screen(one, "ProfileScreen")
        await wait_until(one, lambda: not world.account("leo").mfa_enabled, "MFA disabled")
        assert await signed_out_within(two, WITHIN) < WITHIN
        assert screen_name(one.app) == "ProfileScreen"  # type: ignore[arg-type]


async def test_a_password_change_and_sign_out_others_end_the_other_app(world: World) -> None:
    async with two_hosts(world) as (one, two):
        await signed_in_as(two, world, "mia")
        await signed_in_as(one, world, "mia")
        await one.press("p")
        await wait_for_screen(one, "ChangePasswordScreen")
        for text in (World.PASSWORDS["mia"], "a long new passphrase", "a long new passphrase"):
            await type_text(one, text)
            await one.press("enter")
        await wait_until(
            one,
            lambda: "1 other session" in message(one.app, "#password-message"),  # type: ignore[arg-type]
            "the change",
        )
        await signed_out_within(two, WITHIN)
        await sign_in(two, "mia", "a long new passphrase")
        await wait_until(two, lambda: screen_name(two.app) != "SignInScreen", "signed in")  # type: ignore[arg-type]
        await one.press("escape")
        await wait_for_screen(one, "ProfileScreen")
        await one.press("o")  # Sign out other sessions
        await signed_out_within(two, WITHIN)


async def test_the_sign_in_notice_names_who_and_how_many_until_dismissed_and_only_once(
    world: World,
) -> None:
    world.fail_sign_in("leo", 3, source="ssh:198.51.100.9")
    acme = next(o.id for o in world.portal.directory.organisations() if o.name == ACME)
    world.portal.mfa.disable_for_user(
        world.caller("ada"),
        password=World.PASSWORDS["ada"],
        target_user_id=world.ids["leo"],
        org_id=acme,
    )
    del world.secrets["leo"]  # the password alone signs leo in now
    app = world.app(heartbeat_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "SecurityNoticeModal")
        await asyncio.sleep(0.6)  # heartbeats come and go: the notice stays
        await pilot.pause()
        assert screen_name(app) == "SecurityNoticeModal"
        shown = screen_text(app)
        assert "since your last sign-in" in shown
        notice = text_of(app.screen.query_one("#notice-text"))
        assert "3 failed sign-in attempts" in notice and "198.51.100.9" in notice
        assert "MFA was disabled" in notice and "ada" in notice
        await pilot.press("enter")  # Dismiss
        await wait_for_screen(pilot, "ProfileScreen")
        app.sign_out()
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        assert await past_the_notice(pilot, "ProfileScreen") is None  # never twice


async def test_the_profile_starts_on_its_first_action_and_scrolls_by_keyboard_at_80x24(
    world: World,
) -> None:
    """At 80x24 the sessions and the activity are below the fold: the page keys reach them.
    Focus starts on the first button that applies, never on the top bar's hidden picker."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")  # one organisation: no picker shown
        await lists_loaded(pilot, app)
        focused = app.focused
        assert isinstance(focused, Button) and focused.id == "enable-mfa"
        assert "Active sessions" not in screen_text(app)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: "Active sessions" in screen_text(app), "the sessions")
        await pilot.press("pagedown", "pagedown")
        await wait_until(pilot, lambda: "Security activity" in screen_text(app), "the activity")
        await pilot.press("home")
        await wait_until(pilot, lambda: "MFA: Disabled" in screen_text(app), "the top again")
