"""The admin console in a real browser (Playwright + Chromium) against the local stack and its IdP.

Admins sign in at the local OpenID Connect provider through the console's own sign-in (code + PKCE),
then work only through the page: invite (two accounts), resend with the cooldown shown, revoke, change
a role, try to demote the last Admin, offboard with progress then the receipt, filter the audit trail,
download the access review as CSV; a second admin confirms an Admin role from the queue. What the page
claims is checked against the HTTP API. Screenshots of each view go to ``docs/screenshots/`` with ``make screenshots``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import console_sign_in, screenshot, sign_in_at_idp
from tests.e2e.people import set_role, wait_sent
from tests.world import Person, World, bind_store, eventually, invitation_link_token

expect.set_options(timeout=15_000)  # two shared cores: a view's three API reads can take seconds
BUSINESS = "acme"
ACCOUNTS = [("tiktok-main", "TikTok @acme", "tiktok"), ("instagram", "Instagram @acme", "instagram"),
            ("meta-ads", "Meta Ads", "meta-ads")]
ADMIN = ("alice@acme.example", "Alice Admin")
SECOND = ("sam@acme.example", "Sam Second-Admin")
# Every console view the accessibility test checks (hash route → heading).
VIEWS = {
    "team": "Team members", "invite": "Invite a member", "invitations": "Invitations",
    "confirmations": "Waiting for confirmation", "audit": "Audit trail", "review": "Access review",
    "accounts": "Accounts", "policy": "Business policy",
}


# --- the world: a business with named accounts, two admins and a few members -----------------------


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> World:
    from accessflow.adapters.clock import utcnow
    from accessflow.usecases.business import bootstrap

    bind_store(stack)
    bootstrap(BUSINESS, "Acme Social", ACCOUNTS, ADMIN[0], ADMIN[1], now=utcnow())
    admin = Person(ADMIN[0], stack.mint_token(ADMIN[0], name=ADMIN[1]))
    w = World(stack, BUSINESS, [a[0] for a in ACCOUNTS], admin)
    w.people[ADMIN[0]] = admin
    # Register the names the IdP signs these people in with (its form keeps a known subject's claims).
    for email, name in (SECOND, ("bob@acme.example", "Bob Builder"), ("dana@acme.example", "Dana Moderator")):
        w.people[email] = Person(email, stack.mint_token(email, name=name))
    onboard_named(w, api, SECOND[0], SECOND[1], {"tiktok-main": "Admin", "instagram": "Editor"})
    onboard_named(w, api, "bob@acme.example", "Bob Builder", {"tiktok-main": "Editor", "instagram": "Analyst"})
    onboard_named(w, api, "dana@acme.example", "Dana Moderator", {"instagram": "Moderator"})
    return w


def onboard_named(world: World, api: Any, email: str, name: str, roles: dict[str, str]) -> str:
    """An ACTIVE member called ``name`` with exactly ``roles``: invited with Analyst on each account
    (confirmed automatically), accepted with their own token, then given the roles by the admin."""
    b = world.business_id
    grants = [{"account_id": a, "role": "Analyst"} for a in sorted(roles)]
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token,
                 json={"email": email, "display_name": name, "grants": grants})
    assert r.status_code == 201, r.text
    invitation = r.json()
    wait_sent(world, api, invitation["invitation_id"])
    r = api.post("/invitations/accept", token=world.people[email].token,
                 json={"token": invitation_link_token(world.stack, email)})
    assert r.status_code == 200, r.text
    assert world.stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    for account, role in roles.items():
        if role != "Analyst":
            set_role(world, api, invitation["member_id"], account, role)
    return str(invitation["member_id"])


def member_id(world: World, api: Any, email: str) -> str:
    r = api.get(f"/businesses/{world.business_id}/members", token=world.admin.token)
    return next(m["member_id"] for m in r.json()["members"] if m["email"] == email)


def grants_of(world: World, api: Any, email: str) -> dict[str, str]:
    r = api.get(f"/businesses/{world.business_id}/members", token=world.admin.token)
    member = next(m for m in r.json()["members"] if m["email"] == email)
    return {g["account_id"]: g["role"] for g in member["grants"]}


def shot(page: Any, name: str) -> None:
    screenshot(page, f"console-{name}")


# --- browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console(browser: Any, stack: Any, world: World) -> Iterator[Any]:
    """Alice's tab, signed in through the console (the browser clock is Playwright's, so a test can
    move it with the stack's)."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    context.clock.install()
    page = context.new_page()
    sign_in(page, stack, ADMIN[0])
    yield page
    context.close()


