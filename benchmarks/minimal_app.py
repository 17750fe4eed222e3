"""The start-up anchor: the smallest Textual app like the sign-in screen, a Label and an Input.

``python benchmarks/minimal_app.py`` runs it; ``benchmarks/startup.py`` launches it side by
side with the portal.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input, Label


class MinimalApp(App[None]):
    """A label and an input, nothing else."""

    def compose(self) -> ComposeResult:
        yield Label("Username")
        yield Input(placeholder="username")


if __name__ == "__main__":
    MinimalApp().run()
