"""An expired link in the browser (its own stack: the clock moves forward eight days)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.helpers import business_state, invitation, invite, link_from_outbox, make_business, screenshot

pytestmark = pytest.mark.slow


def test_expired_link_says_so_and_changes_nothing(stack: Any, api: Any, page: Any) -> None:
    from playwright.sync_api import expect

    world = make_business(stack)
    inv = invite(world, api, "jo@acme.example", {"acme-tiktok": "Editor"}, name="Jo")
    link = link_from_outbox(stack, "jo@acme.example")
    stack.advance(timedelta(days=8), coalesce=True)  # past the 7-day lifetime; the sweep runs
    stack.wait_execution(inv["execution_arn"])
    assert invitation(world, api, inv["invitation_id"])["status"] == "EXPIRED"
    before = business_state(world, api)
    response = page.goto(link)
    assert response.status == 410
    expect(page.locator("#refusal h1")).to_have_text("This invitation has expired")
    expect(page.locator("#refusal .next")).to_contain_text("Ask an admin of Acme Studio to send it again")
    assert page.locator("#sign-in").count() == 0
    assert page.url.endswith("/accept"), "the token stays in the address bar"
    screenshot(page, "invitee-refused-expired")
    serious = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    assert business_state(world, api) == before