def sign_in(page: Any, stack: Any, email: str) -> None:
    """Open the console, "Sign in", type the e-mail at the local IdP's form, "Authorize"."""
    console_sign_in(page, stack, BUSINESS, "team", email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Team members")


def view(page: Any, name: str, param: str = "") -> None:
    page.evaluate("h => { window.location.hash = h; }", f"#/{BUSINESS}/{name}" + (f"/{param}" if param else ""))
    heading = VIEWS.get(name)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".loading")).to_have_count(0)


# --- tests -----------------------------------------------------------------------------------------


def test_team_shows_members_by_accounts_with_roles_and_who_invited(console: Any, world: World) -> None:
    page = console
    view(page, "team")
    table = page.locator("table.team")
    for _, name, _ in ACCOUNTS:
        expect(table.locator("thead")).to_contain_text(name)
    bob = table.locator("tbody tr", has_text="bob@acme.example")
    expect(bob.locator("th")).to_contain_text("Bob Builder")
    expect(bob.locator('td[data-account="tiktok-main"]')).to_have_text("Editor")
    expect(bob.locator('td[data-account="instagram"]')).to_have_text("Analyst")
    expect(bob.locator('td[data-account="meta-ads"]')).to_contain_text("No access")
    expect(bob).to_contain_text("Active")
    expect(bob).to_contain_text("Alice Admin")  # invited by, by name and e-mail
    expect(bob).to_contain_text(ADMIN[0])
    shot(page, "team")


def test_invite_through_the_form_with_two_accounts(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "invite")
    # A refusal is shown at the field it concerns.
    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_label("Name", exact=True).fill("Erin Example")
    page.get_by_label("TikTok @acme").select_option("Editor")
    page.get_by_role("button", name="Send invitation").click()
    email_error = page.locator(".field", has=page.get_by_label("E-mail address")).locator(".field-error")
    expect(email_error).to_be_visible()
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-mail address")).to_be_focused()

    page.get_by_label("E-mail address").fill("erin@acme.example")
    page.get_by_label("Instagram @acme").select_option("Analyst")
    shot(page, "invite")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".form-message .note")).to_contain_text(
        "Invitation sent to erin@acme.example: Analyst on Instagram @acme, Editor on TikTok @acme.")
    invitations = api.get(f"/businesses/{BUSINESS}/invitations", token=world.admin.token).json()["invitations"]
    erin = next(i for i in invitations if i["email"] == "erin@acme.example")
    assert sorted((g["account_id"], g["role"]) for g in erin["grants"]) == [("instagram", "Analyst"),
                                                                            ("tiktok-main", "Editor")]
    assert erin["display_name"] == "Erin Example"


