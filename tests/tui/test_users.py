"""Manage Access › Users: the organisation picker, the table, and recovering a member."""

from __future__ import annotations

from textual.widgets import Input, Select

from tests.tui.flows import (
    AppPilot,
    account_of,
    choose_from_menu,
    chosen_org_name,
    message,
    palette_titles,
    past_the_notice,
    portal,
    run_command,
    screen_lines,
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
from tests.world import ACME, GLOBEX, MARKUP_NAME, OPERATOR, World, importable_hash
from tui_portal.app import PortalApp
from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.widgets.members_table import MembersTable

HEADER = ["Username", "Name", "Email", "Role", "MFA", "Last sign-in"]


def table(app: PortalApp) -> MembersTable:
    return app.screen.query_one(MembersTable)


def usernames(app: PortalApp) -> list[str]:
    """The usernames of the rows the table holds."""
    page = table(app).loaded
    return [row.username for row in page.rows] if page is not None else []


def row_line(app: PortalApp, username: str) -> str:
    """The line of the screen that shows ``username``'s row."""
    return next(line for line in screen_lines(app) if line.lstrip().startswith(username + " "))


def title(app: PortalApp) -> str:
    return text_of(app.screen.query_one("#users-title"))


async def open_users(pilot: AppPilot) -> None:
    """Open Users from the menu under the name in the top-right corner."""
    app = portal(pilot)
    assert await choose_from_menu(pilot, "users") == ["profile", "users", "sign-out"]
    await wait_for_screen(pilot, "UsersScreen")
    await wait_until(pilot, lambda: bool(usernames(app)), "the first rows")


async def choose_org(pilot: AppPilot, name: str) -> None:
    """Choose an organisation in the top bar's drop-down."""
    app = portal(pilot)
    picker = app.screen.query_one("#org-picker", Select)
    picker.value = next(o.id for o in session_of(app).organisations if o.name == name)
    await wait_until(pilot, lambda: chosen_org_name(app) == name, f"{name} to be chosen")


def highlight(app: PortalApp, username: str) -> None:
    table(app).move_cursor(usernames(app).index(username))


async def test_admin_disables_a_members_mfa_then_the_member_signs_in_with_password(
    world: World,
) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, GLOBEX)
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert ACME in title(app)
        assert set(usernames(app)) == {"ada", "leo", "mia"}
        assert [*HEADER[:-1], "Last", "sign-in"] in [line.split() for line in screen_lines(app)]
        assert "Enabled" in row_line(app, "leo") and "Disabled" in row_line(app, "mia")
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await type_text(pilot, "LEO")
        await wait_until(pilot, lambda: usernames(app) == ["leo"], "the filter")
        await pilot.press("down")
        assert app.focused is table(app)
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, "wrong-password")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: message(app, "#confirm-message") == "Incorrect password", "the refusal"
        )
        assert world.account("leo").mfa_enabled
        await type_text(pilot, World.PASSWORDS["ada"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "Disabled" in row_line(app, "leo"), "the row to update")
        assert not world.account("leo").mfa_enabled
        await sign_out(pilot)
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])  # the password alone now
        notice = await past_the_notice(pilot, "ProfileScreen")
        assert notice is not None and "MFA was disabled by ada" in notice
        assert session_of(app).account.username == "leo"


