"""Sign-in and MFA code screens, driven from the keyboard with Pilot."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.flows import (
    account_of,
    enter_code,
    message,
    past_the_notice,
    screen_name,
    session_of,
    sign_in,
    signed_in_as,
    wait_for_screen,
    wait_until,
)
from tests.world import World


async def test_focus_starts_in_username_and_enter_moves_to_password(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        assert app.focused is app.screen.query_one("#username", Input)
        await pilot.press(*"mia", "enter")
        assert app.focused is app.screen.query_one("#password", Input)
        assert app.screen.query_one("#password", Input).password  # masked


async def test_fast_typing_after_enter_lands_in_password(world: World) -> None:
    """Keys that arrive together with Enter still go to the right fields."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await pilot.press(*"mia", "enter", *World.PASSWORDS["mia"], "enter")
        await wait_for_screen(pilot, "ProfileScreen")
        assert session_of(app).account.username == "mia"


async def test_every_failure_says_the_same(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for username, password in [
            ("mia", "wrong-password"),
            ("nobody", "whatever-pass"),
            ("bad name!", "whatever-pass"),
            ("[bold]x[/]", "[/]"),
        ]:
            await sign_in(pilot, username, password)
            await wait_until(pilot, lambda: "Invalid" in message(app), "the failure")
            assert message(app) == "Invalid username or password"
            assert screen_name(app) == "SignInScreen"
            assert app.screen.query_one("#password", Input).value == ""


async def test_empty_fields_are_refused_without_a_service_call(world: World) -> None:
    calls: list[str] = []
    original = world.portal.sign_in.sign_in
    world.portal.sign_in.sign_in = lambda **kw: calls.append(kw["username"]) or original(**kw)  # type: ignore[method-assign]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await pilot.press("enter", "enter")
        assert message(app) == "Invalid username or password"
        assert calls == []


async def test_double_enter_submits_once(world: World) -> None:
    calls: list[str] = []
    original = world.portal.sign_in.sign_in

    def counting(*, username: str, password: str, source: str):  # type: ignore[no-untyped-def]
        calls.append(username)
        return original(username=username, password=password, source=source)

    world.portal.sign_in.sign_in = counting  # type: ignore[method-assign]
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "mia", "wrong-password")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Invalid" in message(app), "the failure")
        assert calls == ["mia"]


