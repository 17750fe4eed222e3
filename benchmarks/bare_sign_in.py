"""A diagnostic for the start-up benchmark: the portal's own start path (command line,
settings, app, sign-in screen class, opening the database after the first frame) with the
sign-in form cut down to the minimal app's Label and Input.

The difference between this and the real portal is what the sign-in form's widgets cost;
the difference between this and the minimal app is what everything else costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import ComposeResult
from textual.widgets import Input, Label

from tui_portal.screens.sign_in import SignInScreen


def bare_form(self: SignInScreen) -> ComposeResult:
    """The minimal app's widgets in place of the sign-in form."""
    yield Label("Username")
    yield Input(placeholder="username")


def nothing_more(self: SignInScreen) -> None:
    """The real form adds its button and footer after the first frame; this one does not."""


SignInScreen.compose = bare_form  # type: ignore[method-assign]
SignInScreen.on_mount = nothing_more  # type: ignore[method-assign]

if __name__ == "__main__":
    from tui_portal.cli import main

    main()
