"""The session caps both servers share: in all, and from one address."""

from __future__ import annotations

import pytest

from tui_portal.serving.limits import SessionLimits


def test_admits_up_to_the_limit_per_source_and_no_further() -> None:
    limits = SessionLimits(max_sessions=10, max_per_source=2)
    assert limits.admit("203.0.113.7")
    assert limits.admit("203.0.113.7")
    assert not limits.admit("203.0.113.7")
    assert limits.admit("198.51.100.1")  # another address has its own allowance
    assert limits.open_sessions == 3


def test_admits_up_to_the_limit_in_all_and_no_further() -> None:
    limits = SessionLimits(max_sessions=2, max_per_source=5)
    assert limits.admit("a")
    assert limits.admit("b")
    assert not limits.admit("c")


def test_a_released_place_can_be_taken_again() -> None:
    limits = SessionLimits(max_sessions=1, max_per_source=1)
    assert limits.admit("a")
    limits.release("a")
    assert limits.open_sessions == 0
    assert limits.admit("a")


@pytest.mark.parametrize(("total", "per_source"), [(0, 1), (1, 0), (-5, 10)])
def test_limits_below_one_are_refused(total: int, per_source: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SessionLimits(max_sessions=total, max_per_source=per_source)