def test_resend_shows_the_cooldown_then_sends_and_revoke_kills_the_link(
        console: Any, world: World, api: Any, stack: Any) -> None:
    page = console
    invitations = api.get(f"/businesses/{BUSINESS}/invitations", token=world.admin.token).json()["invitations"]
    erin = next(i for i in invitations if i["email"] == "erin@acme.example")
    wait_sent(world, api, erin["invitation_id"])
    typo = bounced_invitation(world, api, stack, "typo@exmaple.com", "550 5.1.1 user unknown")
    view(page, "invitations")
    bounced = page.locator(f'tr[data-invitation="{typo}"]')
    expect(bounced).to_contain_text("Not delivered")
    expect(bounced).to_contain_text("550 5.1.1 user unknown")
    row = page.locator(f'tr[data-invitation="{erin["invitation_id"]}"]')
    resend = row.get_by_role("button", name=re.compile("^Resend"))
    expect(row.locator(".resend-note")).to_contain_text(re.compile(r"4 sends left · next send possible in \d+ s"))
    expect(resend).to_be_disabled()
    shot(page, "invitations")

    stack.advance(timedelta(seconds=61))
    page.clock.fast_forward(61_000)
    expect(row.locator(".resend-note")).to_contain_text("can be sent again now")
    resend.click()
    expect(page.locator(f'tr[data-invitation="{erin["invitation_id"]}"] .result .note')).to_contain_text("sent again")
    r = api.get(f"/businesses/{BUSINESS}/invitations/{erin['invitation_id']}", token=world.admin.token).json()
    assert r["send_count"] == 2
    expect(page.locator(f'tr[data-invitation="{erin["invitation_id"]}"] .resend-note')).to_contain_text("3 sends left")

    row = page.locator(f'tr[data-invitation="{erin["invitation_id"]}"]')
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.locator(f'tr[data-invitation="{erin["invitation_id"]}"] .result .note')).to_contain_text("revoked")
    expect(page.locator(f'tr[data-invitation="{erin["invitation_id"]}"]')).to_contain_text("Revoked")
    r = api.get(f"/businesses/{BUSINESS}/invitations/{erin['invitation_id']}", token=world.admin.token).json()
    assert r["status"] == "REVOKED"


def bounced_invitation(world: World, api: Any, stack: Any, email: str, diagnostic: str) -> str:
    """An invitation whose e-mail bounced: SES's bounce notification published on the template's
    topic, as SES would (moto never bounces)."""
    r = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                 json={"email": email, "display_name": "Typo Address",
                       "grants": [{"account_id": "instagram", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    invitation_id = str(r.json()["invitation_id"])
    wait_sent(world, api, invitation_id)
    tags = {"kind": ["invitation"], "business_id": [world.business_id], "invitation_id": [invitation_id]}
    stack.client("sns").publish(TopicArn=stack.topics["MailEventsTopic"], Message=json.dumps({
        "eventType": "Bounce", "mail": {"messageId": "m-1", "tags": tags},
        "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail",
                   "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": diagnostic}]}}))
    eventually(lambda: api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}",
                               token=world.admin.token).json()["delivery"] == "FAILED", what="bounce recorded")
    return invitation_id


def test_change_a_role_and_the_last_admin_refusal_is_explained_inline(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "member", member_id(world, api, "bob@acme.example"))
    row = page.locator('tr[data-account-row="tiktok-main"]')
    row.get_by_label("Role on TikTok @acme").select_option("Moderator")
    row.get_by_role("button", name=re.compile("^Apply")).click()
    expect(page.locator('tr[data-account-row="tiktok-main"] .result')).to_contain_text(
        "Bob Builder is now Moderator on TikTok @acme.")
    assert grants_of(world, api, "bob@acme.example")["tiktok-main"] == "Moderator"

    # Alice is the only Admin of Meta Ads: demoting herself there is refused, and said so next to it.
    view(page, "member", member_id(world, api, ADMIN[0]))
    row = page.locator('tr[data-account-row="meta-ads"]')
    row.get_by_label("Role on Meta Ads").select_option("Editor")
    row.get_by_role("button", name=re.compile("^Apply")).click()
    problem = row.locator(".result .problem")
    expect(problem).to_contain_text("An account must keep at least one Admin")
    expect(problem).to_contain_text("last Admin of account meta-ads")
    expect(problem).to_be_focused()
    assert grants_of(world, api, ADMIN[0])["meta-ads"] == "Admin"
    shot(page, "last-admin")


