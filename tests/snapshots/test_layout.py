"""Snapshot tests that guard the layout of each screen (pytest-textual-snapshot).

Regenerate after a deliberate change with ``pytest tests/snapshots --snapshot-update`` and
look at every changed SVG in the report before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tests.tui.flows import sign_in, signed_in_as, wait_for_screen, wait_until
from tests.world import ACME, World
from tui_portal.screens.users import MembersTable

SnapCompare = Callable[..., bool]


class TestSignedOut:
    """The two screens before a session starts."""

    def test_sign_in(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await wait_for_screen(pilot, "SignInScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_sign_in_demo_accounts(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await wait_for_screen(pilot, "SignInScreen")

        app = world.app()
        from tui_portal.demo import DEMO_ACCOUNTS

        app.demo_accounts = DEMO_ACCOUNTS
        assert snap_compare(app, terminal_size=(80, 24), run_before=ready)

    def test_mfa_code(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await sign_in(pilot, "leo", World.PASSWORDS["leo"])
            await wait_for_screen(pilot, "MfaCodeScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


class TestProfileAndMfa:
    """The profile, the enrolment screen at 80x24, and the confirm-password modal."""

    def test_profile(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await signed_in_as(pilot, world, "ada")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_enable_mfa_80x24(
        self, snap_compare: SnapCompare, world: World, fixed_secret: Callable[[], str]
    ) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await signed_in_as(pilot, world, "mia")
            await pilot.press("e")
            await wait_for_screen(pilot, "EnableMfaScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_confirm_password(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await signed_in_as(pilot, world, "leo")
            await pilot.press("d")
            await wait_for_screen(pilot, "ConfirmPasswordModal")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


class TestUsers:
    """Manage Access › Users for an admin of two organisations."""

    def test_users(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[Any]) -> None:
            await signed_in_as(pilot, world, "ada")
            app = pilot.app
            picker_value = next(o.id for o in app.organisations if o.name == ACME)  # type: ignore[attr-defined]
            app.select_organisation(picker_value)  # type: ignore[attr-defined]
            await pilot.press("u")
            await wait_for_screen(pilot, "UsersScreen")
            await wait_until(
                pilot, lambda: app.screen.query_one(MembersTable).row_count == 3, "the table"
            )

        assert snap_compare(world.app(), terminal_size=(100, 24), run_before=ready)