async def test_throttled_sign_in_says_how_long_to_wait(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(6):
            await sign_in(pilot, "mia", "wrong-password")
            await wait_until(pilot, lambda: "Invalid" in message(app), "the failure")
            app.screen.query_one("#message").update("")  # type: ignore[attr-defined]
        await sign_in(pilot, "mia", World.PASSWORDS["mia"])
        await wait_until(pilot, lambda: "Try again in" in message(app), "the throttle")
        assert "Try again in 2 seconds" in message(app)
        world.clock.advance(2)
        await signed_in_as(pilot, world, "mia")


async def test_keys_typed_before_the_terminal_was_taken_over_land_in_the_right_fields(
    world: World,
) -> None:
    """Typed ahead while the portal starts, Enter reaches it as ctrl+j (the terminal's line
    mode turns a carriage return into a newline): it still moves to Password and submits."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await pilot.press(*"mia", "ctrl+j", *World.PASSWORDS["mia"], "ctrl+j")
        await wait_for_screen(pilot, "ProfileScreen")
        assert session_of(app).account.username == "mia"


async def test_a_served_sessions_cursor_stays_lit_and_a_local_one_blinks(world: World) -> None:
    """Over SSH or a browser every blink would be a frame sent over the network."""
    for source, blinks in (
        ("ssh:203.0.113.7", False),
        ("web:203.0.113.7", False),
        ("local:test", True),
    ):
        app = world.app(source=source)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_screen(pilot, "SignInScreen")
            await pilot.press("enter")  # on to Password: a second field gets focus
            await pilot.pause()
            for field in app.screen.query(Input):
                assert field.cursor_blink is blinks, (source, field.id)


async def test_mfa_code_screen_accepts_a_code_once(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        assert "MFA code" in str(app.screen.query_one("#code-label").render())
        assert app.focused is app.screen.query_one("#code", Input)
        await enter_code(pilot, "000000" if world.code("leo") != "000000" else "111111")
        await wait_until(pilot, lambda: "Invalid" in message(app), "the failure")
        assert message(app) == "Invalid MFA code"
        code = world.code("leo")
        await enter_code(pilot, code)
        notice = await past_the_notice(pilot, "ProfileScreen")  # the wrong code, just now
        assert notice is not None and "1 wrong MFA or recovery code" in notice
        assert session_of(app).account.mfa_enabled
        await pilot.press("ctrl+p")
        await pilot.press("escape")
        app.sign_out()
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await enter_code(pilot, code)  # the same code again, in the same 30 s
        await wait_until(pilot, lambda: "Invalid" in message(app), "the replay")
        assert message(app) == "Invalid MFA code"
        world.clock.advance(30)
        await enter_code(pilot, world.code("leo"))
        notice = await past_the_notice(pilot, "ProfileScreen")
        assert notice is not None and "used a second time" in notice


async def test_letters_and_short_codes_are_refused(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        for bad in ["12345", "abcdef", "[b]1[/]"]:
            await enter_code(pilot, bad)
            await wait_until(pilot, lambda: "Invalid MFA code" in message(app), "the refusal")
            assert screen_name(app) == "MfaCodeScreen"
            app.screen.query_one("#code", Input).value = ""


async def test_escape_returns_to_sign_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        await pilot.press("escape")
        await wait_for_screen(pilot, "SignInScreen")
        assert account_of(app) is None


async def test_expired_pending_sign_in_is_refused(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "leo", World.PASSWORDS["leo"])
        await wait_for_screen(pilot, "MfaCodeScreen")
        world.clock.advance(5 * 60 + 1)
        await enter_code(pilot, world.code("leo"))
        await wait_until(pilot, lambda: "Invalid" in message(app), "the refusal")
        assert message(app) == "Invalid MFA code"
        assert screen_name(app) == "MfaCodeScreen"


async def test_a_database_that_cannot_be_opened_is_explained_plainly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tui_portal.config import KeySource, Settings
    from tui_portal.launch import make_app

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = Settings(
        database_url=f"sqlite:///{blocker}/portal.db",
        key_source=KeySource(inline_value=None, key_file=tmp_path / "secret.key"),
        issuer="Developer Portal",
    )
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.open_error is not None, "the open to fail")
        assert "cannot create database file" in (app.open_error or "")
        await sign_in(pilot, "mia", "mia-password-1")
        await wait_until(pilot, lambda: "not available" in message(app), "the explanation")
        # The path is the operator's to read (printed when the app exits), not the screen's.
        assert str(tmp_path) not in message(app)
        assert screen_name(app) == "SignInScreen"


async def test_an_idle_session_is_signed_out(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in_as(pilot, world, "mia")
        world.clock.advance(14 * 60)
        await pilot.press("f1", "escape")  # activity: the session stays
        world.clock.advance(14 * 60)
        app.sign_out_if_idle()
        await pilot.pause()
        assert screen_name(app) == "ProfileScreen" and account_of(app) is not None
        world.clock.advance(60)
        app.sign_out_if_idle()
        await wait_for_screen(pilot, "SignInScreen")
        assert account_of(app) is None
        assert "Signed out after 15 minutes without activity." in message(app)


async def test_a_locked_account_says_so_for_known_and_unknown_names(world: World) -> None:
    from tui_portal.errors import Locked, PortalError, Throttled

    for username in ("mia", "nobody.here"):
        for _ in range(200):
            try:
                world.portal.sign_in.sign_in(
                    username=username, password="wrong-password", source=f"local:{username}"
                )
            except Throttled as throttled:
                world.clock.advance(throttled.retry_after)
            except Locked:
                break
            except PortalError:
                continue
        else:
            raise AssertionError(f"{username} was never locked")
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for username, password in (("mia", World.PASSWORDS["mia"]), ("nobody.here", "x" * 9)):
            await sign_in(pilot, username, password)
            await wait_until(pilot, lambda: "Locked" in message(app), "the lock")
            assert message(app) == "Locked: ask an administrator"
            assert screen_name(app) == "SignInScreen"


async def test_the_sign_in_button_signs_in(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, "SignInScreen")
        await wait_until(pilot, lambda: bool(app.screen.query("#sign-in")), "the button")
        app.screen.query_one("#username", Input).value = "mia"
        app.screen.query_one("#password", Input).value = World.PASSWORDS["mia"]
        await pilot.click("#sign-in")
        await wait_for_screen(pilot, "ProfileScreen")
