"""The session ends when the person signs out, whatever finishes afterwards."""

from __future__ import annotations

from tests.tui.flows import signed_in_as, wait_for_screen
from tests.world import World


async def test_a_reload_that_finishes_after_sign_out_does_not_sign_back_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        account = app.account
        assert account is not None
        app.sign_out()
        await wait_for_screen(pilot, "SignInScreen")
        app.refresh_account(account)  # e.g. the profile's reload, arriving late
        assert app.account is None
        assert not any(c.title == "Profile" for c in app.get_system_commands(app.screen))
