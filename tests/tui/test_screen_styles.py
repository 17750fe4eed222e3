"""Every screen paints the whole terminal, the confirm-password modal dims what is beneath,
and one screen's stylesheet never moves another screen's widgets."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Label

from tests.tui.flows import (
    AppPilot,
    portal,
    screen_text,
    sign_in,
    sign_out,
    signed_in_as,
    type_text,
    wait_for_screen,
)
from tests.world import World
from tui_portal.app import PortalApp
from tui_portal.demo import DEMO_ACCOUNTS


def assert_opaque(app: PortalApp) -> None:
    assert app.screen.styles.background.a == 1.0, type(app.screen).__name__


async def test_the_mfa_code_screen_hides_the_sign_in_screen_beneath(world: World) -> None:
    app = world.app()
    app.demo_accounts = DEMO_ACCOUNTS  # a tall sign-in screen, larger than the code box
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        assert_opaque(app)
        assert "Demo accounts" in screen_text(app)
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        assert_opaque(app)
        shown = screen_text(app)
        assert "MFA code" in shown
        assert "Demo accounts" not in shown and "Sign in" not in shown


async def test_every_signed_in_screen_is_opaque_and_the_modal_dims(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "leo")
        assert_opaque(app)
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        assert 0 < app.screen.styles.background.a < 1  # the profile shows through, dimmed
        await pilot.press("escape")
        await wait_for_screen(pilot, "ProfileScreen")
        await pilot.press("r")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "EnableMfaScreen")
        assert_opaque(app)
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        assert_opaque(app)


def region_of(pilot: AppPilot, selector: str) -> Region:
    return portal(pilot).screen.query_one(selector).region


async def assert_sign_in_status_under_the_button(pilot: AppPilot) -> None:
    await wait_for_screen(pilot, "SignInScreen")
    assert region_of(pilot, "#message").y == region_of(pilot, "#sign-in").bottom


async def assert_code_label_under_the_key(pilot: AppPilot) -> None:
    await pilot.press("e")
    await wait_for_screen(pilot, "EnableMfaScreen")
    assert isinstance(portal(pilot).screen.query_one("#code-label"), Label)
    assert region_of(pilot, "#code-label").y == region_of(pilot, "#secret-key").bottom
    await pilot.press("escape")


async def test_a_screen_shown_once_leaves_the_others_as_they_were(world: World) -> None:
    """The MFA code screen's rules (#code-label, #message) stay on the MFA code screen,
    before it was ever shown and after."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await assert_sign_in_status_under_the_button(pilot)
        await signed_in_as(pilot, world, "mia")
        await assert_code_label_under_the_key(pilot)
        await sign_out(pilot)
        await signed_in_as(pilot, world, "leo")  # the MFA code screen, shown once
        await sign_out(pilot)
        await assert_sign_in_status_under_the_button(pilot)
        await signed_in_as(pilot, world, "mia")
        await assert_code_label_under_the_key(pilot)
