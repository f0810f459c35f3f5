"""Opaque page cursors: a query's last evaluated key as URL-safe base64 JSON (unpadded), and back.

One codec for every paginated listing (the audit trail, a review campaign's items), so that a cursor
is made and read the same way everywhere. Decoding only parses: each listing then checks that the key
is one of its own (its partition, its sort-key prefix), so a cursor handed back can never reach into
another business or campaign; a forged or mangled one is a 400 there, never a query.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def encode(key: dict[str, Any] | None) -> str | None:
    """The key as a cursor; ``None`` (the last page) stays ``None``."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode(cursor: str) -> Any:
    """What :func:`encode` wrote (unchecked: the caller validates its shape); :class:`ValueError`
    for text that is not a cursor at all (bad base64, not UTF-8, not JSON)."""
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


__all__ = ["decode", "encode"]
