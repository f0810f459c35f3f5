"""Page cursors through the HTTP API: the audit trail and a review campaign's items share one codec
(``store/cursors.py``); each listing still refuses a cursor that is not one of its own pages (400),
so a cursor can never reach into another business or listing."""

from __future__ import annotations

from typing import Any

import pytest

from accessflow.store import cursors
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_cursors_continue_their_own_listing_and_nothing_else(stack: Any, api: Any) -> None:
    world, other = make_world(stack, accounts=2), make_world(stack, accounts=1)
    token, b = world.admin.token, world.business_id
    r = api.post(f"/businesses/{b}/reviews", token=token, json={})
    assert r.status_code == 201, r.text
    items = f"/businesses/{b}/reviews/{r.json()['campaign_id']}/items"

    page = api.get(items, token=token, params={"limit": "1"}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get(items, token=token, params={"limit": "1", "cursor": page["next_cursor"]})
    assert rest.status_code == 200 and rest.json()["items"] != page["items"]

    audit = api.get(f"/businesses/{b}/audit", token=token, params={"limit": "1"}).json()
    assert audit["next_cursor"]
    foreign_audit = cursors.encode({"pk": {"S": f"AUDIT#{other.business_id}"}, "sk": {"S": "x"}})
    for bad in ("not-a-cursor", audit["next_cursor"]):  # garbage; the audit trail's cursor
        r = api.get(items, token=token, params={"cursor": bad})
        assert r.status_code == 400, (bad, r.text)
    for bad in ("not-a-cursor", page["next_cursor"], foreign_audit):  # garbage; a review's; another business's
        r = api.get(f"/businesses/{b}/audit", token=token, params={"cursor": bad})
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
