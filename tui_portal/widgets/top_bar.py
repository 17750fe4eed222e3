"""The top bar of every signed-in screen: title, organisation picker, and the user's name.

The name sits in the top-right corner; selecting it posts :class:`TopBar.MenuRequested`
(the screen opens the user menu). The organisation drop-down shows when there is more
than one organisation to choose from; choosing one posts :class:`TopBar.OrganisationPicked`.
The bar only shows what it is given (:meth:`TopBar.show`) and decides nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Label, Select

from tui_portal.services.results import Organisation, OrgId


class TopBar(Horizontal):
    """Title on the left; organisation drop-down and the user's name on the right."""

    DEFAULT_CSS = """
    TopBar {
        height: 1;
        dock: top;
        background: $panel;
    }
    TopBar #title {
        width: 1fr;
        padding: 0 1;
        text-style: bold;
        color: $text;
    }
    TopBar #org-picker {
        width: 30;
        height: 1;
    }
    TopBar #org-picker SelectCurrent {
        border: none;
        height: 1;
        padding: 0 1;
    }
    TopBar #org-picker SelectOverlay {
        width: 30;
    }
    TopBar #user-menu-button {
        height: 1;
        min-width: 8;
        max-width: 40;
        border: none;
        padding: 0 1;
        margin-left: 1;
    }
    """

    class MenuRequested(Message):
        """The user's name was selected: open the user menu."""

    class OrganisationPicked(Message):
        """An organisation was chosen in the drop-down."""

        def __init__(self, org_id: OrgId) -> None:
            super().__init__()
            self.org_id = org_id

    def __init__(
        self, title: str, name: str, organisations: Sequence[Organisation], org_id: OrgId | None
    ) -> None:
        super().__init__()
        self._bar_title = title
        self._person = name
        self._offered = _offered(organisations)
        self._org_id = org_id

    def compose(self) -> ComposeResult:
        yield Label(Content(self._bar_title), id="title")
        if self._offered:
            yield self._picker()
        yield Button(
            _menu_label(self._person), id="user-menu-button", compact=True, tooltip="Account menu"
        )

    def _picker(self) -> Select[OrgId]:
        picker: Select[OrgId] = Select(
            [(Content(org_name), org_id) for org_id, org_name in self._offered],
            value=self._org_id if self._org_id is not None else Select.NULL,
            allow_blank=False,
            id="org-picker",
            compact=True,
            tooltip="Organisation",
        )
        picker.display = len(self._offered) > 1
        return picker

    def show(self, name: str, organisations: Sequence[Organisation], org_id: OrgId | None) -> None:
        """Show ``name`` in the corner and, for more than one organisation, the picker
        with ``org_id`` chosen. Every text is shown literally."""
        if name != self._person:
            self._person = name
            self.query_one("#user-menu-button", Button).label = _menu_label(name)
        offered = _offered(organisations)
        if offered == self._offered and org_id == self._org_id:
            return
        changed_options = offered != self._offered
        self._offered, self._org_id = offered, org_id
        pickers = self.query("#org-picker").results(Select)
        picker: Select[OrgId] | None = next(iter(pickers), None)
        if picker is None:
            if offered:
                self.mount(self._picker(), before="#user-menu-button")
            return
        if not offered:
            picker.display = False
            return
        with picker.prevent(Select.Changed):
            if changed_options:
                picker.set_options([(Content(org_name), oid) for oid, org_name in offered])
            if org_id is not None:
                picker.value = org_id
        picker.display = len(offered) > 1

    @on(Select.Changed, "#org-picker")
    def _org_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self.post_message(self.OrganisationPicked(OrgId(event.value)))

    @on(Button.Pressed, "#user-menu-button")
    def _open_menu(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.MenuRequested())


def _offered(organisations: Sequence[Organisation]) -> tuple[tuple[OrgId, str], ...]:
    return tuple((o.id, o.name) for o in organisations)


def _menu_label(name: str) -> Content:
    return Content(f"{name} ▾")
