"""How many sessions a server holds at once, in all and from one address.

Both ways of serving the portal (SSH and the browser) admit a connection only while it is
under ``max_sessions`` in all and ``max_per_source`` from its address; a refused
connection is told "Too many sessions; try again later". The server runs one event loop,
so admission is decided there without locks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

TOO_MANY_SESSIONS = "Too many sessions; try again later"
DEFAULT_MAX_SESSIONS = 200
DEFAULT_MAX_PER_SOURCE = 10


@dataclass
class SessionLimits:
    """Counts the open sessions, and admits a new one only within both limits."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    max_per_source: int = DEFAULT_MAX_PER_SOURCE
    _by_source: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.max_sessions < 1 or self.max_per_source < 1:
            raise ValueError("session limits must be at least 1")

    @property
    def open_sessions(self) -> int:
        """Sessions admitted and not yet released."""
        return sum(self._by_source.values())

    def admit(self, address: str) -> bool:
        """Take a place for a session from ``address``; False when either limit is reached."""
        if self.open_sessions >= self.max_sessions:
            return False
        if self._by_source[address] >= self.max_per_source:
            return False
        self._by_source[address] += 1
        return True

    def release(self, address: str) -> None:
        """Give back the place a session from ``address`` held."""
        if self._by_source[address] <= 1:
            del self._by_source[address]
        else:
            self._by_source[address] -= 1