def test_offboard_shows_progress_then_the_receipt(console: Any, world: World, api: Any) -> None:
    page = console
    dana = member_id(world, api, "dana@acme.example")
    view(page, "member", dana)
    # Record every heading the offboarding panel shows, however briefly.
    page.evaluate("""() => {
      window.__offboarding = [];
      new MutationObserver(() => {
        const h = document.querySelector('.offboarding h3');
        const text = h && h.textContent;
        if (text && window.__offboarding[window.__offboarding.length - 1] !== text) window.__offboarding.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    }""")
    page.get_by_label(re.compile("^Reason")).fill("Left the company")
    page.get_by_role("button", name="Offboard Dana Moderator").click()
    receipt = page.locator(".receipt")
    expect(receipt.get_by_role("heading", name="Offboarding receipt")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__offboarding") == ["Offboarding in progress", "Offboarding receipt"]
    expect(receipt).to_contain_text("Left the company")
    expect(receipt).to_contain_text("Moderator on Instagram @acme")
    expect(receipt).to_contain_text("Completed: nothing left")
    off = api.get(f"/businesses/{BUSINESS}/members/{dana}/offboarding", token=world.admin.token).json()
    assert off["status"] == "COMPLETED"
    assert grants_of(world, api, "dana@acme.example") == {}
    shot(page, "offboarding-receipt")


def test_audit_trail_filtered_by_member_and_action_shows_people_by_name(console: Any, world: World,
                                                                       api: Any) -> None:
    page = console
    view(page, "audit")
    expect(page.locator("table.audit tbody tr")).to_have_count(25)  # one page
    expect(page.get_by_role("link", name=re.compile("Next page"))).to_be_visible()
    page.get_by_role("link", name=re.compile("Next page")).click()
    expect(page.locator(".page-no")).to_have_text("Page 2")

    page.get_by_label("Member").select_option(label="Bob Builder <bob@acme.example>")
    page.get_by_label("Action").select_option("grant.changed")
    page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.last).to_contain_text("TikTok @acme: Editor → Moderator")  # oldest first
    api_entries = api.get(f"/businesses/{BUSINESS}/audit", token=world.admin.token,
                          params={"member_id": member_id(world, api, "bob@acme.example"),
                                  "action": "grant.changed"}).json()["entries"]
    expect(rows).to_have_count(len(api_entries))
    expect(rows.last).to_contain_text("Alice Admin")
    expect(rows.last).to_contain_text(ADMIN[0])
    expect(page.locator("table.audit")).not_to_contain_text("member:")
    shot(page, "audit")


