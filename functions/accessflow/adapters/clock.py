"""The application's clock.

Everything that needs "now" asks :func:`utcnow`. The embedded local stack owns a clock that tests
advance (to make invitations due without sleeping for days); it shifts this one with
:func:`set_offset`. In Lambda the offset is always zero.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    global _offset
    _offset = offset


def get_offset() -> timedelta:
    return _offset
