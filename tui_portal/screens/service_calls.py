"""Running service calls off the event loop, and the one place their errors are handled.

Argon2 and database work takes tens to hundreds of milliseconds, so every service call from
a screen runs in a thread worker. The result comes back to the screen on the event loop;
a :class:`PortalError` goes to the screen's own handler; anything else is reported once,
here, without its details reaching the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.dom import DOMNode

from tui_portal.errors import PortalError

if TYPE_CHECKING:
    from tui_portal.app import PortalApp
    from tui_portal.services.portal import Portal

T = TypeVar("T")


class ServiceCalls(DOMNode):
    """Mixin for screens: ``call_service`` runs a service call in a thread worker.

    List it after the screen class (``class X(Screen[None], ServiceCalls)``): Textual takes
    a widget's default styles from its first base only, and a screen without Screen's own
    styles has no background, so the screen beneath shows through.
    """

    @property
    def portal_app(self) -> PortalApp:
        """The running portal app."""
        from tui_portal.app import PortalApp

        assert isinstance(self.app, PortalApp)
        return self.app

    def call_service(
        self,
        call: Callable[[Portal], T],
        done: Callable[[T], Any],
        failed: Callable[[PortalError], Any] | None = None,
    ) -> None:
        """Run ``call(portal)`` in a thread; then ``done(result)`` or ``failed(error)``."""
        self._run_service_call(call, done, failed)

    @work(thread=True, exit_on_error=False, group="service-calls")
    def _run_service_call(
        self,
        call: Callable[[Portal], T],
        done: Callable[[T], Any],
        failed: Callable[[PortalError], Any] | None,
    ) -> None:
        app = self.portal_app
        try:
            result = call(app.wait_for_portal())
        except PortalError as error:
            app.call_from_thread(failed or app.show_error, error)
        except Exception as error:
            app.call_from_thread(app.report_unexpected, error, failed)
        else:
            app.call_from_thread(done, result)