def test_access_review_csv_download_equals_the_api(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "review")
    expect(page.locator("table.review tbody tr").first).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    downloaded = Path(info.value.path()).read_text(encoding="utf-8")
    from_api = api.get(f"/businesses/{BUSINESS}/access-review", token=world.admin.token,
                       params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert rows == list(csv.DictReader(io.StringIO(from_api)))
    # (Bob's role depends on whether the role-change test ran before on this worker: only that he is listed)
    assert (ADMIN[0], "meta-ads", "Admin") in {(r["email"], r["account_id"], r["role"]) for r in rows}
    assert any(r["email"] == "bob@acme.example" and r["account_id"] == "tiktok-main" for r in rows)
    expect(page.locator("table.review tbody tr")).to_have_count(len(rows))


def test_a_second_admin_confirms_an_admin_role_from_the_queue(browser: Any, world: World, api: Any,
                                                             stack: Any) -> None:
    b = world.business_id
    # Alice invites Carol as Admin of TikTok, and Sam (Admin of TikTok already) as Admin of Meta Ads.
    carol = Person("carol@acme.example", stack.mint_token("carol@acme.example", name="Carol New-Admin"))
    sam = world.people[SECOND[0]]
    created = {}
    for person_, name, grants in ((carol, "Carol New-Admin", [{"account_id": "tiktok-main", "role": "Admin"}]),
                                  (sam, SECOND[1], [{"account_id": "meta-ads", "role": "Admin"}])):
        r = api.post(f"/businesses/{b}/invitations", token=world.admin.token,
                     json={"email": person_.email, "display_name": name, "grants": grants})
        assert r.status_code == 201, r.text
        created[person_.email] = r.json()
        wait_sent(world, api, r.json()["invitation_id"])
        token = invitation_link_token(stack, person_.email)
        r = api.post("/invitations/accept", token=person_.token, json={"token": token})
        assert r.status_code == 200 and r.json()["needs_confirmation"], r.text
        stack.wait_for_state(created[person_.email]["execution_arn"], "AwaitConfirmation")

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, stack, SECOND[0])
        view(page, "confirmations")
        own = page.locator(f'article[data-invitation="{created[sam.email]["invitation_id"]}"]')
        expect(own).to_contain_text("This is your own invitation")
        expect(own.get_by_role("button")).to_have_count(0)
        item = page.locator(f'article[data-invitation="{created[carol.email]["invitation_id"]}"]')
        expect(item).to_contain_text("carol@acme.example")
        expect(item.get_by_label("TikTok @acme")).to_have_value("Admin")
        expect(item).to_contain_text("Invited by Alice Admin")
        shot(page, "confirmations")
        item.get_by_role("button", name=re.compile("^Confirm")).click()
        expect(item.locator(".note")).to_contain_text("Confirmed: Carol New-Admin is now Admin on TikTok @acme.")
    finally:
        context.close()
    assert stack.wait_execution(created[carol.email]["execution_arn"])["status"] == "SUCCEEDED"
    assert grants_of(world, api, carol.email) == {"tiktok-main": "Admin"}
    inv = api.get(f"/businesses/{b}/invitations/{created[carol.email]['invitation_id']}", token=world.admin.token)
    assert inv.json()["status"] == "CONFIRMED"


def test_accounts_add_rename_retire(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "accounts")
    page.get_by_label("Account id").fill("youtube")
    page.get_by_label("Name", exact=True).fill("YouTube @acme")
    page.get_by_label("Platform").fill("YouTube")  # not a lower-case slug: refused at the field
    page.get_by_role("button", name="Add account").click()
    platform_error = page.locator(".field", has=page.get_by_label("Platform")).locator(".field-error")
    expect(platform_error).to_be_visible()
    page.get_by_label("Platform").fill("youtube")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("#accounts-message .note")).to_contain_text("Account YouTube @acme added.")
    row = page.locator("table.accounts tbody tr", has_text="youtube")
    row.get_by_label("Name of youtube").fill("YouTube Studio")
    row.get_by_role("button", name=re.compile("^Rename")).click()
    expect(page.locator("#accounts-message .note")).to_contain_text("renamed to YouTube Studio")
    row = page.locator("table.accounts tbody tr", has_text="youtube")
    row.get_by_role("button", name=re.compile("^Retire")).click()
    expect(page.locator("#accounts-message .note")).to_contain_text("retired")
    accounts = {a["account_id"]: a for a in api.get(f"/businesses/{BUSINESS}/accounts",
                                                    token=world.admin.token).json()["accounts"]}
    assert (accounts["youtube"]["display_name"], accounts["youtube"]["status"]) == ("YouTube Studio", "RETIRED")


def test_policy_changes_and_refusals_at_the_field(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "policy")
    page.get_by_label("Invitation lifetime (days)").fill("45")
    page.get_by_role("button", name="Save policy").click()
    lifetime_error = page.locator(".field", has=page.get_by_label("Invitation lifetime (days)")).locator(".field-error")
    expect(lifetime_error).to_contain_text("30")
    expect(page.get_by_label("Invitation lifetime (days)")).to_be_focused()
    page.get_by_label("Invitation lifetime (days)").fill("14")
    page.get_by_label("Admins per account (at most)").fill("4")
    page.get_by_label("Confirmation rule").select_option("false")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#policy-saved")).to_be_visible()
    policy = api.get(f"/businesses/{BUSINESS}/policy", token=world.admin.token).json()
    assert (policy["invitation_lifetime_days"], policy["max_admins_per_account"], policy["auto_confirm_non_admin"]) \
        == (14, 4, False)
    r = api.patch(f"/businesses/{BUSINESS}/policy", token=world.admin.token, json={"auto_confirm_non_admin": True})
    assert r.status_code == 200, r.text


