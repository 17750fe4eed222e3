"""The profile's two lists, drawn from what the services return: the account's live
sessions ("Active sessions") and its own recent events ("Security activity").

Both are Rich tables of plain :class:`~rich.text.Text` cells, so a username, an operator's
name or a source is shown literally, never read as markup. Times are UTC, as the database
keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich import box
from rich.table import Table
from rich.text import Text

from tui_portal.services.results import ActivityEntry, SessionSummary
from tui_portal.widgets.member_columns import literal

TIME_FORMAT = "%Y-%m-%d %H:%M"
THIS_SESSION = "this session"


def when(at: datetime) -> str:
    """A moment as the lists show it (UTC, to the minute)."""
    return at.strftime(TIME_FORMAT)


def _table(*columns: tuple[str, bool, int | None]) -> Table:
    """A borderless table with a bold header; each column ``(title, wraps, ratio)``."""
    table = Table(
        box=box.SIMPLE_HEAD,
        expand=True,
        pad_edge=False,
        show_edge=False,
        header_style="bold",
        padding=(0, 1),
    )
    for title, wraps, ratio in columns:
        if wraps:
            table.add_column(title, ratio=ratio, overflow="fold")
        else:
            table.add_column(title, no_wrap=True)
    return table


def signed_in_with(method: str) -> str:
    """How a session signed in, short: "password", "MFA code", "recovery code"."""
    return method.removeprefix("password and ")


def sessions_table(sessions: Sequence[SessionSummary]) -> Table:
    """Where and when each live session started, when it was last seen and how it signed
    in; this one marked "this session"."""
    table = _table(
        ("From", True, 1),
        ("Started (UTC)", False, None),
        ("Last seen", False, None),
        ("With", False, None),
    )
    for summary in sessions:
        where = Text(literal(summary.source))
        if summary.current:
            where.append(f"\n{THIS_SESSION}", style="bold")
        table.add_row(
            where,
            Text(when(summary.started_at)),
            Text(when(summary.last_seen_at)),
            Text(literal(signed_in_with(summary.method))),
        )
    return table


def activity_table(entries: Sequence[ActivityEntry]) -> Table:
    """The account's own events, newest first: when and what, then who did it and from
    where, on a line of its own. An attempt made with the account's name (a failed
    sign-in, a wrong code) says only where it came from: whoever typed it is not known."""
    table = _table(("When (UTC)", False, None), ("What", True, 1))
    for entry in entries:
        where = f"from {literal(entry.source or 'unknown')}"
        who = where if entry.attempt else f"by {literal(entry.by)} · {where}"
        what = Text(literal(entry.what))
        what.append(f"\n{who}", "dim")
        table.add_row(Text(when(entry.at)), what)
    return table
