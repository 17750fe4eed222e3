"""Running a service call off the event loop: one function, and one place for its errors.

Argon2 and database work take tens to hundreds of milliseconds, so every service call from
a screen runs in a thread worker. The result comes back on the event loop to ``done``; a
failure goes to the app's :meth:`~tui_portal.app.PortalApp.service_failed`, the one place
that turns an error into words (an ended session signs out; anything unexpected is
reported without its details) before the screen's ``failed`` sees it.

It is a function rather than a mixin, so a screen's bases (and with them Screen's own
styles) are never in question::

    call_service(self, lambda portal: portal.members.account(caller), self._reloaded)
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar, cast

from textual.dom import DOMNode
from textual.worker import Worker

from tui_portal.errors import PortalError

if TYPE_CHECKING:
    from tui_portal.app import PortalApp
    from tui_portal.services.portal import Portal

T = TypeVar("T")
Done = Callable[[T], object]
Failed = Callable[[PortalError], object]


BACKGROUND_NICENESS = 5
"""How much lower than the event loop a service call's thread runs (Linux threads)."""


def yield_to_the_event_loop() -> None:
    """Lower this thread's CPU priority below the event loop's.

    Argon2id runs four lanes; on a machine with fewer cores than that, the threads of a
    sign-in would otherwise take the event loop's turns, and keys and frames would wait
    for them. On Linux each thread has its own priority, and the lanes argon2 starts
    inherit it. Thread workers run on a pool whose threads are reused, so a thread lowered
    once stays lowered: every worker's thread should be. Elsewhere this does nothing.
    """
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


def portal_app(node: DOMNode) -> PortalApp:
    """The running portal app, from any of its screens or widgets."""
    return cast("PortalApp", node.app)


def call_service(
    node: DOMNode,
    call: Callable[[Portal], T],
    done: Done[T],
    failed: Failed | None = None,
    *,
    group: str = "service-calls",
) -> Worker[None]:
    """Run ``call(portal)`` in a thread worker of ``node``; then, on the event loop,
    ``done(result)``, or ``failed(error)`` with an error fit to show a person. Neither runs
    once ``node`` has left the screen."""
    app = portal_app(node)

    def deliver(callback: Callable[[], object]) -> None:
        if node.is_attached:
            callback()

    def work() -> None:
        yield_to_the_event_loop()
        try:
            result = call(app.wait_for_portal())
        except Exception as error:
            outcome: Callable[[], object] = partial(app.service_failed, error, failed)
        else:
            outcome = partial(done, result)
        with contextlib.suppress(RuntimeError):  # the app stopped meanwhile
            app.call_from_thread(deliver, outcome)

    return node.run_worker(work, thread=True, exit_on_error=False, group=group)
