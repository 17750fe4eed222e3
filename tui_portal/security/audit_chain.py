"""The audit trail's hash chain: each event's hash covers its fields and the event before it.

The hash is an HMAC-SHA256 under a key derived from the secrets key, so someone who can
write to the database but does not hold the key cannot add an event that verifies, change
one, remove one from the middle, or reorder them. Each event also carries ``seq``, one more
than the event before it. Removing the newest events leaves a chain that still verifies;
only a copy of the last hash kept elsewhere shows that (``audit verify`` prints it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

CHAINED_FIELDS = (
    "seq",
    "at",
    "event",
    "actor",
    "target",
    "target_user_id",
    "org",
    "source",
    "session_id",
    "detail",
)
"""The fields an event's hash covers, in this order."""


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def link_hash(key: bytes, prev_hash: str, fields: Mapping[str, object]) -> str:
    """The hash of one event, chained to ``prev_hash``, over :data:`CHAINED_FIELDS`."""
    payload = json.dumps(
        [prev_hash, *(_canonical(fields[name]) for name in CHAINED_FIELDS)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def links(key: bytes, prev_hash: str, fields: Mapping[str, object], stored: str) -> bool:
    """Whether ``stored`` is the hash this event must have after ``prev_hash``."""
    return hmac.compare_digest(link_hash(key, prev_hash, fields), stored)