def test_policy_is_read_only_for_an_admin_of_some_accounts_only(browser: Any, stack: Any, world: World) -> None:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, stack, SECOND[0])  # Admin of TikTok only
        view(page, "policy")
        expect(page.get_by_role("button", name="Save policy")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("Only someone who is Admin on every account")
    finally:
        context.close()


def test_a_401_sends_you_to_sign_in_again_and_back_to_the_view(browser: Any, stack: Any, world: World) -> None:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, stack, ADMIN[0])
        # The sign-in is old (a loop guard skips redirects within 15 s of signing in) and the API now
        # answers as API Gateway does for an expired token.
        page.evaluate("sessionStorage.setItem('accessflow.console.signin-at', '0')")
        page.route("**/businesses/**", lambda route: route.fulfill(
            status=401, content_type="application/json", body='{"message":"Unauthorized"}'))
        page.evaluate("h => { window.location.hash = h; }", f"#/{BUSINESS}/invitations")
        page.wait_for_url(f"{stack.idp.issuer.rstrip('/')}/**")
        page.unroute("**/businesses/**")
        sign_in_at_idp(page, stack.idp.issuer, ADMIN[0])
        page.wait_for_url(re.compile(r"/console#/acme/invitations$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Invitations")
    finally:
        context.close()


def focused_label(page: Any) -> str:
    """The focused element's accessible text: its <label>, aria-label, or its text."""
    return str(page.evaluate("""() => {
      const el = document.activeElement;
      if (!el) return '';
      const label = el.labels && el.labels[0] ? el.labels[0].textContent : '';
      return (label || el.getAttribute('aria-label') || el.textContent || '').trim();
    }"""))


def tab_to(page: Any, text: str, *, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_label(page).startswith(text):
            return
    raise AssertionError(f"never reached {text!r} with Tab")


def test_inviting_a_member_with_the_keyboard_alone(console: Any, world: World, api: Any) -> None:
    page = console
    view(page, "team")
    page.locator("body").focus()
    tab_to(page, "Invite a member")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite a member")
    tab_to(page, "E-mail address")
    page.keyboard.type("frank@acme.example")
    tab_to(page, "Name")
    page.keyboard.type("Frank Keys")
    tab_to(page, "Instagram @acme")
    page.keyboard.type("Editor")  # type-ahead picks the option
    expect(page.get_by_label("Instagram @acme")).to_have_value("Editor")
    tab_to(page, "Send invitation")
    page.keyboard.press("Enter")
    note = page.locator(".form-message .note")
    expect(note).to_contain_text("Invitation sent to frank@acme.example: Editor on Instagram @acme.")
    expect(note).to_be_focused()
    invitations = api.get(f"/businesses/{BUSINESS}/invitations", token=world.admin.token).json()["invitations"]
    frank = next(i for i in invitations if i["email"] == "frank@acme.example")
    assert frank["grants"] == [{"account_id": "instagram", "role": "Editor"}]


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def test_no_serious_accessibility_violation_on_any_console_view(console: Any, browser: Any, stack: Any,
                                                                world: World, api: Any) -> None:
    checked: dict[str, list[str]] = {}
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{stack.api_url}/console")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        checked["sign-in"] = serious_violations(page)
    finally:
        context.close()
    page = console
    for name in VIEWS:
        view(page, name)
        checked[name] = serious_violations(page)
    view(page, "member", member_id(world, api, "bob@acme.example"))
    checked["member"] = serious_violations(page)
    print("axe checked console views:", ", ".join(checked))
    assert set(checked) == {"sign-in", "member", *VIEWS}
    assert {k: v for k, v in checked.items() if v} == {}

