"""The one page-cursor codec (store/cursors.py) the audit trail and review listings share."""

from __future__ import annotations

import pytest

from accessflow.store import cursors


def test_a_key_survives_the_round_trip_and_the_cursor_is_url_safe() -> None:
    key = {"pk": {"S": "BIZ#b-1"}, "sk": {"S": "ITEM#m?1/ä~"}}
    cursor = cursors.encode(key)
    assert cursor is not None and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert cursors.decode(cursor) == key


def test_the_last_page_has_no_cursor() -> None:
    assert cursors.encode(None) is None
    assert cursors.encode({}) is None


@pytest.mark.parametrize("garbage", ["!!!", "not-a-cursor", "w6k", "ä"])
def test_text_that_is_no_cursor_is_a_value_error(garbage: str) -> None:
    with pytest.raises(ValueError):
        cursors.decode(garbage)
