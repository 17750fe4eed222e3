"""Full cycle collections in idle moments, never in the middle of a screen change.

Python's collector runs a full collection, which stops every thread, whenever enough
younger collections have passed: on this app's heap that is 50 to 100 ms, at whatever
moment it falls, often while a screen is being built. Here the young generations are
collected as usual, full collections are no longer started by allocations, and the app
runs one itself once nobody has pressed a key or moved the mouse for a moment.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

NEVER = 1 << 30
"""A threshold that the collections of the middle generation never reach."""


class IdleCollector:
    """Runs the full collections of ``app`` when it has been idle for ``idle_after`` s."""

    def __init__(self, app: App[None], *, idle_after: float = 2.0, check_every: float = 1.0):
        self._app = app
        self._idle_after = idle_after
        self._check_every = check_every
        self._last_input = time.monotonic()
        self._thresholds: tuple[int, int, int] | None = None

    def start(self) -> None:
        """Take full collections over from the allocator's counts."""
        young, middle, _full = gc.get_threshold()
        self._thresholds = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        self._app.set_interval(self._check_every, self._check)

    def stop(self) -> None:
        """Give full collections back to the allocator's counts."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def input_arrived(self) -> None:
        """A key, a click or a paste: the person is there."""
        self._last_input = time.monotonic()

    def _check(self) -> None:
        idle = time.monotonic() - self._last_input >= self._idle_after
        if idle and gc.get_count()[2] > 0:  # middle collections since the last full one
            gc.collect()
