"""Enable MFA, disable it, and replace a device: the profile's procedures end to end."""

from __future__ import annotations

from textual.widgets import Button, Input, Label

from tests.tui.flows import (
    enter_code,
    message,
    screen_name,
    screen_text,
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
from tui_portal.security import totp


def mfa_status(app: PortalApp) -> str:
    return str(app.screen.query_one("#mfa-status", Label).render())


def shown_secret(app: PortalApp) -> str:
    """The key the Enable MFA screen shows, as a person would copy it."""
    return text_of(app.screen.query_one("#secret-key")).replace(" ", "")


async def enrol_from_screen(pilot, world: World) -> str:  # type: ignore[no-untyped-def]
    """On the Enable MFA screen: read the key, type the code, submit, and wait for "MFA is
    now enabled" (on the Recovery codes screen when MFA was off). Returns the secret."""
    app = pilot.app
    await wait_for_screen(pilot, "EnableMfaScreen")
    secret = shown_secret(app)
    assert app.focused is app.screen.query_one("#authenticator-code", Input)
    code = totp.code_at_step(secret, totp.time_step(world.clock().timestamp()))
    await type_text(pilot, code)
    await pilot.press("enter")
    await wait_until(pilot, lambda: "MFA is now enabled" in screen_text(app), "enabled")
    return secret


async def test_enable_mfa_then_sign_in_with_a_code(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        assert mfa_status(app) == "MFA: Disabled"
        assert app.screen.query_one("#enable-mfa", Button).display
        assert not app.screen.query_one("#disable-mfa", Button).display
        await pilot.click("#enable-mfa")
        secret = await enrol_from_screen(pilot, world)
        assert len(secret) == 32
        assert screen_name(app) == "RecoveryCodesScreen"
        await pilot.press("enter")  # Done
        await wait_for_screen(pilot, "ProfileScreen")
        await wait_until(pilot, lambda: mfa_status(app) == "MFA: Enabled", "the new status")
        assert app.screen.query_one("#disable-mfa", Button).display
        await sign_out(pilot)
        world.clock.advance(30)
        await sign_in(pilot, "mia", World.PASSWORDS["mia"])
        await enter_code(
            pilot, totp.code_at_step(secret, totp.time_step(world.clock().timestamp()))
        )
        await wait_for_screen(pilot, "ProfileScreen")
        assert mfa_status(app) == "MFA: Enabled"


async def test_wrong_code_during_enrolment_keeps_mfa_off(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        secret = shown_secret(app)
        fast = totp.code_at_step(secret, totp.time_step(world.clock().timestamp()) + 4)
        await type_text(pilot, fast)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "Invalid MFA code" in message(app, "#enrol-message"), "the refusal"
        )
        assert "about 120 seconds fast" in message(app, "#enrol-message")
        assert world.account("mia").mfa_enabled is False


async def test_disable_mfa_wrong_then_right_password(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        assert "Confirm your password" in text_of(app.screen.query_one("#confirm-title"))
        assert app.focused is app.screen.query_one("#confirm-password", Input)
        await type_text(pilot, "not-my-password")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: message(app, "#confirm-message") == "Incorrect password", "refusal"
        )
        assert screen_name(app) == "ConfirmPasswordModal"
        assert world.account("leo").mfa_enabled
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "ProfileScreen")
        await wait_until(pilot, lambda: mfa_status(app) == "MFA: Disabled", "the new status")
        assert not world.account("leo").mfa_enabled


async def test_escape_in_the_modal_changes_nothing(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        await pilot.click("#disable-mfa")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("escape")
        await wait_for_screen(pilot, "ProfileScreen")
        assert mfa_status(app) == "MFA: Enabled"
        assert world.account("leo").mfa_enabled


async def test_replace_device(world: World) -> None:
    old_secret = world.secrets["leo"]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        await pilot.press("r")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, World.PASSWORDS["leo"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "EnableMfaScreen")
        assert "Replace device" in str(app.screen.query_one("#enrol-title").render())
        world.clock.advance(30)
        new_secret = await enrol_from_screen(pilot, world)
        assert new_secret != old_secret
        assert screen_name(app) == "EnableMfaScreen"  # a replacement keeps the codes
        assert world.account("leo").recovery_codes_left == 10
        await pilot.press("escape")
        await sign_out(pilot)
    world.clock.advance(30)
    step = totp.time_step(world.clock().timestamp())
    pending = world.portal.sign_in.sign_in(
        username="leo", password=World.PASSWORDS["leo"], source="local:test"
    )
    from tui_portal.errors import InvalidCode
    from tui_portal.services.results import CodeRequired

    assert isinstance(pending, CodeRequired)
    try:
        world.portal.sign_in.verify_code(
            token=pending.token, code=totp.code_at_step(old_secret, step)
        )
    except InvalidCode:
        pass
    else:
        raise AssertionError("the old device still works after the replacement")
    signed_in = world.portal.sign_in.verify_code(
        token=pending.token, code=totp.code_at_step(new_secret, step)
    )
    assert signed_in.account.username == "leo"


async def test_help_shows_the_steps_of_the_current_procedure(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        await pilot.press("f1")
        await wait_for_screen(pilot, "HelpScreen")
        from textual.widgets import Markdown

        assert "Authenticator code" in app.screen.query_one(Markdown).source
        await pilot.press("escape")
        await wait_for_screen(pilot, "EnableMfaScreen")
