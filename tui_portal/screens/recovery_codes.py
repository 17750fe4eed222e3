"""The Recovery codes screen: a new set of ten codes, shown this once.

It comes right after MFA is first enabled and after "Regenerate recovery codes". The codes
are drawn here and nowhere else: never logged, never put in the clipboard, and gone from
the screen (and from this screen's memory) once it closes. "Done" returns to the profile.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Static

from tui_portal.screens.service_calls import portal_app
from tui_portal.screens.signed_in import SignedInScreen
from tui_portal.screens.styles import beside
from tui_portal.services.results import RecoveryCodes

TITLE = "Recovery codes"
WORKS_ONCE = "Each code works once"


def code_columns(codes: tuple[str, ...]) -> Text:
    """The codes numbered, in two columns (1 to 5 beside 6 to 10)."""
    half = (len(codes) + 1) // 2
    text = Text()
    for row in range(half):
        for number in (row, row + half):
            if number < len(codes):
                text.append(f"{number + 1:>2}. ", style="dim")
                text.append(codes[number], style="bold")
                text.append("     ")
        text.rstrip()
        text.append("\n")
    text.rstrip()
    return text


class RecoveryCodesScreen(SignedInScreen):
    """Title "Recovery codes", the ten codes, "Each code works once", and Done."""

    DEFAULT_CSS = beside(__file__, "recovery_codes.tcss")
    AUTO_FOCUS = "#done"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Done", id="done"),
    ]
    HELP = """\
# Recovery codes

If you lose your phone, a recovery code signs you in instead of the 6-digit code: on
the MFA code screen press **ctrl+r** (or select **Use a recovery code**) and type one.

- Keep these codes somewhere safe that is not your phone: a password manager, or
  printed and put away. They are shown only now.
- **Each code works once.** Your profile shows how many are left.
- **Regenerate recovery codes** on your profile makes a new set; the old set stops
  working at once.
"""

    def __init__(self, codes: RecoveryCodes, *, heading: str = "") -> None:
        super().__init__()
        self._codes: RecoveryCodes | None = codes
        self._heading = heading

    @property
    def shows_codes(self) -> bool:
        """Whether the codes are still on screen (until the screen closes)."""
        return self._codes is not None

    def compose(self) -> ComposeResult:
        codes = self._codes
        assert codes is not None
        yield self.top_bar()
        with VerticalScroll(id="codes-body"), Vertical(id="codes-box") as box:
            box.border_title = TITLE
            if self._heading:
                yield Static(self._heading, id="codes-heading", markup=False)
            yield Static(
                "Keep these codes somewhere safe, away from your phone. If you lose it, "
                "type one on the MFA code screen (ctrl+r) instead of a code.",
                classes="advice",
            )
            yield Static(code_columns(codes.codes), id="codes")
            yield Static(f"{WORKS_ONCE}. They are shown only now.", id="works-once")
            with Center():
                yield Button("Done", id="done", variant="primary")
        yield Footer()

    @on(Button.Pressed, "#done")
    def action_done(self) -> None:
        """Forget the codes and return to the profile."""
        self._forget_codes()
        portal_app(self).open_profile()

    def on_unmount(self) -> None:
        self._codes = None  # however the screen went (signed out, ended elsewhere)

    def _forget_codes(self) -> None:
        self._codes = None
        self.query_one("#codes", Static).update("")
