"""The access review as an auditor opens it in a spreadsheet: no cell is a live formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.e2e.people import wait_sent
from tests.world import make_world

FORMULA = '=HYPERLINK("http://x","y")'


def test_a_formula_in_a_display_name_is_exported_as_text(stack: Any, api: Any) -> None:
    world = make_world(stack)
    b = world.business_id
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token,
                 json={"email": "formula@example.com", "display_name": FORMULA,
                       "grants": [{"account_id": world.accounts[0], "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    wait_sent(world, api, r.json()["invitation_id"])

    r = api.get(f"/businesses/{b}/access-review", token=world.admin.token, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["formula@example.com"]["display_name"] == "'" + FORMULA
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows.values() for cell in row.values())

    # the stored name and the JSON review are the person's own, unchanged
    r = api.get(f"/businesses/{b}/access-review", token=world.admin.token)
    assert r.status_code == 200, r.text
    assert {row["display_name"] for row in r.json()["rows"] if row["email"] == "formula@example.com"} == {FORMULA}
