"""The one-line status under a form: progress, an error, or a success."""

from __future__ import annotations

from typing import Literal

from textual.widgets import Static

Tone = Literal["info", "error", "success"]


class StatusLine(Static):
    """Shows one message in the tone it is given; the text is never read as markup."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        min-height: 1;
        color: $text-muted;
    }
    StatusLine.error {
        color: $text-error;
    }
    StatusLine.success {
        color: $text-success;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def say(self, text: str, tone: Tone = "error") -> None:
        """Show ``text``; errors in the error colour, progress muted, success in green."""
        self.update(text)
        self.set_class(tone == "error", "error")
        self.set_class(tone == "success", "success")