async def test_disable_button_and_escape_in_the_modal(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        highlight(app, "leo")
        await pilot.click("#disable-mfa")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await pilot.press("escape")
        await wait_for_screen(pilot, "UsersScreen")
        assert "Enabled" in row_line(app, "leo")
        assert world.account("leo").mfa_enabled


async def test_the_users_screen_under_a_modal_follows_the_organisation(world: World) -> None:
    """On Users for Acme: F1, ctrl+p "Switch organisation: Globex Labs", Escape. The
    title, the rows and the picker show Globex, and Disable MFA names Globex."""
    world.enrol("bobby")
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        await pilot.press("f1")
        await wait_for_screen(pilot, "HelpScreen")
        await run_command(pilot, f"Switch organisation: {GLOBEX}")
        await pilot.press("escape")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "bobby" in usernames(app), "Globex's members")
        assert GLOBEX in title(app) and ACME not in title(app)
        assert set(usernames(app)) == {"ada", "bobby", "grace"}
        globex = next(o.id for o in session_of(app).organisations if o.name == GLOBEX)
        assert app.screen.query_one("#org-picker", Select).value == globex
        highlight(app, "bobby")
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        modal = app.screen
        assert isinstance(modal, ConfirmPasswordModal)
        assert modal.purpose.startswith(f"Disable MFA for bobby in {GLOBEX}.")
        await type_text(pilot, World.PASSWORDS["ada"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "UsersScreen")
        assert not world.account("bobby").mfa_enabled


async def test_a_disable_acts_on_the_organisation_of_its_page(world: World) -> None:
    """The organisation changed while the modal was open: the reset still names the
    organisation the member was shown in, and the service is asked about that one."""
    app = world.app()
    calls: list[int] = []
    original = world.portal.mfa.disable_for_user

    def recording(caller, *, password, target_user_id, org_id):  # type: ignore[no-untyped-def]
        calls.append(org_id)
        return original(caller, password=password, target_user_id=target_user_id, org_id=org_id)

    world.portal.mfa.disable_for_user = recording  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        acme = session_of(app).org_id
        highlight(app, "leo")
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        app.select_organisation(
            next(o.id for o in session_of(app).organisations if o.name == GLOBEX)
        )
        await type_text(pilot, World.PASSWORDS["ada"])
        await pilot.press("enter")
        await wait_for_screen(pilot, "UsersScreen")
        assert calls == [acme]
        assert not world.account("leo").mfa_enabled


async def test_an_admin_cannot_reset_another_admin(world: World) -> None:
    world.enrol("grace")
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, GLOBEX)
        await open_users(pilot)
        highlight(app, "grace")
        await pilot.press("d")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await type_text(pilot, World.PASSWORDS["ada"])
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: "Only an account manager can reset this account" in screen_text(app),
            "the refusal",
        )
        assert world.account("grace").mfa_enabled


async def test_a_member_sees_no_users_command(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "mia")
        titles = palette_titles(app)
        assert "Users" not in titles
        assert {"Profile", "Enable MFA", "Sign out"} <= set(titles)
        assert not any(t.startswith("Switch organisation") for t in titles)
        await pilot.press("u")
        assert app.screen.__class__.__name__ == "ProfileScreen"
        app.open_users()
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ProfileScreen"
        assert not app.screen.query_one("#org-picker").display  # one organisation


async def test_an_admin_of_one_organisation_is_refused_another(world: World) -> None:
    """Grace's picker offers Globex only; should Acme be chosen anyway (a tampered UI),
    the service refuses, nobody of Acme is shown, and the session is read again: the
    picker offers Globex alone once more."""
    from dataclasses import replace

    from tui_portal.services.results import Organisation

    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: set(usernames(app)) == {"ada", "bobby", "grace"}, "rows")
        acme = next(o for o in world.account("ada").organisations if o.name == ACME)
        session = session_of(app)
        app.session = replace(
            session,
            organisations=(*session.organisations, Organisation(acme.org_id, acme.name)),
            org_id=acme.org_id,
        )
        await wait_until(
            pilot,
            lambda: [o.name for o in session_of(app).organisations] == [GLOBEX],
            "the session read again",
        )
        assert chosen_org_name(app) == GLOBEX
        await wait_until(pilot, lambda: set(usernames(app)) == {"ada", "bobby", "grace"}, "rows")
        assert "leo" not in screen_text(app)


async def test_palette_lists_the_commands_that_apply(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        titles = palette_titles(app)
        for expected in (
            "Profile",
            "Enable MFA",
            "Users",
            "Sign out",
            f"Switch organisation: {ACME}",
            f"Switch organisation: {GLOBEX}",
        ):
            assert expected in titles
        assert "Disable MFA" not in titles
        await run_command(pilot, f"Switch organisation: {GLOBEX}")
        assert chosen_org_name(app) == GLOBEX
        assert app.screen.query_one("#org-picker", Select).value == session_of(app).org_id
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "bobby" in usernames(app), "Globex members")


