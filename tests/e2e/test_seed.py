"""The demo business ``make serve`` seeds: as the README describes it, through the API, twice."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_seed_demo_builds_acme_once(stack: Any, api: Any) -> None:
    from infra.seed import seed_demo

    first = seed_demo(stack)
    assert first.changes
    admin = stack.mint_token("admin@acme.example")
    people = {m["email"]: m for m in api.get("/businesses/acme/members", token=admin).json()["members"]}
    assert {e: p["status"] for e, p in people.items()} == {
        "admin@acme.example": "ACTIVE", "second.admin@acme.example": "ACTIVE", "ben@acme.example": "ACTIVE",
        "carol@acme.example": "ACTIVE", "dana@acme.example": "INVITED"}
    roles = {e: {g["account_id"]: g["role"] for g in p["grants"]} for e, p in people.items()}
    assert roles["second.admin@acme.example"] == {"tiktok-main": "Admin", "instagram": "Admin", "meta-ads": "Admin"}
    assert roles["ben@acme.example"] == {"tiktok-main": "Editor", "instagram": "Editor"}
    assert roles["carol@acme.example"] == {"meta-ads": "Analyst"}
    accounts = api.get("/businesses/acme/accounts", token=admin).json()["accounts"]
    assert {a["account_id"]: (a["display_name"], a["platform"], a["admin_count"]) for a in accounts} == {
        "tiktok-main": ("TikTok @acme", "tiktok", 2), "instagram": ("Instagram @acme.social", "instagram", 2),
        "meta-ads": ("Meta Ads \u2013 Acme", "meta-ads", 2)}
    pending = api.get("/businesses/acme/invitations", token=admin, params={"status": "PENDING"}).json()
    assert [i["email"] for i in pending["invitations"]] == ["dana@acme.example"]
    me = api.get("/me", token=stack.mint_token("second.admin@acme.example")).json()
    assert [(b["business_id"], b["name"], b["is_admin"]) for b in me["businesses"]] == [("acme", "Acme Social", True)]

    trail = api.get("/businesses/acme/audit", token=admin, params={"limit": 500}).json()["entries"]
    again = seed_demo(stack)
    assert again.changes == []
    assert api.get("/businesses/acme/audit", token=admin, params={"limit": 500}).json()["entries"] == trail
    text = "\n".join(again.lines())
    assert "admin@acme.example" in text and "Acme Social" in text and "dana@acme.example" in text
