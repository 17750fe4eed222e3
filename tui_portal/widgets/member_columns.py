"""The Users table's columns: their words, their cells, and one rule for their widths.

Everything here is pure: the same width and the same contents always give the same
columns, whenever and however often they are asked for. The rule, in order of priority:

1. Username, Role and MFA are always whole. Role and MFA have fixed widths (the longest
   role, "Disabled"); Username is as wide as the longest username known for the query.
   When even these do not fit, the table is wider than the view and scrolls sideways.
2. A one-cell margin on the left, when there is room for it.
3. "Last sign-in" (a fixed 16 cells, ``YYYY-MM-DD HH:MM``) when it fits beside Name and
   Email at a readable width (:data:`MIN_SHARED` cells each, or their whole text if shorter).
4. Name and Email share what is left: each as wide as its longest text if both fit,
   otherwise the space is split fairly (a column that needs less than half gives the rest
   to the other) and longer texts end in "…". A column with no room for
   :data:`MIN_SHARED` cells is left out rather than cut to a stub.

Columns are one cell apart and keep the order of the contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size

from tui_portal.services.results import ROLES, MemberRow

TITLES: tuple[str, ...] = ("Username", "Name", "Email", "Role", "MFA", "Last sign-in")
"""The header of the table, in the order of the contract."""

USERNAME, NAME, EMAIL, ROLE, MFA, LAST_SIGN_IN = range(len(TITLES))

MFA_ENABLED = "Enabled"
MFA_DISABLED = "Disabled"
NEVER_SIGNED_IN = "Never"
SIGN_IN_FORMAT = "%Y-%m-%d %H:%M"

GAP = 1
"""Blank cells between two columns."""
MARGIN = 1
"""Blank cells left of the first column, when they fit."""
MIN_SHARED = 6
"""Name or Email narrower than this would say too little: the column is left out."""
ROLE_WIDTH = max(cell_len(text) for text in (*ROLES, TITLES[ROLE]))
MFA_WIDTH = max(cell_len(text) for text in (MFA_ENABLED, MFA_DISABLED, TITLES[MFA]))
LAST_SIGN_IN_WIDTH = max(len("YYYY-MM-DD HH:MM"), cell_len(TITLES[LAST_SIGN_IN]))
ELLIPSIS = "…"

# Control characters (C0, DEL, C1) and bidirectional controls would reach the terminal as
# commands, not text. Validation refuses them at input; should one ever be stored anyway,
# it is shown as U+FFFD.
_UNSAFE = {
    code: "\ufffd"
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def literal(text: str) -> str:
    """``text`` made safe to draw as it is: never markup, never a terminal command."""
    return text.translate(_UNSAFE) if not text.isprintable() else text


def mfa_text(enabled: bool) -> str:
    """The MFA cell: "Enabled" or "Disabled"."""
    return MFA_ENABLED if enabled else MFA_DISABLED


def sign_in_text(at: datetime | None) -> str:
    """The Last sign-in cell: ``YYYY-MM-DD HH:MM``, or "Never"."""
    return at.strftime(SIGN_IN_FORMAT) if at is not None else NEVER_SIGNED_IN


def row_cells(row: MemberRow) -> tuple[str, ...]:
    """A member as the six texts of the table's cells, safe to draw literally."""
    return (
        literal(row.username),
        literal(row.name),
        literal(row.email),
        row.role,
        mfa_text(row.mfa_enabled),
        sign_in_text(row.last_sign_in_at),
    )


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded with spaces, or cut to end in "…"."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    cut = set_cell_size(text, width - 1).rstrip()
    return cut + ELLIPSIS + " " * (width - 1 - cell_len(cut))