async def test_an_account_manager_can_pick_any_organisation(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "sam")
        assert {o.name for o in session_of(app).organisations} == {ACME, GLOBEX}
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert "leo" in usernames(app)


async def test_text_from_users_is_shown_literally(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "bobby")
        assert MARKUP_NAME in screen_lines(app)[0]  # the name in the top-right corner
        assert MARKUP_NAME in text_of(app.screen.query_one("#details"))
        await sign_out(pilot)
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "bobby" in usernames(app), "the table")
        assert MARKUP_NAME in row_line(app, "bobby")


def import_members(world: World, count: int, *, username_width: int = 0) -> None:
    lines = ["username,name,email,org,role,password_hash"]
    phc = importable_hash("not-a-real-password")
    for n in range(count):
        username = f"bulk{n:04}".ljust(username_width, "x")
        lines.append(f'{username},Bulk {n},bulk{n}@acme.example,{ACME},member,"{phc}"')
    world.portal.importer.import_rows(lines, operator=OPERATOR)


async def test_ctrl_end_and_ctrl_home_move_over_every_member(world: World) -> None:
    import_members(world, 700)
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert table(app).total == 703
        assert "Member 1 of 703" in text_of(app.screen.query_one("#users-status"))
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: "Member 703 of 703" in screen_text(app), "the last member")
        await wait_until(pilot, lambda: "mia " in screen_text(app), "the last row drawn")
        await pilot.press("down")  # past the end: nothing more
        assert table(app).cursor_index == 702
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "Member 1 of 703" in screen_text(app), "the first")
        await wait_until(pilot, lambda: "ada " in screen_text(app), "the first row drawn")


async def test_key_columns_are_whole_at_80_columns_and_the_same_every_time(
    world: World,
) -> None:
    """At 80x24 a 64-character username, the role and the whole MFA cell are visible;
    and opening Users again draws exactly the same lines."""
    import_members(world, 30, username_width=64)
    drawn: list[list[str]] = []
    for _ in range(2):
        app = world.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await signed_in_as(pilot, world, "ada")
            await choose_org(pilot, ACME)
            await open_users(pilot)
            lines = screen_lines(app)
            first = next(line for line in lines if line.lstrip().startswith("ada "))
            assert "admin" in first and "Disabled" in first
            long_row = next(line for line in lines if "bulk0000x" in line)
            assert "bulk0000".ljust(64, "x") in long_row
            assert long_row.split()[-2:] == ["member", "Disabled"]
            drawn.append(lines)
            await sign_out(pilot)
    assert drawn[0] == drawn[1]


async def test_enter_in_the_filter_moves_to_the_table(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await pilot.press("slash", *"gr", "enter")
        assert app.focused is table(app)
        await wait_until(pilot, lambda: usernames(app) == ["grace"], "the filter")
        assert app.screen.query_one("#filter", Input).value == "gr"
        await pilot.press("slash", "ctrl+u", *"[bold]", "enter")
        await wait_until(pilot, lambda: table(app).total == 0, "no matches")
        assert "No members match this filter." in screen_text(app)


async def test_an_mfa_member_cannot_reach_users_without_a_code(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        assert account_of(app) is None
        assert [t for t in palette_titles(app) if t in ("Users", "Profile")] == []
        await pilot.press("enter")  # nothing typed: refused without a service call
        await wait_until(pilot, lambda: message(app) == "Invalid MFA code", "the refusal")
        from tests.tui.flows import enter_code

        await enter_code(pilot, world.code("leo"))
        await wait_for_screen(pilot, "ProfileScreen")


async def test_the_user_menu_closes_on_escape_and_on_a_click_outside(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.click("#user-menu-button")
        await wait_for_screen(pilot, "UserMenu")
        await pilot.press("escape")
        await wait_for_screen(pilot, "ProfileScreen")
        await pilot.click("#user-menu-button")
        await wait_for_screen(pilot, "UserMenu")
        await pilot.click(offset=(5, 25))
        await wait_for_screen(pilot, "ProfileScreen")
        assert account_of(app) is not None  # nothing was chosen
