"""Keyboard alone on the issue-11 console pages that had no keyboard pass yet: a bulk import (paste,
check, import) and the held offboardings (cancel one with a reason, release one). Every control is
reached with Tab and used with Enter or typing; what happened is checked through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in, make_business, open_console_view
from tests.browser.test_console import tab_to
from tests.browser.test_console_guard import seed
from tests.world import World

expect.set_options(timeout=15_000)
NAMES = ["Ivo Keys", "Jo Keys", "Kai Keys"]


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> World:
    w = make_business(stack, name="Acme Keys")
    r = api.patch(f"/businesses/{w.business_id}/policy", token=w.admin.token,
                  json={"leaver_guard_count": 1, "leaver_guard_percent": 0})
    assert r.status_code == 200, r.text
    return w


@pytest.fixture(scope="module")
def console(browser: Any, stack: Any, world: World) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    console_sign_in(page, stack, world.business_id, "bulk", world.admin.email)
    yield page
    context.close()


def go(page: Any, world: World, view: str, heading: str) -> None:
    open_console_view(page, world.business_id, view, heading)
    page.locator("body").focus()


def test_a_bulk_import_with_the_keyboard_alone(console: Any, world: World, api: Any) -> None:
    page = console
    go(page, world, "bulk", "Bulk import")
    account = world.accounts[0]
    tab_to(page, "CSV text")
    page.keyboard.type(f"email,name,account,role\nlee.keys@acme.example,Lee Keys,{account},Analyst\n")
    tab_to(page, "Check the file")
    page.keyboard.press("Enter")
    expect(page.locator(".bulk-check .bulk-summary")).to_have_text("1 rows: 1 valid (1 invitations), 0 duplicate, "
                                                                   "0 refused.")
    tab_to(page, "Import 1 invitation")
    page.keyboard.press("Enter")
    expect(page.locator(".bulk-status")).to_have_text("Completed: 1 rows.")
    invitations = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token).json()
    assert [i["email"] for i in invitations["invitations"]] == ["lee.keys@acme.example"]


def test_held_offboardings_with_the_keyboard_alone(console: Any, world: World, api: Any) -> None:
    ids = seed(world, NAMES)
    for name in NAMES:
        world.stack.put_event("member.offboarding.requested", {
            "business_id": world.business_id, "member_id": ids[name], "reason": "Keys", "requested_by": "workday",
            "idempotency_key": uuid.uuid4().hex}, source="hr.workday")
        world.stack.wait_idle()
    page = console
    go(page, world, "held", "Held offboardings")
    expect(page.locator("table.held tbody tr")).to_have_count(2)
    cancelled, released = NAMES[1], NAMES[2]
    tab_to(page, f"Cancel the offboarding of {cancelled}")
    page.keyboard.press("Enter")
    expect(page.get_by_label(f"Why cancel the offboarding of {cancelled}?")).to_be_focused()
    page.keyboard.type("Still employed")
    tab_to(page, "Cancel offboarding")
    page.keyboard.press("Enter")
    expect(page.locator("#held-message")).to_contain_text(f"The offboarding of {cancelled} was cancelled")
    page.locator("body").focus()
    tab_to(page, f"Release the offboarding of {released}")
    page.keyboard.press("Enter")
    expect(page.locator("#held-message")).to_contain_text(f"The offboarding of {released} was released")
    b, t = world.business_id, world.admin.token
    assert api.get(f"/businesses/{b}/members/{ids[cancelled]}/offboarding", token=t).json()["status"] == "CANCELLED"
    assert api.get(f"/businesses/{b}/members/{ids[released]}/offboarding", token=t).json()["status"] != "HELD"
