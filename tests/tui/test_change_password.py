"""Change password: the current one, the new one twice, Enter from field to field; the
contract's rules; other sessions signed out."""

from __future__ import annotations

from textual.widgets import Input, Label

from tests.tui.flows import (
    AppPilot,
    message,
    past_the_notice,
    portal,
    run_command,
    screen_text,
    sign_in,
    sign_out,
    signed_in_as,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.world import World
from tui_portal.app import PortalApp

NEW = "a long new passphrase"


def status(app: PortalApp) -> str:
    return message(app, "#password-message")


def field(app: PortalApp, selector: str) -> Input:
    return app.screen.query_one(selector, Input)


async def fill(pilot: AppPilot, current: str, new: str, repeat: str) -> None:
    """Type the three fields from Current password, Enter after each."""
    app = portal(pilot)
    field(app, "#current-password").focus()
    await pilot.pause()
    for text in (current, new, repeat):
        await type_text(pilot, text)
        await pilot.press("enter")


async def test_change_password_by_keyboard_signs_out_the_other_sessions(world: World) -> None:
    other = world.caller("mia", source="ssh:203.0.113.7")
    calls: list[str] = []
    original = world.portal.accounts.change_password

    def counting(caller, *, current, new):  # type: ignore[no-untyped-def]
        calls.append(new)
        return original(caller, current=current, new=new)

    world.portal.accounts.change_password = counting  # type: ignore[method-assign]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await pilot.press("p")
        await wait_for_screen(pilot, "ChangePasswordScreen")
        labels = [str(label.render()) for label in app.screen.query(Label)]
        for expected in ("Current password", "New password", "Repeat new password"):
            assert expected in labels
        selectors = ("#current-password", "#new-password", "#repeat-password")
        assert all(field(app, selector).password for selector in selectors)  # masked
        assert app.focused is field(app, "#current-password")
        await type_text(pilot, World.PASSWORDS["mia"])
        await pilot.press("enter")
        assert app.focused is field(app, "#new-password")
        await type_text(pilot, NEW)
        await pilot.press("enter")
        assert app.focused is field(app, "#repeat-password")
        await type_text(pilot, NEW + "!")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(status(app)), "the mismatch")
        assert status(app) == "The new passwords do not match"
        assert calls == []  # nothing was asked of the service
        assert app.focused is field(app, "#repeat-password")
        await type_text(pilot, NEW)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Password changed" in status(app), "the change")
        assert status(app) == "Password changed. 1 other session was signed out."
        assert calls == [NEW]
        assert not world.portal.sessions.heartbeat(other, active=False).live
        assert world.portal.sessions.heartbeat(app.session.caller, active=False).live  # type: ignore[union-attr]
        await pilot.press("enter")  # "Back to profile"
        await wait_for_screen(pilot, "ProfileScreen")
        await sign_out(pilot)
        await sign_in(pilot, "mia", World.PASSWORDS["mia"])
        await wait_until(pilot, lambda: "Invalid" in message(app), "the old password refused")
        await sign_in(pilot, "mia", NEW)
        notice = await past_the_notice(pilot, "ProfileScreen")
        assert notice is not None and "1 failed sign-in attempt" in notice


async def test_the_rules_refuse_in_the_contracts_words(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        await run_command(pilot, "Change password")
        await wait_for_screen(pilot, "ChangePasswordScreen")
        current = World.PASSWORDS["mia"]
        for typed, refusal, retyped in (
            ((current, "iloveyou", "iloveyou"), "Choose a less common password", "#new-password"),
            (
                (current, "short", "short"),
                "Passwords are 8 to 256 characters long",
                "#new-password",
            ),
            (
                (current, current, current),
                "The new password must differ from the current one",
                "#new-password",
            ),
            (("not-my-password", NEW, NEW), "Incorrect password", "#current-password"),
        ):
            await fill(pilot, *typed)
            await wait_until(pilot, lambda r=refusal: status(app) == r, refusal)  # type: ignore[misc]
            assert app.focused is field(app, retyped)
            assert field(app, retyped).value == ""
            for selector in ("#current-password", "#new-password", "#repeat-password"):
                field(app, selector).value = ""
        assert "Password changed" not in screen_text(app)
        await pilot.press("escape")
        await wait_for_screen(pilot, "ProfileScreen")
    assert world.portal.sign_in.sign_in(
        username="mia", password=World.PASSWORDS["mia"], source="local:test"
    )
