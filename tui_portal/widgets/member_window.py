"""Which window of members the Users table needs, given where its view is.

Pure arithmetic on row ranges, so the table's fetching rule is tested without a screen: a
window is loaded around the view, and a new one is asked for when the view comes within
about a screenful of a loaded edge that is not the end of the list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """The rows ``start`` (inclusive) to ``end`` (exclusive) of the filtered list."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"not a span of rows: {self.start}..{self.end}")

    def __len__(self) -> int:
        return self.end - self.start

    def covers(self, other: Span) -> bool:
        """Whether every row of ``other`` is in this span."""
        return self.start <= other.start and other.end <= self.end

    def overlap(self, other: Span) -> int:
        """How many rows the two spans share."""
        return max(0, min(self.end, other.end) - max(self.start, other.start))


def view_span(top: int, rows: int, total: int | None) -> Span:
    """The rows in a view of ``rows`` lines whose first line shows row ``top``."""
    end = top + max(0, rows)
    if total is not None:
        end = min(end, total)
    start = max(0, min(top, end))
    return Span(start, max(start, end))


def wanted_span(view: Span, total: int | None, size: int) -> Span:
    """The rows that must be held for ``view`` to be drawn without fetching again soon: the
    view and up to a screenful either side (within the list), so that a window of ``size``
    rows centred on the view holds them with room to move."""
    margin = max(0, min(len(view), (size - len(view)) // 4))
    end = view.end + margin
    if total is not None:
        end = min(end, total)
    return Span(max(0, view.start - margin), max(view.start, end))


def window_around(view: Span, total: int | None, size: int) -> Span:
    """The window of ``size`` rows to load for ``view``: centred on it, within the list."""
    offset = view.start + len(view) // 2 - size // 2
    if total is not None:
        offset = min(offset, total - size)
    offset = max(0, offset)
    end = offset + size if total is None else min(offset + size, max(total, offset))
    return Span(offset, end)
