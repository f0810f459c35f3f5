"""The console's "Held offboardings" page and the reinstate panel (issue 11) in a real browser against
the local stack: a burst of HR leaver events beyond the business's limit leaves offboardings HELD; the
Admin cancels one with a reason (the person keeps their role), releases one alone, releases the rest;
a removed member's receipt says until when they can be reinstated and the button sends the invitation.
What the page claims is checked through the HTTP API; axe-core checks both; the screenshot goes to
``docs/screenshots/console-held.png``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in, make_business, screenshot
from tests.browser.test_console import serious_violations
from tests.world import World, eventually

expect.set_options(timeout=15_000)
NAMES = ["Dana Daly", "Eli Ortiz", "Fay Nakamura", "Gus Petrov", "Hana Kim"]


def seed(world: World, names: list[str]) -> dict[str, str]:
    """ACTIVE members (Editor on the first account) written through the store: name → member id."""
    from accessflow.adapters.clock import utcnow
    from accessflow.domain.model import Grant, MemberStatus
    from accessflow.domain.roles import Role
    from accessflow.store import repository as store
    from accessflow.store.models import GrantItem, LookupItem, MemberItem

    b, now, ids = world.business_id, utcnow(), {}
    for name in names:
        member_id, email = uuid.uuid4().hex, f"{name.split()[0].lower()}-{b}@acme.example"
        MemberItem(pk=store.biz_pk(b), sk=f"MEMBER#{member_id}", business_id=b, member_id=member_id, email=email,
                   display_name=name, status=MemberStatus.ACTIVE.value, created_at=now, updated_at=now).save()
        LookupItem(pk=store.biz_pk(b), sk=store.email_sk(email), member_id=member_id).save()
        GrantItem.save(store._grant_item(b, member_id, Grant(account_id=world.accounts[0], role=Role.EDITOR), now,
                                         invited_by="seed", confirmed_by="seed", invitation_id=None))
        ids[name] = member_id
    return ids


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_business(stack, name="Acme Leavers")


@pytest.fixture(scope="module")
def people(world: World, api: Any) -> dict[str, str]:
    """Five members; the policy lets 2 leavers through per window; 5 HR leaver events → 3 held."""
    r = api.patch(f"/businesses/{world.business_id}/policy", token=world.admin.token,
                  json={"leaver_guard_count": 2, "leaver_guard_percent": 0})
    assert r.status_code == 200, r.text
    ids = seed(world, NAMES)
    for name in NAMES:
        world.stack.put_event("member.offboarding.requested", {
            "business_id": world.business_id, "member_id": ids[name], "reason": "Store closure",
            "requested_by": "workday", "idempotency_key": uuid.uuid4().hex}, source="hr.workday")
        world.stack.wait_idle()
    return ids


@pytest.fixture(scope="module")
def console(browser: Any, stack: Any, world: World, people: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    console_sign_in(page, stack, world.business_id, "held", world.admin.email)
    yield page
    context.close()


def open_held(page: Any, world: World) -> None:
    page.evaluate("h => { window.location.hash = h; }", f"#/{world.business_id}/held")
    expect(page.get_by_role("heading", level=1)).to_have_text("Held offboardings")
    expect(page.locator(".loading")).to_have_count(0)


def status(world: World, api: Any, member_id: str) -> tuple[str, str | None, list[str]]:
    """(member status, offboarding status, roles) as the API says."""
    b = world.business_id
    m = next(m for m in api.get(f"/businesses/{b}/members", token=world.admin.token).json()["members"]
             if m["member_id"] == member_id)
    r = api.get(f"/businesses/{b}/members/{member_id}/offboarding", token=world.admin.token)
    return m["status"], r.json()["status"] if r.status_code == 200 else None, [g["role"] for g in m["grants"]]


def test_held_offboardings_are_released_or_cancelled(console: Any, world: World, api: Any,
                                                     people: dict[str, str]) -> None:
    page = console
    open_held(page, world)
    held = [n for n in NAMES if status(world, api, people[n])[1] == "HELD"]
    assert held == NAMES[2:]
    rows = page.locator("table.held tbody tr")
    expect(rows).to_have_count(3)
    for name in held:
        row = page.locator("table.held tbody tr", has_text=name)
        expect(row).to_contain_text("HR system (workday)")
        expect(row).to_contain_text("Store closure")
    assert serious_violations(page) == []
    screenshot(page, "console-held")

    # cancel one: a reason is required, then the person keeps their role
    first = held[0]
    row = page.locator("table.held tbody tr", has_text=first)
    row.get_by_role("button", name=f"Cancel the offboarding of {first}").click()
    reason = row.get_by_label(f"Why cancel the offboarding of {first}?")
    expect(reason).to_be_focused()
    row.get_by_role("button", name="Cancel offboarding").click()
    expect(row.locator(".field-error")).to_have_text("Say why it is cancelled (kept on the audit trail).")
    reason.fill("Transferred to the new store, not leaving")
    row.get_by_role("button", name="Cancel offboarding").click()
    expect(page.locator("#held-message")).to_contain_text(f"The offboarding of {first} was cancelled")
    expect(rows).to_have_count(2)
    assert status(world, api, people[first]) == ("ACTIVE", "CANCELLED", ["Editor"])

    # release one alone
    second = held[1]
    page.get_by_role("button", name=f"Release the offboarding of {second}").click()
    expect(page.locator("#held-message")).to_contain_text(f"The offboarding of {second} was released")
    expect(rows).to_have_count(1)
    eventually(lambda: status(world, api, people[second])[:2] == ("REMOVED", "COMPLETED"), timeout=60,
               what="the released offboarding completes")

    # release all (the last one)
    page.get_by_role("button", name="Release all 1").click()
    expect(page.locator("#held-message")).to_contain_text("Released 1 offboarding(s)")
    expect(page.get_by_text("No offboardings are held.")).to_be_visible()
    eventually(lambda: status(world, api, people[held[2]])[:2] == ("REMOVED", "COMPLETED"), timeout=60,
               what="the last released offboarding completes")


def test_a_removed_member_can_be_reinstated_from_the_receipt(console: Any, world: World, api: Any,
                                                             people: dict[str, str]) -> None:
    page = console
    gone = NAMES[0]  # admitted by the guard: offboarded at once
    eventually(lambda: status(world, api, people[gone])[:2] == ("REMOVED", "COMPLETED"), timeout=60,
               what="the offboarding completes")
    off = api.get(f"/businesses/{world.business_id}/members/{people[gone]}/offboarding",
                  token=world.admin.token).json()
    page.evaluate("h => { window.location.hash = h; }", f"#/{world.business_id}/member/{people[gone]}")
    expect(page.get_by_role("heading", level=1)).to_have_text(gone)
    panel = page.locator(".reinstate")
    expect(panel).to_contain_text("Possible until")
    until = panel.locator("time").get_attribute("datetime")
    assert until == off["reinstatable_until"]
    assert serious_violations(page) == []
    screenshot(page, "console-reinstate")
    panel.get_by_role("button", name="Reinstate with the same roles").click()
    expect(panel.locator(".note")).to_contain_text("Invitation sent to")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        invitations = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token).json()
        mine = [i for i in invitations["invitations"] if i["member_id"] == people[gone]]
        if mine:
            break
        time.sleep(0.1)
    assert [(g["account_id"], g["role"]) for g in mine[0]["grants"]] == [(world.accounts[0], "Editor")]
