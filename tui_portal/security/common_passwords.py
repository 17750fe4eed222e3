"""The check against commonly used passwords (NIST SP 800-63B §5.1.1.2).

The list is the 30,000 most common passwords that zxcvbn ships and maintains (from real
leaks), compared without regard to case or Unicode form. Only entries that the length rule
would let through are kept: a shorter one could never be chosen anyway. The list is loaded
on first use, since only setting a password needs it.
"""

from __future__ import annotations

import functools
import unicodedata


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(
        unicodedata.normalize("NFKC", entry).casefold()
        for entry in FREQUENCY_LISTS["passwords"]
        if len(entry) >= 8
    )


def is_common(password: str) -> bool:
    """Whether ``password`` is on the list, ignoring case and Unicode form."""
    return unicodedata.normalize("NFKC", password).casefold() in _common()
