"""Manage Access › Users: the organisation picker, the table, and recovering a member."""

from __future__ import annotations

from textual.widgets import Input, Select

from tests.tui.flows import (
    enter_code,
    message,
    sign_in,
    sign_out,
    signed_in_as,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.world import ACME, GLOBEX, MARKUP_NAME, OPERATOR, World, importable_hash
from tui_portal.app import PortalApp
from tui_portal.screens.users import MembersTable


def table(app: PortalApp) -> MembersTable:
    return app.screen.query_one(MembersTable)


def usernames(app: PortalApp) -> list[str]:
    members = table(app)
    return [str(members.get_row_at(i)[0]) for i in range(members.row_count)]


def mfa_of(app: PortalApp, username: str) -> str:
    members = table(app)
    for i in range(members.row_count):
        row = members.get_row_at(i)
        if str(row[0]) == username:
            return str(row[4])
    raise AssertionError(f"{username} is not in the table")


async def open_users(pilot) -> None:  # type: ignore[no-untyped-def]
    """Open Users from the menu under the name in the top-right corner."""
    from textual.widgets import OptionList

    app = pilot.app
    await pilot.click("#user-menu-button")
    await wait_for_screen(pilot, "UserMenu")
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    assert ids == ["profile", "users", "sign-out"]
    options.highlighted = ids.index("users")
    await pilot.press("enter")
    await wait_for_screen(pilot, "UsersScreen")
    await wait_until(pilot, lambda: table(app).row_count > 0, "the first page")


async def choose_org(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    picker = app.screen.query_one("#org-picker", Select)
    org_id = next(o.id for o in app.organisations if o.name == name)
    picker.value = org_id
    await wait_until(pilot, lambda: app.org_id == org_id, f"{name} to be chosen")


async def test_admin_disables_a_members_mfa_then_the_member_signs_in_with_password(
    world: World,
) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, GLOBEX)
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert ACME in str(app.screen.query_one("#users-title").render())
        assert set(usernames(app)) == {"ada", "leo", "mia"}
        header = [str(c.label) for c in table(app).columns.values()]
        assert header == ["Username", "Name", "Email", "Role", "MFA", "Last sign-in"]
        assert mfa_of(app, "leo") == "Enabled"
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
        await wait_until(pilot, lambda: mfa_of(app, "leo") == "Disabled", "the row to update")
        assert not world.account("leo").mfa_enabled
        await sign_out(pilot)
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])  # the password alone now
        await wait_for_screen(pilot, "ProfileScreen")
        assert app.account is not None and app.account.username == "leo"


async def test_disable_button_and_escape_in_the_modal(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        members = table(app)
        members.move_cursor(row=usernames(app).index("leo"))
        await pilot.click("#disable-mfa")
        await wait_for_screen(pilot, "ConfirmPasswordModal")
        await pilot.press("escape")
        await wait_for_screen(pilot, "UsersScreen")
        assert mfa_of(app, "leo") == "Enabled"
        assert world.account("leo").mfa_enabled


async def test_a_member_sees_no_users_command(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "mia")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Users" not in titles
        assert {"Profile", "Enable MFA", "Sign out"} <= set(titles)
        assert not any(t.startswith("Switch organisation") for t in titles)
        await pilot.press("u")
        assert app.screen.__class__.__name__ == "ProfileScreen"
        app.open_users()
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ProfileScreen"
        assert not app.screen.query("#org-picker")  # one organisation: no drop-down


async def test_an_admin_of_one_organisation_never_sees_another(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: table(app).row_count > 0, "the first page")
        assert set(usernames(app)) == {"ada", "bobby", "grace"}
        app.org_id = next(
            o.org_id for o in world.account("ada").organisations if o.name == ACME
        )  # forced, as a tampered UI would
        app.screen._load(0, cursor_at_end=False)  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: "admins" in message(app, "#users-status"), "refusal")
        assert table(app).row_count == 0


async def test_palette_lists_the_commands_that_apply(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        titles = [c.title for c in app.get_system_commands(app.screen)]
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
        switch = next(
            c
            for c in app.get_system_commands(app.screen)
            if c.title == f"Switch organisation: {GLOBEX}"
        )
        switch.callback()
        await pilot.pause()
        assert app.screen.query_one("#org-picker", Select).value == app.org_id
        assert next(o.name for o in app.organisations if o.id == app.org_id) == GLOBEX
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "bobby" in usernames(app), "Globex members")


async def test_an_account_manager_can_pick_any_organisation(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "sam")
        assert {o.name for o in app.organisations} == {ACME, GLOBEX}
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert "leo" in usernames(app)


async def test_text_from_users_is_shown_literally(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "bobby")
        button = app.screen.query_one("#user-menu-button")
        assert MARKUP_NAME in str(button.render())  # type: ignore[attr-defined]
        assert MARKUP_NAME in str(app.screen.query_one("#details").render())
        await sign_out(pilot)
        await signed_in_as(pilot, world, "grace")
        await pilot.press("u")
        await wait_for_screen(pilot, "UsersScreen")
        await wait_until(pilot, lambda: "bobby" in usernames(app), "the table")
        row = table(app).get_row_at(usernames(app).index("bobby"))
        assert str(row[1]) == MARKUP_NAME


async def test_paging_past_the_end_of_a_page_loads_the_next(world: World) -> None:
    lines = ["username,name,email,org,role,password_hash"]
    phc = importable_hash("not-a-real-password")
    lines += [f'bulk{n:04},Bulk {n},bulk{n}@acme.example,{ACME},member,"{phc}"' for n in range(250)]
    world.portal.importer.import_rows(lines, operator=OPERATOR)
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in_as(pilot, world, "ada")
        await choose_org(pilot, ACME)
        await open_users(pilot)
        assert "Members 1–100 of 253" in message(app, "#users-status")
        await pilot.press("ctrl+end")
        await wait_until(
            pilot,
            lambda: (
                "of 253" in message(app, "#users-status")
                and "154–253" in message(app, "#users-status")
            ),
            "the last page",
        )
        assert usernames(app)[-1] == "mia"
        assert table(app).cursor_row == table(app).row_count - 1
        await pilot.press("down")  # past the end: nothing more
        await pilot.press("ctrl+home")
        await wait_until(
            pilot, lambda: "Members 1–100" in message(app, "#users-status"), "the first page"
        )
        table(app).move_cursor(row=99)
        await pilot.press("down")
        await wait_until(
            pilot, lambda: "Members 101–200" in message(app, "#users-status"), "the next page"
        )


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
        await wait_until(pilot, lambda: table(app).row_count == 0, "no matches")
        assert "No members match" in message(app, "#users-status")


async def test_an_mfa_member_cannot_reach_users_without_a_code(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        assert app.account is None
        assert [
            c.title for c in app.get_system_commands(app.screen) if c.title in ("Users", "Profile")
        ] == []
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
        assert app.account is not None  # nothing was chosen
