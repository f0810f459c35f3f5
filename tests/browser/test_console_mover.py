"""A mover's proposal in the console's confirmation queue (issue 11): an Admin raises an active
member's role through the API; a second Admin sees it in the queue as a role change and confirms it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in
from tests.e2e.people import members, onboard
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_a_second_admin_confirms_a_movers_raise_from_the_queue(browser: Any, stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=2)
    b = world.business_id
    onboard(world, api, "second@example.com", {"acct-1": "Admin", "acct-2": "Admin"})
    member_id = onboard(world, api, "mover@example.com", {"acct-1": "Editor"})
    r = api.put(f"/businesses/{b}/members/{member_id}/grants", token=world.admin.token,
                json={"grants": [{"account_id": "acct-1", "role": "Admin"}]})
    assert r.status_code == 202, r.text
    move = r.json()
    stack.wait_for_state(move["execution_arn"], "AwaitConfirmation")

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        console_sign_in(page, stack, b, "team", "second@example.com")
        expect(page.get_by_role("heading", level=1)).to_have_text("Team members")
        page.evaluate("h => { window.location.hash = h; }", f"#/{b}/confirmations")
        expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for confirmation")
        item = page.locator(f'article[data-invitation="{move["invitation_id"]}"]')
        expect(item).to_contain_text("Role change for an active member")
        item.get_by_role("button", name=re.compile("^Confirm")).click()
        expect(item.locator(".note")).to_contain_text("Confirmed:")
    finally:
        context.close()
    assert stack.wait_execution(move["execution_arn"])["status"] == "SUCCEEDED"
    held = {g["account_id"]: g["role"] for m in members(world, api) if m["member_id"] == member_id
            for g in m["grants"]}
    assert held == {"acct-1": "Admin"}

