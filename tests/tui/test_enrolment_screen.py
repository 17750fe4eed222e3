"""The real Enable MFA screen: its QR code decodes to the enrolment URI, and it all fits."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from tests.tui.flows import sign_in, signed_in_as, text_of, wait_for_screen
from tests.tui.test_qr_decode import assert_black_on_white, decode, drawn_cells, to_modules
from tests.world import World
from tui_portal.security.totp import provisioning_uri
from tui_portal.widgets.qr import QrCode


@pytest.mark.parametrize(("size", "border"), [((80, 24), 4), ((120, 40), 4)])
async def test_the_enrolment_qr_decodes_to_the_otpauth_uri(
    world: World, size: tuple[int, int], border: int
) -> None:
    app = world.app()
    async with app.run_test(size=size) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        secret = text_of(app.screen.query_one("#secret-key")).replace(" ", "")
        qr = app.screen.query_one("#qr", QrCode)
        assert qr.fits and qr.quiet_zone == border
        cells = drawn_cells(app, qr)  # type: ignore[arg-type]
        lines = ["".join(cell.text for cell in row) for row in cells]
        uri = provisioning_uri(secret, "mia", "Developer Portal")
        assert decode(to_modules(lines)) == [uri]
        assert uri.startswith("otpauth://totp/Developer%20Portal:mia?secret=")
        assert_black_on_white(cells)
        # QR, key, field and button all on screen, with no scrolling.
        width, height = size
        for widget in (
            app.screen.query_one("#qr"),
            app.screen.query_one("#secret-key"),
            app.screen.query_one("#authenticator-code", Input),
            app.screen.query_one("#submit", Button),
        ):
            region = widget.region
            assert region.height > 0 and region.bottom <= height - 1, widget
            assert region.right <= width, widget


async def test_a_terminal_too_small_for_the_code_still_shows_the_key(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(60, 20)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        qr = app.screen.query_one("#qr")
        assert not qr.fits  # type: ignore[attr-defined]
        assert "larger" in str(qr.render())
        assert len(text_of(app.screen.query_one("#secret-key")).replace(" ", "")) == 32
        assert app.focused is app.screen.query_one("#authenticator-code", Input)


@pytest.mark.parametrize(
    ("username", "fits"),
    [
        ("margaret", True),  # the demo's member without MFA
        ("firstname.lastname@example.org", True),
        ("a" * 64, False),  # the longest username: the code cannot fit 80x24
    ],
)
async def test_at_80x24_the_key_and_the_code_field_are_always_on_screen(
    world: World, username: str, fits: bool
) -> None:
    from tests.world import OPERATOR

    world.portal.directory.create_user(username, "a long demo password", operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, username, "a long demo password")
        await wait_for_screen(pilot, "ProfileScreen")
        await pilot.press("e")
        await wait_for_screen(pilot, "EnableMfaScreen")
        qr = app.screen.query_one("#qr", QrCode)
        assert qr.fits is fits
        for selector in ("#secret-key", "#authenticator-code", "#submit"):
            region = app.screen.query_one(selector).region
            assert region.width > 0 and region.right <= 80 and region.bottom <= 23, selector
        if fits:
            secret = text_of(app.screen.query_one("#secret-key")).replace(" ", "")
            lines = ["".join(cell.text for cell in row) for row in drawn_cells(app, qr)]  # type: ignore[arg-type]
            assert decode(to_modules(lines)) == [
                provisioning_uri(secret, username, "Developer Portal")
            ]
