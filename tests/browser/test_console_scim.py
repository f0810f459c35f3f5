"""The console's "Provisioning (SCIM)" view in a real browser against the local stack and its IdP: an
Admin creates a SCIM token (shown once, with the base URL; the list never shows it again; the SCIM
endpoint accepts it), rotates it and revokes it (each asked first), creates an access bundle with roles
on two accounts and changes its roles; an Admin of one account only sees the tokens' refusal as its
title and detail and may give roles in a bundle only on that account. What the page claims is checked
through the HTTP API; axe-core checks the view; the screenshot goes to ``docs/screenshots/console-scim.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in, make_business, open_console_view, screenshot
from tests.browser.test_console import onboard_named, serious_violations
from tests.world import World

expect.set_options(timeout=15_000)
ACCOUNTS = [("acme-tiktok", "Acme on TikTok", "tiktok"), ("acme-insta", "Acme on Instagram", "instagram"),
            ("acme-ads", "Acme Ads", "meta-ads")]


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_business(stack, name="Acme Provisioning", accounts=ACCOUNTS)


@pytest.fixture(scope="module")
def console(browser: Any, stack: Any, world: World) -> Iterator[Any]:
    """The admin's tab, signed in through the console, on the provisioning view."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    console_sign_in(page, stack, world.business_id, "scim", world.admin.email)
    open_view(page, world)
    yield page
    context.close()


def open_view(page: Any, world: World) -> None:
    open_console_view(page, world.business_id, "scim", "Provisioning (SCIM)")


def tokens(world: World, api: Any) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/scim-tokens", token=world.admin.token)
    assert r.status_code == 200, r.text
    return list(r.json()["tokens"])


def scim_status(api: Any, base_url: str, token: str) -> int:
    return int(api.get(f"{urlsplit(base_url).path}/ServiceProviderConfig", token=token).status_code)


def test_a_token_is_shown_once_accepted_by_scim_then_rotated_and_revoked(console: Any, world: World,
                                                                         api: Any) -> None:
    page = console
    page.get_by_label("Token name").fill("okta")
    page.get_by_role("button", name="Create token").click()
    box = page.locator(".secret-box")
    expect(box).to_contain_text("Copy it now: it will not be shown again.")
    expect(box.get_by_role("heading")).to_be_focused()
    secret = box.get_by_label("Token (secret)").input_value()
    base_url = box.get_by_label("SCIM base URL (tenant URL)").input_value()
    assert secret.startswith("scim_") and base_url.endswith(f"/scim/v2/businesses/{world.business_id}")
    assert scim_status(api, base_url, secret) == 200  # the SCIM endpoint accepts what the page showed
    row = page.locator("table.scim-tokens tbody tr", has_text="okta")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("never")  # not used yet when the list was read
    assert secret not in page.locator("table.scim-tokens").inner_text()

    # Shown once: back on the view, the secret is nowhere in the page.
    page.get_by_role("button", name="I have stored it").click()
    expect(box).to_have_count(0)
    page.get_by_role("link", name="Team members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team members")
    open_view(page, world)
    expect(page.locator("table.scim-tokens tbody tr", has_text="okta")).to_be_visible()
    assert secret not in page.content()
    [listed] = tokens(world, api)
    assert listed["name"] == "okta" and listed["last_used_at"]  # the SCIM call above was recorded

    # Rotate: asked first; "Cancel" changes nothing.
    row = page.locator("table.scim-tokens tbody tr", has_text="okta")
    row.get_by_role("button", name="Rotate token okta").click()
    expect(row.locator(".confirm-box")).to_contain_text("stops working at once")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".confirm-box")).to_have_count(0)
    expect(row.get_by_role("button", name="Rotate token okta")).to_be_focused()
    assert scim_status(api, base_url, secret) == 200
    row.get_by_role("button", name="Rotate token okta").click()
    row.get_by_role("button", name="Yes, rotate").click()
    expect(box).to_contain_text("it will not be shown again")
    rotated = box.get_by_label("Token (secret)").input_value()
    assert rotated.startswith("scim_") and rotated != secret
    assert scim_status(api, base_url, secret) == 401
    assert scim_status(api, base_url, rotated) == 200
    expect(page.locator("table.scim-tokens tbody tr", has_text="okta").locator("td").nth(2)).not_to_have_text("—")

    # Revoke: asked first, then the token is refused and the row says Revoked (no more actions).
    row = page.locator("table.scim-tokens tbody tr", has_text="okta")
    row.get_by_role("button", name="Revoke token okta").click()
    expect(row.locator(".confirm-box")).to_contain_text("Revoke the token “okta”?")
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.locator("#scim-tokens-message .note")).to_have_text("Token okta revoked.")
    row = page.locator("table.scim-tokens tbody tr", has_text="okta")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    assert scim_status(api, base_url, rotated) == 401
    assert [t["status"] for t in tokens(world, api)] == ["REVOKED"]


