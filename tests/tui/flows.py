"""Steps the UI tests share: waiting for the app, reading the screen, signing in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static

from tests.world import World
from tui_portal.app import PortalApp


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout: float = 10.0
) -> None:
    """Poll until ``condition`` holds (service calls finish in threads)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def screen_name(app: PortalApp) -> str:
    """The class name of the screen on top."""
    return type(app.screen).__name__


async def wait_for_screen(pilot: Pilot[Any], name: str) -> None:
    """Wait until the named screen is on top."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    await wait_until(pilot, lambda: screen_name(app) == name, f"the {name}")
    await pilot.pause()


def text_of(widget: Widget) -> str:
    """The plain text a Static (or Label) shows."""
    assert isinstance(widget, Static)
    return str(widget.render())


def message(app: PortalApp, selector: str = "#message") -> str:
    """The status or error line of the current screen."""
    return text_of(app.screen.query_one(selector, Static))


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type into the focused field through its editing API (one key event per character
    costs ~60 ms under Pilot; the tests that are about keys press them one by one)."""
    focused = pilot.app.focused
    if isinstance(focused, Input):
        focused.insert_text_at_cursor(text)
        await pilot.pause()
    else:
        await pilot.press(*text)


async def sign_in(pilot: Pilot[Any], username: str, password: str) -> None:
    """Fill the sign-in form from the keyboard and press Enter in Password."""
    app = pilot.app
    assert isinstance(app, PortalApp)
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


async def enter_code(pilot: Pilot[Any], code: str) -> None:
    """Type an MFA code on the MFA code screen and press Enter."""
    await wait_for_screen(pilot, "MfaCodeScreen")
    await type_text(pilot, code)
    await pilot.press("enter")


async def sign_out(pilot: Pilot[Any]) -> None:
    """Sign out through the user menu in the top-right corner."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    await pilot.click("#user-menu-button")
    await wait_for_screen(pilot, "UserMenu")
    from textual.widgets import OptionList

    options = app.screen.query_one(OptionList)
    index = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == "sign-out"
    )
    options.highlighted = index
    await pilot.press("enter")
    await wait_for_screen(pilot, "SignInScreen")


async def signed_in_as(pilot: Pilot[Any], world: World, username: str) -> None:
    """Sign in from the keyboard, with the code when the person has MFA, to the Profile."""
    await sign_in(pilot, username, World.PASSWORDS[username])
    if username in world.secrets:
        await enter_code(pilot, world.code(username))
    await wait_for_screen(pilot, "ProfileScreen")