@dataclass(frozen=True)
class ColumnNeeds:
    """How many cells the variable columns need to show their longest text whole."""

    username: int = cell_len(TITLES[USERNAME])
    name: int = cell_len(TITLES[NAME])
    email: int = cell_len(TITLES[EMAIL])

    def widened(self, other: ColumnNeeds) -> ColumnNeeds:
        """The needs of both: the wider of each column."""
        return ColumnNeeds(
            max(self.username, other.username),
            max(self.name, other.name),
            max(self.email, other.email),
        )

    @classmethod
    def of(cls, rows: Iterable[tuple[str, ...]]) -> ColumnNeeds:
        """The needs of rows of cells (as :func:`row_cells` makes them), headers included."""
        needs = cls()
        username, name, email = needs.username, needs.name, needs.email
        for cells in rows:
            username = max(username, cell_len(cells[USERNAME]))
            name = max(name, cell_len(cells[NAME]))
            email = max(email, cell_len(cells[EMAIL]))
        return cls(username, name, email)


@dataclass(frozen=True)
class ColumnPlan:
    """Where each column sits: its width (0 when left out), in the order of :data:`TITLES`."""

    margin: int
    widths: tuple[int, ...]

    @property
    def shown(self) -> tuple[int, ...]:
        """The indexes of the columns drawn, left to right."""
        return tuple(i for i, width in enumerate(self.widths) if width > 0)

    @property
    def total_width(self) -> int:
        """Cells from the left edge to the end of the last column."""
        shown = self.shown
        return self.margin + sum(self.widths) + GAP * max(0, len(shown) - 1)

    def spans(self) -> tuple[tuple[int, int, int], ...]:
        """``(column, x, width)`` of each column drawn, left to right."""
        spans, x = [], self.margin
        for column in self.shown:
            spans.append((column, x, self.widths[column]))
            x += self.widths[column] + GAP
        return tuple(spans)


def key_width(needs: ColumnNeeds) -> int:
    """Cells that Username, Role and MFA take side by side: the least the table needs."""
    return needs.username + GAP + ROLE_WIDTH + GAP + MFA_WIDTH


def plan_columns(width: int, needs: ColumnNeeds) -> ColumnPlan:
    """The columns for a view ``width`` cells wide (the rule in this module's docstring)."""
    spare = max(0, width - key_width(needs))
    margin = min(MARGIN, spare)
    spare -= margin
    name_min, email_min = min(needs.name, MIN_SHARED), min(needs.email, MIN_SHARED)
    with_last = LAST_SIGN_IN_WIDTH + GAP + name_min + GAP + email_min + GAP
    last = LAST_SIGN_IN_WIDTH if spare >= with_last else 0
    if last:
        spare -= last + GAP
    name, email = share(spare, needs.name, needs.email)
    widths = [0] * len(TITLES)
    widths[USERNAME], widths[NAME], widths[EMAIL] = needs.username, name, email
    widths[ROLE], widths[MFA], widths[LAST_SIGN_IN] = ROLE_WIDTH, MFA_WIDTH, last
    return ColumnPlan(margin, tuple(widths))


def share(spare: int, name_need: int, email_need: int) -> tuple[int, int]:
    """Widths of Name and Email in ``spare`` cells, counting the gap before each."""
    if spare >= name_need + email_need + 2 * GAP:
        return name_need, email_need
    both = spare - 2 * GAP
    if both >= min(name_need, MIN_SHARED) + min(email_need, MIN_SHARED):
        half = both // 2
        if name_need <= half:
            return name_need, both - name_need
        if email_need <= both - half:
            return both - email_need, email_need
        return half, both - half
    alone = spare - GAP
    if alone >= min(name_need, MIN_SHARED):
        return min(name_need, alone), 0
    return 0, 0


def keeps_scrollbar(outer_width: int, scrollbar_width: int, needs: ColumnNeeds) -> bool:
    """Whether the vertical scrollbar may take its cells: False only when, without them,
    Username, Role and MFA would fit whole and, with them, would not."""
    key = key_width(needs)
    return not (key > outer_width - scrollbar_width and key <= outer_width)
