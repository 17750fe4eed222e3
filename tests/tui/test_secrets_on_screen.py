"""The enrolment secret does not outlive enrolment: not on screen, not in the clipboard,
not in a screenshot."""

from __future__ import annotations

from pathlib import Path

from tests.tui.flows import (
    palette_titles,
    screen_text,
    sign_out,
    signed_in_as,
    text_of,
    type_text,
    wait_for_screen,
)
from tests.world import World
from tui_portal.security import totp
from tui_portal.widgets.qr import QrCode


async def test_success_takes_the_qr_code_and_the_key_off_the_screen_and_the_clipboard(
    world: World,
) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        secret = text_of(app.screen.query_one("#secret-key")).replace(" ", "")
        grouped = totp.group_secret(secret)
        assert grouped.split()[0] in screen_text(app)
        await pilot.press("ctrl+y")
        assert app.clipboard == secret
        await type_text(pilot, totp.code_at_step(secret, totp.time_step(world.clock().timestamp())))
        await pilot.press("enter")
        await wait_for_screen(pilot, "RecoveryCodesScreen")
        assert "MFA is now enabled" in screen_text(app)
        assert not app.screen.query(QrCode)
        shown = screen_text(app)
        assert not any(group in shown for group in grouped.split())
        assert "▀" not in shown and "▄" not in shown
        assert app.clipboard == ""


async def test_signing_out_clears_a_copied_key(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        await pilot.press("ctrl+y")
        assert app.clipboard
        await sign_out(pilot)  # from the Enable MFA screen's own top bar
        assert app.clipboard == ""


async def test_no_screenshot_while_signed_in(world: World, tmp_path: Path) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        assert "Screenshot" in palette_titles(app)
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        assert "Screenshot" not in palette_titles(app)
        shots = tmp_path / "shots"
        shots.mkdir()
        assert app.deliver_screenshot(path=str(shots)) is None
        assert list(shots.iterdir()) == []
