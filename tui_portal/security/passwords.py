"""Password hashing with argon2id (argon2-cffi): normalised, rehashed on sign-in, equal in time.

- Passwords are normalised to Unicode NFKC before hashing and before checking (NIST SP
  800-63B §5.1.1.2), so the same password typed on another keyboard layout or input method
  still matches. A hash made before normalisation still matches the password as typed, and
  is replaced by a normalised one at that sign-in.
- Every check takes at least as long as one at the current parameters: an unknown name is
  checked against a dummy hash, and a stored hash with cheaper parameters (an imported one)
  is followed by a pause up to the usual time, so how long an answer takes does not tell
  which names have accounts.
- Imported hashes must be argon2id within :data:`IMPORT_BOUNDS`.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

# Verified when the username is unknown, so a miss costs the same argon2 work as a hit.
_DUMMY_PASSWORD = "tui-portal: no such account"  # noqa: S105 - not a credential
_RECENT_CHECKS = 15


def normalise(password: str) -> str:
    """The form a password is hashed and checked in: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking a password: whether it matched and whether to store a new hash."""

    matched: bool
    new_hash: str | None = None


class Passwords:
    """Hashes and verifies passwords with one set of argon2id parameters.

    The default is argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4). Tests
    pass cheaper parameters through ``hasher`` to stay fast; the rules are the same.
    ``sleep`` and ``timer`` are injected so the equal-time rule can be tested without waiting.
    """

    def __init__(
        self,
        hasher: PasswordHasher | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._hasher = hasher or PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
        if self._hasher.type is not Type.ID:
            raise ValueError("passwords must be hashed with argon2id")
        self._sleep = sleep
        self._timer = timer
        self._recent: deque[float] = deque(maxlen=_RECENT_CHECKS)
        self._lock = threading.Lock()
        started = timer()
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        self._remember(timer() - started)

    @property
    def parameters(self) -> Parameters:
        """The argon2 parameters new hashes are made with."""
        return extract_parameters(self._dummy_hash)

    def hash(self, password: str) -> str:
        """A new argon2id PHC string for the normalised ``password``."""
        return self._hasher.hash(normalise(password))

    def verify(self, stored_hash: str, password: str) -> PasswordCheck:
        """Check ``password`` against ``stored_hash``; offer a new hash when the stored one
        is not normalised or not at the current parameters."""
        current = not self._hasher.check_needs_rehash(stored_hash)
        started = self._timer()
        matched, legacy = self._matches(stored_hash, password)
        elapsed = self._timer() - started
        if current:
            self._remember(elapsed)
        else:
            self._pad(elapsed)
        if not matched:
            return PasswordCheck(matched=False)
        if legacy or not current:
            return PasswordCheck(matched=True, new_hash=self.hash(password))
        return PasswordCheck(matched=True)

    def burn_equal_time(self, password: str) -> None:
        """Do the work of a verification for an unknown user, and throw the answer away."""
        self.verify(self._dummy_hash, password)

    def _matches(self, stored_hash: str, password: str) -> tuple[bool, bool]:
        """(matched, matched only as typed, before normalisation)."""
        normalised = normalise(password)
        if self._verifies(stored_hash, normalised):
            return True, False
        if normalised != password and self._verifies(stored_hash, password):
            return True, True
        return False, False

    def _verifies(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        except UnicodeEncodeError:  # text that is not valid UTF-8 matches no password
            return False

    def _remember(self, seconds: float) -> None:
        with self._lock:
            self._recent.append(seconds)

    def _usual_time(self) -> float:
        with self._lock:
            return statistics.median(self._recent)

    def _pad(self, elapsed: float) -> None:
        """Make a check at other parameters last as long as one at the current ones."""
        remaining = self._usual_time() - elapsed
        if remaining > 0:
            self._sleep(remaining)


# -- hashes from elsewhere ------------------------------------------------------------


@dataclass(frozen=True)
class ImportBounds:
    """What an imported argon2id hash may cost: at least OWASP's floor, at most what one
    sign-in attempt may take. ``min_memory_time`` is memory (KiB) times passes: OWASP's
    equivalent settings (m=47104 t=1 … m=7168 t=5) all reach about 36,000."""

    min_memory_kib: int = 7168
    min_memory_time: int = 35840
    max_memory_kib: int = 262144
    max_time_cost: int = 10
    max_parallelism: int = 16
    version: int = 19


IMPORT_BOUNDS = ImportBounds()

MIN_SALT_BYTES = 8
MIN_HASH_BYTES = 16
_BASE64_UNPADDED = re.compile(r"[A-Za-z0-9+/]+")
_CANONICAL = re.compile(
    r"\$argon2id\$v=([0-9]+)\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$([^$]+)\$([^$]+)"
)


def _b64_length(text: str) -> int:
    """Bytes encoded by unpadded base64 ``text``, or -1 when it is not such base64."""
    if not _BASE64_UNPADDED.fullmatch(text) or len(text) % 4 == 1:
        return -1
    return len(text) * 3 // 4


def imported_hash_problem(value: str, bounds: ImportBounds = IMPORT_BOUNDS) -> str | None:
    """Why ``value`` cannot be imported as a password hash, or ``None`` when it can.

    It must be an argon2id PHC string in the form argon2 writes (version 19), with
    parameters within ``bounds`` and a salt and hash of sensible lengths. It is cheap: a
    bulk import checks every row with it.
    """
    if value.startswith(("$argon2i$", "$argon2d$")):
        return "only argon2id hashes are accepted (argon2i and argon2d are not)"
    found = _CANONICAL.fullmatch(value)
    if found is None:
        return "it is not an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)"
    version, memory, passes, lanes = (int(part) for part in found.group(1, 2, 3, 4))
    if version != bounds.version:
        return f"argon2 version {version} is not supported (only {bounds.version})"
    if memory < bounds.min_memory_kib or memory * passes < bounds.min_memory_time:
        return (
            f"its parameters (m={memory}, t={passes}) are weaker than the accepted minimum "
            f"(m ≥ {bounds.min_memory_kib} KiB and m×t ≥ {bounds.min_memory_time})"
        )
    if memory > bounds.max_memory_kib or passes > bounds.max_time_cost:
        return (
            f"its parameters (m={memory}, t={passes}) cost more than one sign-in may "
            f"(m ≤ {bounds.max_memory_kib} KiB, t ≤ {bounds.max_time_cost})"
        )
    if not 1 <= lanes <= bounds.max_parallelism:
        return f"its parallelism p={lanes} is outside 1 to {bounds.max_parallelism}"
    if _b64_length(found.group(5)) < MIN_SALT_BYTES or _b64_length(found.group(6)) < MIN_HASH_BYTES:
        return "its salt or hash is too short, or not base64"
    return None
