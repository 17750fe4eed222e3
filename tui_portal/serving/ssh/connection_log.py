"""The connection log: one JSON object per line on standard error, one per connection event.

Events are ``connect`` (address, terminal type and size), ``refused`` (the reason's short
name), ``disconnect`` (duration and exit status), and the server's own ``stopping`` and
``template_lost``. Nothing a person types, no SSH user name and no command text is ever
logged: those can hold a password typed in the wrong place.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

LogValue = str | int | float | bool | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ConnectionLog:
    """Writes connection events as JSON lines, flushed one by one."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], str] = _now) -> None:
        self._stream = stream
        self._clock = clock

    def event(self, event: str, **fields: LogValue) -> None:
        """Write one event with its fields."""
        record: dict[str, LogValue] = {"at": self._clock(), "event": event, **fields}
        stream = self._stream or sys.stderr
        stream.write(json.dumps(record, ensure_ascii=True) + "\n")
        stream.flush()
