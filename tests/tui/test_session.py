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


async def test_a_served_session_not_signed_in_in_time_ends_with_its_own_status(
    world: World,
) -> None:
    from datetime import timedelta

    from tui_portal.app import SIGN_IN_DEADLINE_EXIT

    app = world.app(source="ssh:203.0.113.7", sign_in_deadline=timedelta(seconds=0.3))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await pilot.pause(0.6)
    assert app.return_code == SIGN_IN_DEADLINE_EXIT
    assert app.source == "ssh:203.0.113.7"


async def test_signing_in_stops_the_deadline_and_signing_out_starts_it_again(
    world: World,
) -> None:
    from datetime import timedelta

    from tests.tui.flows import wait_until
    from tui_portal.app import SIGN_IN_DEADLINE_EXIT

    deadline = 3.0  # longer than a sign-in takes on a busy machine
    app = world.app(sign_in_deadline=timedelta(seconds=deadline))
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.pause(deadline + 0.2)
        assert app.is_running and app.return_code is None
        app.sign_out()
        await wait_for_screen(pilot, "SignInScreen")
        await wait_until(pilot, lambda: app.return_code is not None, "the deadline", 10)
    assert app.return_code == SIGN_IN_DEADLINE_EXIT
