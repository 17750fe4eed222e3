"""Switches whose state can be read off the screen, and one that asks before it changes.

Textual's checkbox tells on from off by colour alone; :class:`Toggle` draws ``▐X▌`` when on
and ``▐ ▌`` when off, so a person (or a program) reading the screen's text knows.

Selecting a :class:`PolicySwitch` (Enter, Space, a click) does not flip it: it posts
:class:`PolicySwitch.Wanted` with the value asked for, and its screen decides (the Users
screen confirms the password and asks the service). The switch shows the new value only
once :meth:`PolicySwitch.show` is given it, so it never claims a setting that was not made.
"""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox


class Toggle(Checkbox):
    """A checkbox that shows an X when on and nothing when off."""

    def render(self) -> Content:
        """The box, with an X in it when on, and the label."""
        self.BUTTON_INNER = "X" if self.value else " "
        return super().render()


class PolicySwitch(Toggle):
    """A switch whose value changes only through :meth:`show`."""

    class Wanted(Message):
        """The switch was selected: the setting should become ``value``."""

        def __init__(self, switch: PolicySwitch, value: bool) -> None:
            super().__init__()
            self.switch = switch
            self.value = value

        @property
        def control(self) -> PolicySwitch:
            """The switch that was selected."""
            return self.switch

    def toggle(self) -> PolicySwitch:
        """Ask for the other value; the switch itself stays as it is."""
        self.post_message(self.Wanted(self, not self.value))
        return self

    def show(self, value: bool) -> None:
        """Show the setting as it now is."""
        with self.prevent(Checkbox.Changed):
            self.value = value