def test_an_access_bundle_is_created_on_two_accounts_and_its_roles_changed(console: Any, world: World,
                                                                          api: Any) -> None:
    page = console
    open_view(page, world)
    create = page.locator("form.bundle-form", has=page.get_by_role("heading", name="Create a bundle"))
    create.get_by_label("Bundle name").fill("Social team")
    create.get_by_label("Acme on TikTok").select_option("Editor")
    create.get_by_label("Acme on Instagram").select_option("Analyst")
    create.get_by_role("button", name="Create bundle").click()
    expect(page.locator("#bundles-message .note")).to_have_text(
        "Bundle Social team created: Analyst on Acme on Instagram, Editor on Acme on TikTok.")
    row = page.locator("table.bundles tbody tr", has_text="Social team")
    expect(row).to_contain_text("Editor on Acme on TikTok")
    expect(row).to_contain_text("Analyst on Acme on Instagram")
    expect(row.locator("td.members-count")).to_have_text("0")

    # The same name again: the API's refusal is shown as its title and detail.
    create = page.locator("form.bundle-form", has=page.get_by_role("heading", name="Create a bundle"))
    create.get_by_label("Bundle name").fill("Social team")
    create.get_by_role("button", name="Create bundle").click()
    expect(create.locator(".problem .problem-detail")).to_contain_text("already exists")
    expect(create.locator(".problem .problem-title")).not_to_be_empty()

    row.get_by_role("button", name="Change roles of Social team").click()
    edit = page.locator("#bundle-edit form")
    expect(edit.get_by_role("heading")).to_be_focused()
    expect(edit.get_by_label("Acme on TikTok")).to_have_value("Editor")
    edit.get_by_label("Acme on TikTok").select_option("Moderator")
    edit.get_by_label("Acme on Instagram").select_option("")
    edit.get_by_label("Acme Ads").select_option("Analyst")
    edit.get_by_role("button", name="Save roles").click()
    expect(page.locator("#bundles-message .note")).to_contain_text("Bundle Social team now gives:")
    expect(page.locator("#bundle-edit form")).to_have_count(0)
    row = page.locator("table.bundles tbody tr", has_text="Social team")
    expect(row).to_contain_text("Moderator on Acme on TikTok")
    expect(row).not_to_contain_text("Acme on Instagram")

    r = api.get(f"/businesses/{world.business_id}/bundles", token=world.admin.token)
    assert r.status_code == 200, r.text
    [bundle] = [b for b in r.json()["bundles"] if b["display_name"] == "Social team"]
    assert sorted((g["account_id"], g["role"]) for g in bundle["grants"]) == [("acme-ads", "Analyst"),
                                                                              ("acme-tiktok", "Moderator")]


def test_an_admin_of_one_account_sees_the_token_refusal_and_can_define_bundles_only_there(
        browser: Any, stack: Any, world: World, api: Any) -> None:
    email = f"olga-{world.business_id}@acme.example"
    world.person(email)
    onboard_named(world, api, email, "Olga One-Account", {"acme-tiktok": "Admin"})
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        console_sign_in(page, stack, world.business_id, "scim", email)
        open_view(page, world)
        refusal = page.locator("#scim-tokens .problem")
        expect(refusal.locator(".problem-title")).not_to_be_empty()
        expect(refusal.locator(".problem-detail")).not_to_be_empty()
        expect(refusal).not_to_contain_text("403")  # title and detail, never a bare status code
        expect(page.get_by_role("button", name="Create token")).to_have_count(0)
        # The bundles still load; only the account she is Admin of can be given in a bundle.
        create = page.locator("form.bundle-form", has=page.get_by_role("heading", name="Create a bundle"))
        expect(create.get_by_label("Acme on TikTok")).to_be_enabled()
        expect(create.get_by_label("Acme on Instagram")).to_be_disabled()
        expect(page.locator("#scim-bundles .problem")).to_have_count(0)
    finally:
        context.close()


def test_the_invite_form_keeps_its_role_per_account_picker(console: Any, world: World) -> None:
    page = console  # the picker is shared with the bundles' forms
    page.get_by_role("link", name="Invite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite a member")
    for _, name, _ in ACCOUNTS:
        expect(page.get_by_label(name)).to_have_value("")
    expect(page.get_by_label("Acme on TikTok").locator("option")).to_have_text(
        ["No access", "Admin", "Editor", "Moderator", "Analyst"])


def test_no_serious_accessibility_violation_on_the_provisioning_view(console: Any, world: World) -> None:
    page = console
    open_view(page, world)
    page.get_by_label("Token name").fill("entra-id")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".secret-box")).to_be_visible()  # the view with its one-time secret box open
    page.locator("table.bundles button").first.click()
    expect(page.locator("#bundle-edit form")).to_be_visible()
    assert serious_violations(page) == []
    page.locator("#bundle-edit").get_by_role("button", name="Cancel").click()
    screenshot(page, "console-scim")
