"""Full cycle collections wait for an idle moment, and the collector is put back after."""

from __future__ import annotations

import gc

import pytest
from textual.app import App

from tests.tui.flows import wait_until
from tui_portal.screens.idle_collection import NEVER, IdleCollector


async def test_full_collections_run_only_when_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    full: list[int] = []
    collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda generation=2: full.append(generation) or 0)
    app: App[None] = App()
    async with app.run_test() as pilot:
        collector = IdleCollector(app, idle_after=0.2, check_every=0.05)
        collector.start()
        assert gc.get_threshold()[2] == NEVER
        assert gc.get_threshold()[:2] == before[:2]
        collect(1)  # a middle collection: a full one is now due
        for _ in range(6):  # busy: keys keep coming
            collector.input_arrived()
            await pilot.pause(0.05)
        assert full == []
        await wait_until(pilot, lambda: full == [2], "a full collection once idle")
        collector.stop()
    assert gc.get_threshold() == before
