"""Recovery codes: ten shown once when MFA is first enabled, one signing in on the MFA
code screen ("Use a recovery code", ctrl+r), the profile counting them and warning when few
are left, and "Regenerate recovery codes" after the password."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Button, Input, Label, Static

from tests.tui.flows import (
    message,
    past_the_notice,
    run_command,
    screen_name,
    screen_text,
    session_of,
    sign_in,
    sign_out,
    signed_in_as,
    text_of,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.world import World
from tui_portal.app import PortalApp
from tui_portal.errors import InvalidRecoveryCode
from tui_portal.security import totp
from tui_portal.services.results import CodeRequired

CODE = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")


def codes_on_screen(app: PortalApp) -> list[str]:
    return CODE.findall(screen_text(app))


def recovery_line(app: PortalApp) -> str:
    return text_of(app.screen.query_one("#recovery-codes"))


def field_label(app: PortalApp) -> str:
    return str(app.screen.query_one("#code-label", Label).render())


def use_up(world: World, username: str, count: int) -> None:
    """Sign in ``count`` times with the person's recovery codes, through the services."""
    for code in world.recovery[username][:count]:
        step = world.portal.sign_in.sign_in(
            username=username, password=World.PASSWORDS[username], source="local:test"
        )
        assert isinstance(step, CodeRequired)
        signed = world.portal.sign_in.verify_recovery_code(token=step.token, code=code)
        world.portal.sessions.sign_out(signed.caller)


async def test_enabling_mfa_shows_ten_codes_once_then_the_profile_counts_them(
    world: World,
) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        secret = text_of(app.screen.query_one("#secret-key")).replace(" ", "")
        await type_text(pilot, totp.code_at_step(secret, totp.time_step(world.clock().timestamp())))
        await pilot.press("enter")
        await wait_for_screen(pilot, "RecoveryCodesScreen")
        shown = screen_text(app)
        assert "Recovery codes" in shown  # the screen's title
        assert "MFA is now enabled" in shown
        assert "Each code works once" in shown
        codes = codes_on_screen(app)
        assert len(codes) == len(set(codes)) == 10
        assert app.focused is app.screen.query_one("#done", Button)
        await pilot.press("enter")  # Done
        await wait_for_screen(pilot, "ProfileScreen")
        assert recovery_line(app) == "Recovery codes: 10 left"
        # Enable MFA, which had the focus, is gone: the focus is on a button in view.
        assert isinstance(app.focused, Button) and app.focused.display
        assert app.focused.id == "disable-mfa"
        assert not set(codes) & set(codes_on_screen(app))
        assert not app.screen.query_one("#recovery-codes").has_class("low")
    # Shown once, stored only as hashes: a code is accepted by the services all the same.
    step = world.portal.sign_in.sign_in(
        username="mia", password=World.PASSWORDS["mia"], source="local:test"
    )
    assert isinstance(step, CodeRequired)
    assert world.portal.sign_in.verify_recovery_code(token=step.token, code=codes[3]).account


async def test_a_recovery_code_signs_in_once_in_any_case_with_or_without_dashes(
    world: World,
) -> None:
    code = world.recovery["leo"][0]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        assert field_label(app) == "MFA code"
        assert "Use a recovery code" in screen_text(app)
        await pilot.press("ctrl+r")
        assert field_label(app) == "Recovery code"
        assert app.focused is app.screen.query_one("#code", Input)
        await type_text(pilot, code.replace("-", "").lower())
        await pilot.press("enter")
        await wait_for_screen(pilot, "ProfileScreen")
        assert recovery_line(app) == "Recovery codes: 9 left"
        await sign_out(pilot)
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        await pilot.click("#switch-field")  # the "Use a recovery code" button
        assert field_label(app) == "Recovery code"
        await type_text(pilot, code)  # used already
        await pilot.press("enter")
        await wait_until(pilot, lambda: message(app) == "Invalid recovery code", "the refusal")
        assert screen_name(app) == "MfaCodeScreen"
        await pilot.press("ctrl+r")  # and back
        assert field_label(app) == "MFA code"
        await type_text(pilot, world.code("leo"))
        await pilot.press("enter")
        notice = await past_the_notice(pilot, "ProfileScreen")
        assert notice is not None and "A recovery code was used" in notice
        assert "1 wrong MFA or recovery code" in notice


async def test_escape_leaves_the_recovery_code_field_for_sign_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        await pilot.press("ctrl+r")
        await type_text(pilot, "not a code")
        await pilot.press("enter")  # malformed: refused without an attempt
        assert message(app) == "Invalid recovery code"
        await pilot.press("escape")
        await wait_for_screen(pilot, "SignInScreen")
        assert app.session is None


async def test_few_codes_left_warn_and_regenerating_replaces_the_set(world: World) -> None:
    use_up(world, "leo", 8)
    old = world.recovery["leo"]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        assert recovery_line(app).startswith("Recovery codes: 2 left")
        assert "Regenerate recovery codes" in recovery_line(app)
        assert app.screen.query_one("#recovery-codes", Static).has_class("low")
        await pilot.press("g")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, "not-my-password")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: message(app, "#confirm-message") == "Incorrect password", "refusal"
        )
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "RecoveryCodesScreen")
        new = codes_on_screen(app)
        assert len(new) == 10 and not set(new) & set(old)
        assert "Each code works once" in screen_text(app)
        await pilot.click("#done")
        await wait_for_screen(pilot, "ProfileScreen")
        await wait_until(
            pilot, lambda: recovery_line(app) == "Recovery codes: 10 left", "the new count"
        )
        assert not app.screen.query_one("#recovery-codes").has_class("low")
    step = world.portal.sign_in.sign_in(
        username="leo", password=World.PASSWORDS["leo"], source="local:test"
    )
    assert isinstance(step, CodeRequired)
    with pytest.raises(InvalidRecoveryCode):  # the old set stopped working
        world.portal.sign_in.verify_recovery_code(token=step.token, code=old[9])


async def test_regenerate_from_the_palette_and_escape_changes_nothing(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        await run_command(pilot, "Regenerate recovery codes")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("escape")
        await wait_for_screen(pilot, "ProfileScreen")
        assert world.account("leo").recovery_codes_left == 10
        assert session_of(app).account.recovery_codes_left == 10
