"""Access review campaigns in the console (Playwright + Chromium against the local stack): an Admin
starts a review now, decides items in the inbox one by one (with a note), in bulk, and with the
keyboard alone, sees who is idle, reads the report and downloads its CSV, and sets the schedule. What
the page claims is checked against the HTTP API; screenshots go to ``docs/screenshots/`` with ``make screenshots``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in, open_console_view, screenshot
from tests.browser.test_console import focused_label, onboard_named, serious_violations, tab_to
from tests.world import Person, World, bind_store, eventually

expect.set_options(timeout=15_000)
BUSINESS = "acme"
ACCOUNTS = [("tiktok-main", "TikTok @acme", "tiktok"), ("instagram", "Instagram @acme", "instagram"),
            ("meta-ads", "Meta Ads", "meta-ads")]
ADMIN = ("alice@acme.example", "Alice Admin")
SECOND = ("sam@acme.example", "Sam Second-Admin")
BOB = ("bob@acme.example", "Bob Builder")
DANA = ("dana@acme.example", "Dana Moderator")


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> World:
    """Alice (Admin of every account), Sam (Admin of TikTok), Bob and Dana. A month passes with a
    30-day idle window: Alice, Sam and Bob use AccessFlow after it, Dana does not (idle)."""
    from accessflow.adapters.clock import utcnow
    from accessflow.usecases.business import bootstrap

    bind_store(stack)
    bootstrap(BUSINESS, "Acme Social", ACCOUNTS, ADMIN[0], ADMIN[1], now=utcnow())
    admin = Person(ADMIN[0], stack.mint_token(ADMIN[0], name=ADMIN[1]))
    w = World(stack, BUSINESS, [a[0] for a in ACCOUNTS], admin)
    w.people[ADMIN[0]] = admin
    for email, name in (SECOND, BOB, DANA):
        w.people[email] = Person(email, stack.mint_token(email, name=name))
    onboard_named(w, api, SECOND[0], SECOND[1], {"tiktok-main": "Admin", "instagram": "Editor"})
    onboard_named(w, api, BOB[0], BOB[1], {"tiktok-main": "Editor", "instagram": "Analyst"})
    onboard_named(w, api, DANA[0], DANA[1], {"instagram": "Moderator", "meta-ads": "Analyst"})
    r = api.patch(f"/businesses/{BUSINESS}/policy", token=admin.token, json={"review_idle_after_days": 30})
    assert r.status_code == 200, r.text
    stack.advance(timedelta(days=31), coalesce=True)
    for email in (ADMIN[0], SECOND[0], BOB[0]):  # authenticated calls: their last activity is now
        api.get(f"/businesses/{BUSINESS}/members", token=w.people[email].token)
    return w


@pytest.fixture(scope="module")
def console(browser: Any, stack: Any, world: World) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    console_sign_in(page, stack, BUSINESS, "reviews", ADMIN[0])
    yield page
    context.close()


def go(page: Any, view: str, param: str = "", heading: str | re.Pattern[str] | None = None) -> None:
    open_console_view(page, BUSINESS, view + (f"/{param}" if param else ""), heading or None)


def campaign_id(world: World, api: Any) -> str:
    r = api.get(f"/businesses/{BUSINESS}/reviews", token=world.admin.token)
    assert r.status_code == 200, r.text
    return str(r.json()["campaigns"][0]["campaign_id"])


def my_items(world: World, api: Any) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{BUSINESS}/reviews/{campaign_id(world, api)}/items", token=world.admin.token,
                params={"assigned_to": "me", "limit": 500})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def row(page: Any, name: str, account: str) -> Any:
    return page.locator("table.inbox tbody tr").filter(has_text=name).filter(has_text=account)


# --- tests -----------------------------------------------------------------------------------------


def test_start_a_review_now_and_the_inbox_shows_last_activity_and_idle(console: Any, world: World, api: Any) -> None:
    page = console
    go(page, "reviews", heading="Access review campaigns")
    expect(page.locator("p.empty")).to_have_text("No campaign yet.")
    page.get_by_label("Name (optional)").fill("Q1 access review")
    page.get_by_role("button", name="Start a review now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Q1 access review")
    items = my_items(world, api)
    assert items and not any(i["member_email"] == ADMIN[0] for i in items)  # never one's own grant
    expect(page.locator("table.inbox tbody tr")).to_have_count(len(items))
    dana = row(page, DANA[1], "Instagram @acme")
    expect(dana.locator(".badge.idle")).to_have_text("Idle")
    expect(row(page, BOB[1], "Instagram @acme").locator(".badge.idle")).to_have_count(0)
    expect(row(page, BOB[1], "Instagram @acme").locator("time")).to_have_count(1)  # last activity shown
    assert {i["member_email"] for i in items if i["idle"]} == {DANA[0]}
    screenshot(page, "console-review-inbox")


def test_a_second_start_while_one_is_open_shows_the_problem(console: Any, world: World, api: Any) -> None:
    page = console
    go(page, "reviews", heading="Access review campaigns")
    page.get_by_role("button", name="Start a review now").click()
    problem = page.locator("form .problem")
    expect(problem).to_be_visible()
    expect(problem.locator(".problem-title")).not_to_be_empty()
    expect(problem.locator(".problem-detail")).to_contain_text("open")
    expect(problem).not_to_contain_text("409")
    assert len(api.get(f"/businesses/{BUSINESS}/reviews", token=world.admin.token).json()["campaigns"]) == 1


def test_decide_one_with_a_note_then_several_at_once(console: Any, world: World, api: Any) -> None:
    page = console
    go(page, "reviews", campaign_id(world, api), heading="Review: Q1 access review")
    bob = row(page, BOB[1], "Instagram @acme")
    bob.get_by_label(re.compile("^Note for")).fill("still runs the weekly report")
    bob.get_by_role("button", name=re.compile("^Keep")).click()
    expect(page.locator("#inbox-message .note")).to_have_text("1 decision recorded.")
    expect(row(page, BOB[1], "Instagram @acme").locator(".badge.decision-keep")).to_have_text("Keep")

    row(page, DANA[1], "Instagram @acme").get_by_role("checkbox").check()
    row(page, DANA[1], "Meta Ads").get_by_role("checkbox").check()
    expect(page.locator(".selected-count")).to_have_text("2 selected")
    page.get_by_label("Note for the selected (optional)").fill("idle since last quarter")
    page.get_by_role("button", name="Remove selected").click()
    expect(page.locator("#inbox-message .note")).to_have_text("2 decisions recorded.")
    decided = {(i["member_email"], i["account_id"]): (i["decision"], i["note"]) for i in my_items(world, api)}
    assert decided[(BOB[0], "instagram")] == ("keep", "still runs the weekly report")
    assert decided[(DANA[0], "instagram")] == ("remove", "idle since last quarter")
    assert decided[(DANA[0], "meta-ads")] == ("remove", "idle since last quarter")


def test_a_decision_with_the_keyboard_alone(console: Any, world: World, api: Any) -> None:
    page = console
    go(page, "reviews", campaign_id(world, api), heading="Review: Q1 access review")
    page.locator("body").focus()
    target = f"Keep {BOB[1]} on TikTok @acme"
    tab_to(page, target, limit=150)
    assert focused_label(page) == target
    page.keyboard.press("Enter")
    note = page.locator("#inbox-message .note")
    expect(note).to_have_text("1 decision recorded.")
    expect(note).to_be_focused()
    decided = {(i["member_email"], i["account_id"]): i["decision"] for i in my_items(world, api)}
    assert decided[(BOB[0], "tiktok-main")] == "keep"


def test_report_lists_every_item_and_its_csv_equals_the_api(console: Any, world: World, api: Any) -> None:
    page = console
    cid = campaign_id(world, api)
    go(page, "review-report", cid, heading="Report: Q1 access review")
    report = api.get(f"/businesses/{BUSINESS}/reviews/{cid}/report", token=world.admin.token).json()
    expect(page.locator("table.review-report tbody tr")).to_have_count(len(report["items"]))
    expect(page.locator("table.review-report")).to_contain_text("still runs the weekly report")
    expect(page.locator('.console-nav a[aria-current="page"]')).to_have_text("Review campaigns")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    downloaded = Path(info.value.path()).read_text(encoding="utf-8")
    from_api = api.get(f"/businesses/{BUSINESS}/reviews/{cid}/report", token=world.admin.token,
                       params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert rows == list(csv.DictReader(io.StringIO(from_api))) and len(rows) == len(report["items"])


def test_after_the_deadline_the_report_shows_what_was_applied(console: Any, world: World, api: Any) -> None:
    page = console
    cid = campaign_id(world, api)
    world.stack.advance(timedelta(days=15), coalesce=True)

    def closed() -> dict[str, Any] | None:
        body = api.get(f"/businesses/{BUSINESS}/reviews/{cid}/report", token=world.admin.token).json()
        return body if body["campaign"]["status"] == "CLOSED" else None

    report = eventually(closed, timeout=60, what="the campaign to close")
    outcomes = {(r["member_email"], r["account_id"]): r["outcome"] for r in report["items"]}
    assert outcomes[(DANA[0], "meta-ads")] == "removed" and outcomes[(BOB[0], "instagram")] == "kept"
    go(page, "reviews", heading="Access review campaigns")
    expect(page.locator("table.campaigns tbody tr").first.locator(".badge")).to_have_text("Closed")
    go(page, "review-report", cid, heading="Report: Q1 access review")
    expect(page.locator("dl.facts .badge")).to_have_text("Closed")
    rows = page.locator("table.review-report tbody tr")
    dana = rows.filter(has=page.locator("th", has_text=DANA[1])).filter(has_text="Meta Ads")
    expect(dana).to_contain_text("Removed")
    expect(dana).to_contain_text("applied")
    undecided = rows.filter(has=page.locator("th", has_text=SECOND[1])).filter(has_text="Instagram")
    expect(undecided).to_contain_text("Kept (undecided)")
    screenshot(page, "console-review-report")


def test_the_schedule_form_sets_the_cadence_and_shows_refusals_at_the_field(console: Any, world: World,
                                                                             api: Any) -> None:
    page = console
    go(page, "reviews", heading="Access review campaigns")
    expect(page.locator("#next-review")).to_contain_text("The next review starts by itself on")
    page.get_by_label("Recurring review").select_option("monthly")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("form .note")).to_have_text("Schedule saved.")
    assert api.get(f"/businesses/{BUSINESS}/policy", token=world.admin.token).json()["review_cadence"] == "monthly"
    schedule = api.get(f"/businesses/{BUSINESS}/review-schedule", token=world.admin.token).json()
    assert schedule["cadence"] == "monthly"
    expect(page.locator("#next-review time")).to_have_attribute("datetime", schedule["next_at"])
    page.get_by_label(re.compile("^Flag as idle after")).fill("0")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator(".field-error").filter(has_text=re.compile(".+")).first).to_be_visible()
    expect(page.locator("form .problem .problem-title")).not_to_be_empty()
    assert api.get(f"/businesses/{BUSINESS}/policy", token=world.admin.token).json()["review_idle_after_days"] == 30


def test_a_members_page_shows_their_last_activity(console: Any, world: World, api: Any) -> None:
    page = console
    listed = api.get(f"/businesses/{BUSINESS}/members", token=world.admin.token).json()["members"]
    dana = next(m for m in listed if m["email"] == DANA[0])
    assert dana["last_activity_at"] is not None  # her acceptance, a month and more before
    go(page, "member", dana["member_id"])
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("Last activity")
    # (her acceptance also made her active at that second: read the time under "Last activity" itself)
    expect(facts.locator(f'dt:has-text("Last activity") + dd time[datetime="{dana["last_activity_at"]}"]')
           ).to_have_count(1)


def test_no_serious_accessibility_violation_on_the_review_views(console: Any, world: World, api: Any) -> None:
    page = console
    cid = campaign_id(world, api)
    checked = {}
    go(page, "reviews", heading="Access review campaigns")
    checked["campaigns"] = serious_violations(page)
    go(page, "reviews", cid, heading="Review: Q1 access review")
    checked["inbox"] = serious_violations(page)
    go(page, "review-report", cid, heading="Report: Q1 access review")
    checked["report"] = serious_violations(page)
    assert {k: v for k, v in checked.items() if v} == {}
