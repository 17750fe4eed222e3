"""Text that people typed is shown literally everywhere: organisation names, display names
and emails made of markup, brackets and right-to-left letters, through every signed-in
screen and the command palette. Nothing crashes, and every text appears as it was typed."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.tui.flows import (
    AppPilot,
    portal,
    screen_name,
    screen_text,
    sign_in,
    text_of,
    wait_for_screen,
    wait_until,
)
from tests.world import ACME, OPERATOR, World
from tui_portal.services.validation import check_display_name, check_email, check_org_name
from tui_portal.widgets.members_table import MembersTable

MARKUP = ["[", "]", "[/]", "[b]", "[link=https://example.com]", "[/link]", "[@click=quit]", "&"]
LETTERS = "abcXYZ éß שלום مرحبا"
PASSWORD = "literal-password-1"
_people = itertools.count()

fragment = st.one_of(st.sampled_from(MARKUP), st.text(alphabet=LETTERS, min_size=1, max_size=6))
# Short enough to sit on one line wherever it is shown (the top bar's name, the profile).
texts = st.lists(fragment, min_size=1, max_size=4).map("".join).filter(lambda t: len(t) <= 28)
local_part = st.lists(st.sampled_from(["[b]", "[/]", "x", "]", "[link=a]", "ש"]), min_size=1).map(
    "".join
)


def valid(check: object, text: str) -> bool:
    try:
        check(text)  # type: ignore[operator]
    except Exception:
        return False
    return True


async def visit_everything(pilot: AppPilot, username: str, org: str, name: str, email: str) -> None:
    app = portal(pilot)
    await sign_in(pilot, username, PASSWORD)
    await wait_for_screen(pilot, "ProfileScreen")
    shown = screen_text(app)
    assert name in shown  # the top bar and the profile
    assert org in text_of(app.screen.query_one("#organisations"))
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: screen_name(app) == "CommandPalette", "the palette")
    await wait_until(
        pilot, lambda: f"Switch organisation: {org}" in screen_text(app), "the palette's list"
    )
    await pilot.press("escape")
    await wait_for_screen(pilot, "ProfileScreen")
    organisations = app.session.organisations if app.session else ()
    app.select_organisation(next(o.id for o in organisations if o.name == org))
    await pilot.press("u")
    await wait_for_screen(pilot, "UsersScreen")
    table = app.screen.query_one(MembersTable)
    await wait_until(pilot, lambda: table.loaded is not None, "the members")
    await pilot.pause()
    assert org in text_of(app.screen.query_one("#users-title"))
    row = next(line for line in screen_text(app).splitlines() if line.startswith(f" {username} "))
    assert name in row and email in row
    await pilot.press("d")  # no MFA: a toast that names the member, literally
    await pilot.pause()
    assert app.is_running


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(org=texts, name=texts, local=local_part)
@example(org="R&D [/] Ops", name="[bold red]Bobby[/] Tables", local="[link=https://x]")
@example(org="Acme [EU]", name="مرحبا [b]", local="[@click=quit]")
@example(org="[link=https://example.com]Click[/link]", name="שלום ]", local="x")
def test_text_from_users_is_literal_everywhere(
    world: World, org: str, name: str, local: str
) -> None:
    number = next(_people)
    org = f"{org} {number}"
    email = f"{local}@example.com"
    if not (valid(check_org_name, org) and valid(check_display_name, name)) or len(name) > 28:
        return
    if not valid(check_email, email) or org.strip() != org or name.strip() != name:
        return
    username = f"person{number}"
    directory = world.portal.directory
    directory.create_organisation(org, operator=OPERATOR)
    directory.create_user(username, PASSWORD, operator=OPERATOR, name=name, email=email)
    directory.add_member(org, username, "admin", operator=OPERATOR)
    directory.add_member(ACME, username, "member", operator=OPERATOR)

    async def scenario() -> None:
        app = world.app()
        async with app.run_test(size=(160, 30)) as pilot:
            await visit_everything(pilot, username, org, name, email)

    asyncio.run(scenario())
