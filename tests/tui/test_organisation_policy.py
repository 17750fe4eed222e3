"""An organisation that requires MFA, from the keyboard: the member without MFA who signs in
can reach nothing but enrolling (or signing out), and the Users screen's "Require MFA"
switch, its count of members without MFA and its filter of just them."""

from __future__ import annotations

from textual.widgets import Checkbox, Input

from tests.tui.flows import (
    AppPilot,
    message,
    palette_titles,
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
from tui_portal.security import totp
from tui_portal.widgets.members_table import MembersTable
from tui_portal.widgets.policy_switch import PolicySwitch

REQUIRED = f"{ACME} requires MFA"


async def to_required_enrolment(pilot: AppPilot, world: World, username: str) -> PortalApp:
    """Sign in with the password alone and land on the Enable MFA screen the policy forces."""
    app: PortalApp = pilot.app  # type: ignore[assignment]
    await sign_in(pilot, username, World.PASSWORDS[username])
    await past_the_notice(pilot, "EnableMfaScreen")
    await wait_until(pilot, lambda: app.screen.query("#secret-key"), "the QR code")
    return app


async def test_a_member_without_mfa_must_enrol_first_and_escape_signs_out(world: World) -> None:
    world.portal.governance.set_mfa_policy(ACME, True, operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_required_enrolment(pilot, world, "mia")
        assert REQUIRED in screen_text(app)
        assert isinstance(app.focused, Input) and app.focused.id == "authenticator-code"
        # Nothing else is reachable: not by the palette, the menu, or the profile's keys.
        titles = palette_titles(app)
        assert "Sign out" in titles
        assert not {"Profile", "Users", "Change password", "Enable MFA"} & set(titles)
        app.open_profile()
        app.open_users()
        await pilot.pause()
        assert screen_name(app) == "EnableMfaScreen"
        await pilot.click("#user-menu-button")
        await wait_for_screen(pilot, "UserMenu")
        assert "Profile" not in screen_text(app) and "Sign out" in screen_text(app)
        await pilot.press("escape")
        await wait_for_screen(pilot, "EnableMfaScreen")
        await pilot.press("escape")
        await wait_for_screen(pilot, "SignInScreen")
        assert app.session is None
    assert not world.account("mia").mfa_enabled


async def test_the_forced_enrolment_completes_by_keyboard_and_opens_the_portal(
    world: World,
) -> None:
    world.portal.governance.set_mfa_policy(ACME, True, operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_required_enrolment(pilot, world, "mia")
        secret = text_of(app.screen.query_one("#secret-key")).replace(" ", "")
        await type_text(pilot, totp.code_at_step(secret, totp.time_step(world.clock().timestamp())))
        await pilot.press("enter")
        await wait_for_screen(pilot, "RecoveryCodesScreen")
        await pilot.press("enter")  # Done
        await wait_for_screen(pilot, "ProfileScreen")
        assert "MFA: Enabled" in screen_text(app)
        await wait_until(pilot, lambda: "Profile" in palette_titles(app), "the whole palette")
        assert "Change password" in palette_titles(app)
    assert world.account("mia").mfa_enabled


async def test_a_member_with_mfa_or_outside_the_organisation_is_not_held(world: World) -> None:
    world.portal.governance.set_mfa_policy(ACME, True, operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")  # Acme, with MFA: straight to the profile
        assert REQUIRED not in screen_text(app)


async def users_screen_of_acme(pilot: AppPilot, world: World) -> PortalApp:
    app: PortalApp = pilot.app  # type: ignore[assignment]
    await signed_in_as(pilot, world, "ada")
    app.open_users()
    await wait_for_screen(pilot, "UsersScreen")
    await wait_until(pilot, lambda: "without MFA" in title(app), "the count")
    return app


def title(app: PortalApp) -> str:
    return text_of(app.screen.query_one("#users-title"))


def usernames_in_table(app: PortalApp) -> list[str]:
    page = app.screen.query_one(MembersTable).loaded
    return [] if page is None else [row.username for row in page.rows]


async def test_the_title_counts_members_without_mfa_and_w_shows_just_them(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await users_screen_of_acme(pilot, world)
        assert title(app).endswith("— 2 without MFA")  # ada and mia; leo has MFA
        await wait_until(pilot, lambda: "leo" in usernames_in_table(app), "everyone")
        await pilot.press("w")
        await wait_until(pilot, lambda: "leo" not in usernames_in_table(app), "the filter")
        assert sorted(usernames_in_table(app)) == ["ada", "mia"]
        assert app.screen.query_one("#without-mfa", Checkbox).value
        assert "▐X▌ Without MFA only" in screen_text(app)
        await pilot.press("w")
        await wait_until(pilot, lambda: "leo" in usernames_in_table(app), "everyone again")


async def test_letters_typed_in_the_filter_are_text_not_keys(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await users_screen_of_acme(pilot, world)
        await pilot.press("slash", "m", "w")
        await pilot.pause()
        assert app.screen.query_one("#filter", Input).value == "mw"
        assert screen_name(app) == "UsersScreen"  # no confirm modal
        assert not app.screen.query_one("#without-mfa", Checkbox).value


async def test_require_mfa_asks_for_the_password_then_sets_the_policy(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await users_screen_of_acme(pilot, world)
        switch = app.screen.query_one("#require-mfa", PolicySwitch)
        assert switch.display and not switch.value
        await pilot.press("m")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await pilot.press("escape")  # cancelled: nothing changes, the switch never moved
        await wait_for_screen(pilot, "UsersScreen")
        assert not switch.value
        assert not world.portal.members.summary(
            world.caller("sam"), org_id=acme(world)
        ).mfa_required
        await pilot.press("m")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, "not-my-password")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: message(app, "#confirm-message") == "Incorrect password", "refusal"
        )
        field = app.screen.query_one(Input)
        field.value = ""
        await type_text(pilot, World.PASSWORDS["ada"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: switch.value, "the switch to show the policy")
        assert "▐X▌ Require MFA" in screen_text(app)
    # Read as staff: ada herself is now held to enrolling before she may read it.
    assert world.portal.members.summary(world.caller("sam"), org_id=acme(world)).mfa_required
    events = [e.event for e in world.portal.audit.trail(org=ACME)]
    assert events.count("mfa_policy_changed") == 1


async def test_the_switch_is_offered_only_where_the_person_sets_the_policy(world: World) -> None:
    world.portal.directory.add_member(ACME, "grace", "member", operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(100, 24)) as pilot:
        await signed_in_as(pilot, world, "grace")  # admin of Globex, member of Acme
        app.select_organisation(acme(world))
        app.open_users()
        await wait_for_screen(pilot, "UsersScreen")
        table = app.screen.query_one(MembersTable)
        await wait_until(pilot, lambda: table._notice is not None, "the refusal")
        assert "without MFA" not in title(app)  # nothing about Acme is read for her
        assert not app.screen.query_one("#require-mfa", PolicySwitch).display
        await pilot.press("m")
        await pilot.pause()
        assert screen_name(app) == "UsersScreen"


def acme(world: World) -> int:
    return next(o.id for o in world.portal.directory.organisations() if o.name == ACME)


async def test_a_member_with_mfa_is_told_the_policy_keeps_it_on(world: World) -> None:
    world.portal.governance.set_mfa_policy(ACME, True, operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "leo")  # Acme, with MFA
        assert "Disable MFA" not in palette_titles(app)
        assert "Replace device" in screen_text(app)
        await pilot.press("d")
        await wait_until(
            pilot,
            lambda: any(
                "Acme Cloud requires MFA, so it cannot be disabled" in str(n.message)
                for n in app._notifications
            ),
            "the refusal",
        )
        assert screen_name(app) == "ProfileScreen"  # no password asked for in vain
    assert world.account("leo").mfa_enabled
