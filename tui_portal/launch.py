"""Launch the terminal UI (filled in by the UI work)."""

from __future__ import annotations

from tui_portal.config import Settings


def run_tui(settings: Settings, *, demo: bool = False) -> None:
    """Run the portal's terminal UI."""
    raise NotImplementedError
