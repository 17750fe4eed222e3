"""The session: it ends when the person signs out, when it is ended elsewhere, when it is
left idle, and it follows changes to the account made elsewhere."""

from __future__ import annotations

from datetime import timedelta

from tests.tui.flows import (
    AppPilot,
    account_of,
    chosen_org_name,
    message,
    palette_titles,
    screen_name,
    session_of,
    signed_in_as,
    wait_for_screen,
    wait_until,
)
from tests.world import ACME, GLOBEX, OPERATOR, World
from tui_portal.app import SIGN_IN_DEADLINE_EXIT, PortalApp


def end_reason(world: World, session_id: str) -> str:
    """Why the session ended, as its row in the database says ("" while it is live)."""
    from tui_portal.data.models import SignInSession

    with world.portal.db.read() as db:
        row = db.get(SignInSession, session_id)
        return row.end_reason if row is not None else ""


async def beat(pilot: AppPilot, app: PortalApp) -> None:
    """One heartbeat, as the app's timer runs it every few seconds."""
    app.heartbeat()
    await pilot.pause(0.1)


async def test_a_late_account_answer_after_sign_out_does_not_sign_back_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        account = session_of(app).account
        app.sign_out()
        await wait_for_screen(pilot, "SignInScreen")
        app.account_changed(account)  # e.g. an enrolment's answer, arriving late
        assert app.session is None
        assert "Profile" not in palette_titles(app)


async def test_signing_out_ends_the_session_in_the_database(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        session_id = session_of(app).caller.session_id
        app.sign_out()
        await wait_for_screen(pilot, "SignInScreen")
        await wait_until(
            pilot, lambda: end_reason(world, session_id) == "signed_out", "the row to end"
        )


async def test_a_session_signed_out_elsewhere_returns_to_sign_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await pilot.press("f1")  # a modal on top changes nothing
        await wait_for_screen(pilot, "HelpScreen")
        other = world.caller("ada")
        assert world.portal.sessions.sign_out_others(other) == 1
        await beat(pilot, app)
        await wait_for_screen(pilot, "SignInScreen")
        assert message(app) == "You have been signed out"
        assert app.session is None


async def test_mfa_disabled_by_an_admin_signs_the_member_out(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")
        admin = world.caller("ada")
        acme = next(o.org_id for o in world.account("ada").organisations if o.name == ACME)
        world.portal.mfa.disable_for_user(
            admin, password=World.PASSWORDS["ada"], target_user_id=world.ids["leo"], org_id=acme
        )
        await beat(pilot, app)
        await wait_for_screen(pilot, "SignInScreen")
        assert message(app) == "You have been signed out"


async def test_a_service_call_of_an_ended_session_signs_out(world: World) -> None:
    """Even before the next heartbeat, the first refusal of an ended session signs out."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        world.portal.sessions.sign_out_others(world.caller("mia"))
        await pilot.press("e")  # starting an enrolment needs a live session
        await wait_for_screen(pilot, "SignInScreen")
        assert message(app) == "You have been signed out"


async def test_a_session_ends_twelve_hours_after_sign_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        for _ in range(12):
            world.clock.advance(3600)
            await pilot.press("f1", "escape")  # busy all along
        await beat(pilot, app)
        await wait_for_screen(pilot, "SignInScreen")
        assert message(app) == "You have been signed out"


async def test_a_lost_admin_role_hides_users_and_returns_to_the_profile(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        world.portal.directory.add_member(GLOBEX, "mia", "admin", operator=OPERATOR)
        world.portal.governance.set_role(GLOBEX, "grace", "member", operator=OPERATOR)
        await beat(pilot, app)
        await wait_for_screen(pilot, "ProfileScreen")
        assert "Users" not in palette_titles(app)
        assert not session_of(app).account.can_manage_users


async def test_a_lost_admin_role_is_refused_at_the_next_action_before_any_heartbeat(
    world: World,
) -> None:
    """The service refuses the next thing a demoted admin asks of Users, and the app reads
    the account again at once: back to the profile, without waiting for a heartbeat."""
    app = world.app(heartbeat_seconds=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        world.portal.directory.add_member(GLOBEX, "mia", "admin", operator=OPERATOR)
        world.portal.governance.set_role(GLOBEX, "grace", "member", operator=OPERATOR)
        await pilot.press("slash", "b")  # the filter asks the service for a new window
        await wait_for_screen(pilot, "ProfileScreen")
        assert "Users" not in palette_titles(app)
        assert not session_of(app).account.can_manage_users


async def test_a_removed_membership_leaves_the_picker(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        assert {o.name for o in session_of(app).organisations} == {ACME, GLOBEX}
        world.portal.directory.add_member(GLOBEX, "mia", "admin", operator=OPERATOR)
        world.portal.governance.remove_member(GLOBEX, "ada", operator=OPERATOR)
        await beat(pilot, app)
        await wait_until(
            pilot,
            lambda: {o.name for o in session_of(app).organisations} == {ACME},
            "the picker to reload",
        )
        assert chosen_org_name(app) == ACME
        assert not any(t.startswith("Switch organisation") for t in palette_titles(app))
        assert not app.screen.query_one("#org-picker").display


async def test_an_idle_session_is_signed_out_with_reason_idle(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        session_id = session_of(app).caller.session_id
        world.clock.advance(15 * 60)
        app.sign_out_if_idle()
        await wait_for_screen(pilot, "SignInScreen")
        assert account_of(app) is None
        await wait_until(pilot, lambda: end_reason(world, session_id) == "idle", "idle end")


async def test_a_served_session_not_signed_in_in_time_ends_with_its_own_status(
    world: World,
) -> None:
    app = world.app(source="ssh:203.0.113.7", sign_in_deadline=timedelta(seconds=0.3))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await pilot.pause(0.6)
    assert app.return_code == SIGN_IN_DEADLINE_EXIT
    assert app.source == "ssh:203.0.113.7"


async def test_signing_in_stops_the_deadline_and_signing_out_starts_it_again(
    world: World,
) -> None:
    deadline = 3.0  # longer than a sign-in takes on a busy machine
    app = world.app(sign_in_deadline=timedelta(seconds=deadline))
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.pause(deadline + 0.2)
        assert app.is_running and app.return_code is None
        assert screen_name(app) == "ProfileScreen"
        app.sign_out()
        await wait_for_screen(pilot, "SignInScreen")
        await wait_until(pilot, lambda: app.return_code is not None, "the deadline", 10)
    assert app.return_code == SIGN_IN_DEADLINE_EXIT
