"""Steps the UI tests share: waiting for the app, reading the screen, signing in."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import Callable

from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static

from tests.world import World
from tui_portal.app import PortalApp
from tui_portal.screens.session_state import PortalSession
from tui_portal.services.results import Account

AppPilot = Pilot[None]

_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)">([^<]*)</text>'
)
_CELL_WIDTH = 12.2


async def wait_until(
    pilot: AppPilot, condition: Callable[[], bool], what: str, timeout: float = 10.0
) -> None:
    """Poll until ``condition`` holds (service calls finish in threads)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def portal(pilot: AppPilot) -> PortalApp:
    """The app under test."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    return app


def screen_name(app: PortalApp) -> str:
    """The class name of the screen on top."""
    return type(app.screen).__name__


def session_of(app: PortalApp) -> PortalSession:
    """The signed-in session (the test fails when there is none)."""
    assert app.session is not None, "nobody is signed in"
    return app.session


def account_of(app: PortalApp) -> Account | None:
    """The signed-in account, or None."""
    return app.session.account if app.session is not None else None


def chosen_org_name(app: PortalApp) -> str | None:
    """The name of the organisation chosen in the session."""
    organisation = session_of(app).organisation
    return organisation.name if organisation is not None else None


async def wait_for_screen(pilot: AppPilot, name: str) -> None:
    """Wait until the named screen is on top and mounted (its widgets composed)."""
    app = portal(pilot)
    await wait_until(
        pilot, lambda: screen_name(app) == name and app.screen.is_mounted, f"the {name}"
    )
    await pilot.pause()


def text_of(widget: Widget) -> str:
    """The plain text a Static (or Label) shows (a table in it drawn at its width)."""
    assert isinstance(widget, Static)
    shown = widget.content
    if isinstance(shown, (str, Content, Text)) or not shown:
        return str(widget.render())
    console = Console(width=max(widget.content_size.width, 20), record=True, file=io.StringIO())
    console.print(shown)
    return console.export_text()


def message(app: PortalApp, selector: str = "#message") -> str:
    """The status or error line of the current screen."""
    return text_of(app.screen.query_one(selector, Static))


def screen_lines(app: PortalApp) -> list[str]:
    """What the terminal shows now, line by line, read from an export of the screen."""
    width, height = app.size
    grid = [[" "] * width for _ in range(height)]
    for x, line, text in _SVG_TEXT.findall(app.export_screenshot()):
        row, column = int(line), round(float(x) / _CELL_WIDTH)
        for offset, char in enumerate(html.unescape(text).replace("\xa0", " ").rstrip("\n")):
            if 0 <= row < height and 0 <= column + offset < width:
                grid[row][column + offset] = char
    return ["".join(row).rstrip() for row in grid]


def screen_text(app: PortalApp) -> str:
    """What the terminal shows now, as one text."""
    return "\n".join(screen_lines(app))


async def type_text(pilot: AppPilot, text: str) -> None:
    """Type into the focused field through its editing API (one key event per character
    costs ~60 ms under Pilot; the tests that are about keys press them one by one)."""
    focused = pilot.app.focused
    if isinstance(focused, Input):
        focused.insert_text_at_cursor(text)
        await pilot.pause()
    else:
        await pilot.press(*text)


async def sign_in(pilot: AppPilot, username: str, password: str) -> None:
    """Fill the sign-in form from the keyboard and press Enter in Password."""
    app = portal(pilot)
    await wait_for_screen(pilot, "SignInScreen")
    username_field = app.screen.query_one("#username", Input)
    username_field.value = ""
    app.screen.query_one("#password", Input).value = ""
    username_field.focus()
    await pilot.pause()
    await type_text(pilot, username)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")


async def enter_code(pilot: AppPilot, code: str) -> None:
    """Type an MFA code on the MFA code screen and press Enter."""
    await wait_for_screen(pilot, "MfaCodeScreen")
    await type_text(pilot, code)
    await pilot.press("enter")


async def choose_from_menu(pilot: AppPilot, choice: str) -> list[str]:
    """Open the user menu in the top-right corner and choose ``choice`` ("profile",
    "users", "sign-out"); returns the ids the menu offered."""
    app = portal(pilot)
    await pilot.click("#user-menu-button")
    await wait_for_screen(pilot, "UserMenu")
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id or "" for i in range(options.option_count)]
    options.highlighted = ids.index(choice)
    await pilot.press("enter")
    return ids


async def sign_out(pilot: AppPilot) -> None:
    """Sign out through the user menu in the top-right corner."""
    await choose_from_menu(pilot, "sign-out")
    await wait_for_screen(pilot, "SignInScreen")


async def signed_in_as(pilot: AppPilot, world: World, username: str) -> None:
    """Sign in from the keyboard, with the code when the person has MFA, to the Profile
    (reading past a notice of what happened since the last sign-in, if there is one)."""
    await sign_in(pilot, username, World.PASSWORDS[username])
    if username in world.secrets:
        await enter_code(pilot, world.code(username))
    await past_the_notice(pilot, "ProfileScreen")


async def past_the_notice(pilot: AppPilot, first_screen: str) -> str | None:
    """Wait for the first screen after sign-in, dismissing the sign-in notice (Enter on its
    Dismiss button) if it is shown; returns the notice's text, or None."""
    app = portal(pilot)
    names = (first_screen, "SecurityNoticeModal")
    await wait_until(pilot, lambda: screen_name(app) in names, f"the {first_screen}")
    notice = None
    if screen_name(app) == "SecurityNoticeModal":
        await pilot.pause()
        notice = text_of(app.screen.query_one("#notice-text"))
        await pilot.press("enter")
    await wait_for_screen(pilot, first_screen)
    return notice


async def run_command(pilot: AppPilot, title: str) -> None:
    """Open the command palette (ctrl+p), type ``title`` and run the command it finds."""
    app = portal(pilot)
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: screen_name(app) == "CommandPalette", "the palette")
    palette_input = app.screen.query_one(Input)
    palette_input.insert_text_at_cursor(title)
    from textual.command import CommandList

    commands = app.screen.query_one(CommandList)
    await wait_until(
        pilot,
        lambda: commands.option_count > 0 and title in str(commands.get_option_at_index(0).prompt),
        f"the command {title!r}",
    )
    await pilot.press("down", "enter")
    await wait_until(pilot, lambda: screen_name(app) != "CommandPalette", "the palette to close")


def palette_titles(app: PortalApp) -> list[str]:
    """The titles of the commands the palette offers on the current screen."""
    return [command.title for command in app.get_system_commands(app.screen)]
