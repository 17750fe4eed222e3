"""Snapshot tests that guard the layout of each screen (pytest-textual-snapshot).

Regenerate after a deliberate change with ``pytest tests/snapshots --snapshot-update`` and
look at every changed SVG in the report before committing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.tui.flows import (
    chosen_org_name,
    portal,
    session_of,
    sign_in,
    sign_out,
    signed_in_as,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.world import ACME, OPERATOR, World
from tui_portal.security import recovery_codes, totp
from tui_portal.widgets.members_table import MembersTable

SnapCompare = Callable[..., bool]
Steps = Callable[[Pilot[None]], Awaitable[None]]


class TestSignedOut:
    """The two screens before a session starts."""

    def test_sign_in(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await wait_for_screen(pilot, "SignInScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_sign_in_demo_accounts(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await wait_for_screen(pilot, "SignInScreen")

        app = world.app()
        from tui_portal.demo import DEMO_ACCOUNTS

        app.demo_accounts = DEMO_ACCOUNTS
        assert snap_compare(app, terminal_size=(80, 24), run_before=ready)

    def test_mfa_code(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await sign_in(pilot, "leo", World.PASSWORDS["leo"])
            await wait_for_screen(pilot, "MfaCodeScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


class TestProfileAndMfa:
    """The profile, the enrolment screen at 80x24, and the confirm-password modal."""

    def test_profile(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "ada")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_enable_mfa_80x24(
        self, snap_compare: SnapCompare, world: World, fixed_secret: Callable[[], str]
    ) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "mia")
            await pilot.press("e")
            await wait_for_screen(pilot, "EnableMfaScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_confirm_password(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "leo")
            await pilot.press("d")
            await wait_for_screen(pilot, "ConfirmPasswordModal")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


async def users_of_acme(pilot: Pilot[None], world: World) -> None:
    """Ada on Users for Acme Cloud, its three members drawn."""
    await signed_in_as(pilot, world, "ada")
    app = portal(pilot)
    app.select_organisation(next(o.id for o in session_of(app).organisations if o.name == ACME))
    await wait_until(pilot, lambda: chosen_org_name(app) == ACME, "Acme")
    await pilot.press("u")
    await wait_for_screen(pilot, "UsersScreen")
    table = app.screen.query_one(MembersTable)
    await wait_until(pilot, lambda: table.loaded is not None, "the table")
    await pilot.pause()


class TestUsers:
    """Manage Access › Users for an admin of two organisations, wide and at 80 columns."""

    def test_users(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await users_of_acme(pilot, world)

        assert snap_compare(world.app(), terminal_size=(100, 24), run_before=ready)

    def test_users_80x24(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await users_of_acme(pilot, world)

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


@pytest.fixture
def fixed_recovery_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make new recovery codes predictable (a snapshot of the screen that shows them)."""
    codes = iter(f"{a}{b}AA-BBBB-CCCC-2345" for a in "ABCDEFGH" for b in "ABCDEFGH")
    monkeypatch.setattr(recovery_codes, "new_code", lambda: next(codes))


class TestLifecycle:
    """The screens of recovery codes, password change, the sign-in notice and an
    organisation's required enrolment, at 80x24."""

    def test_recovery_codes(
        self,
        snap_compare: SnapCompare,
        world: World,
        fixed_secret: Callable[[], str],
        fixed_recovery_codes: None,
    ) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "mia")
            await pilot.press("e")
            await wait_for_screen(pilot, "EnableMfaScreen")
            await type_text(pilot, totp.code_at_step(fixed_secret(), world_step(world)))
            await pilot.press("enter")
            await wait_for_screen(pilot, "RecoveryCodesScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_recovery_code_field(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await sign_in(pilot, "leo", World.PASSWORDS["leo"])
            await wait_for_screen(pilot, "MfaCodeScreen")
            await pilot.press("ctrl+r")
            await pilot.pause()

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_change_password(self, snap_compare: SnapCompare, world: World) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "mia")
            await pilot.press("p")
            await wait_for_screen(pilot, "ChangePasswordScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_sign_in_notice(self, snap_compare: SnapCompare, world: World) -> None:
        world.fail_sign_in("mia", 3, source="ssh:198.51.100.9")

        async def ready(pilot: Pilot[None]) -> None:
            await sign_in(pilot, "mia", World.PASSWORDS["mia"])
            await wait_for_screen(pilot, "SecurityNoticeModal")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_required_enrolment(
        self, snap_compare: SnapCompare, world: World, fixed_secret: Callable[[], str]
    ) -> None:
        world.portal.governance.set_mfa_policy(ACME, True, operator=OPERATOR)

        async def ready(pilot: Pilot[None]) -> None:
            await sign_in(pilot, "mia", World.PASSWORDS["mia"])
            await wait_for_screen(pilot, "EnableMfaScreen")
            app = portal(pilot)
            await wait_until(pilot, lambda: app.screen.query("#secret-key"), "the QR code")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)


def world_step(world: World) -> int:
    return totp.time_step(world.clock().timestamp())


class TestScreensInSequence:
    """Each screen looks the same after every other screen has been shown once: one
    screen's stylesheet never reaches another."""

    def test_sign_in_after_the_mfa_code_screen(
        self, snap_compare: SnapCompare, world: World
    ) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "leo")
            await sign_out(pilot)

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)

    def test_enable_mfa_after_the_mfa_code_screen(
        self, snap_compare: SnapCompare, world: World, fixed_secret: Callable[[], str]
    ) -> None:
        async def ready(pilot: Pilot[None]) -> None:
            await signed_in_as(pilot, world, "leo")
            await sign_out(pilot)
            await signed_in_as(pilot, world, "mia")
            await pilot.press("e")
            await wait_for_screen(pilot, "EnableMfaScreen")

        assert snap_compare(world.app(), terminal_size=(80, 24), run_before=ready)
