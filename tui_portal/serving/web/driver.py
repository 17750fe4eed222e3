"""The driver a tab's portal process runs on: Textual's web driver, which also ends the app
when the server is gone.

Textual's own web driver stops reading when its input ends but leaves the app running; a
portal process whose server was killed would then live on with no one to serve. This one
ends the app once its input has ended without the app having asked to stop.
"""

from __future__ import annotations

import contextlib
import signal

from textual.drivers.web_driver import WebDriver

SERVER_GONE_EXIT = 128 + signal.SIGHUP  # as a terminal session whose line was hung up


class PortalWebDriver(WebDriver):
    """:class:`WebDriver` that ends the app when the server stops talking to it."""

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if self.exit_event.is_set():  # the app is stopping: it closed the input itself
            return
        app = self._app
        with contextlib.suppress(RuntimeError):  # the app's loop has already gone
            app.call_from_thread(app.exit, return_code=SERVER_GONE_EXIT)
