"""The invitee's accept page in Chromium: from the e-mail's link, through a real sign-in at the local
OpenID Connect provider, to Accept; every refusal says what happened and what to do, and changes
nothing; the link token never leaks; keyboard only; axe-core; the security headers.

Screenshots of each state land in ``docs/screenshots/invitee-*.png`` with ``make screenshots``.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.helpers import (
    business_state,
    invitation,
    invite,
    link_from_outbox,
    make_business,
    screenshot,
    sign_in_at_idp,
    token_of,
)
from tests.world import World

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_business(stack)


@pytest.fixture(scope="module")
def issuer(stack: Any) -> str:
    return stack.env("ApiFunction")["OIDC_ISSUER"]


def expect_text(page: Any, selector: str, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_contain_text(text)


def open_invitation(page: Any, link: str) -> Any:
    response = page.goto(link)
    page.locator("#sign-in").wait_for(state="visible")
    return response


def active_grants(world: World, api: Any, email: str) -> dict[str, str]:
    """The member's active grants ({account: role}) as the admin API lists them (only active ones)."""
    r = api.get(f"/businesses/{world.business_id}/members", token=world.admin.token)
    assert r.status_code == 200, r.text
    member = next((m for m in r.json()["members"] if m["email"] == email), None)
    return {g["account_id"]: g["role"] for g in member["grants"]} if member else {}


# --- the happy paths ---------------------------------------------------------------------------------


def test_invitee_signs_in_and_accepts_access_is_active(
    stack: Any, api: Any, world: World, issuer: str, recorded: Any, caplog: Any, capfd: Any,
) -> None:
    caplog.set_level(logging.INFO)
    for name in ("infra", "accessflow", "werkzeug"):  # the stack's HTTP servers and the functions, fully
        caplog.set_level(logging.DEBUG, logger=name)
    page = recorded.page
    inv = invite(world, api, "ben@acme.example", {"acme-tiktok": "Editor", "acme-insta": "Analyst"},
                 name="Ben Okafor")
    link = link_from_outbox(stack, "ben@acme.example")
    token = token_of(link)

    before = business_state(world, api)
    response = open_invitation(page, link)
    assert response.status == 200
    assert page.url.endswith("/accept"), "the token stays in the address bar"
    expect_text(page, "h1", "Acme Studio invites you")
    expect_text(page, "table.grants", "Acme on TikTok")
    expect_text(page, "table.grants", "Instagram")
    expect_text(page, "table.grants", "Can create, schedule and publish content")
    expect_text(page, "table.grants", "Can read analytics")
    expect_text(page, "#invitation", "Alice Admin")
    expect_text(page, "#invitation", "ben@acme.example")
    assert business_state(world, api) == before, "opening the page changed something"
    screenshot(page, "invitee-1-invitation")

    page.get_by_role("button", name="Sign in to accept").click()
    sign_in_at_idp(page, issuer, "ben@acme.example")
    page.locator("#signed-in").wait_for(state="visible")
    expect_text(page, "#signed-in", "Signed in as ben@acme.example")
    assert page.url.endswith("/accept")
    screenshot(page, "invitee-2-signed-in")
    # Tokens live in this tab's sessionStorage only: nothing in localStorage, no cookie.
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert page.evaluate("Object.keys(sessionStorage).some(k => k.startsWith('accessflow.oidc.user.'))")

    page.get_by_role("button", name="Accept", exact=True).click()
    expect_text(page, "#outcome", "Your access is active")
    screenshot(page, "invitee-3-active")
    assert stack.wait_execution(inv["execution_arn"])["status"] == "SUCCEEDED"
    assert active_grants(world, api, "ben@acme.example") == {"acme-tiktok": "Editor", "acme-insta": "Analyst"}

    # The link token left the browser only towards our own origin: never to the IdP (the state sent
    # there is oidc-client-ts's random id; the token stays in this tab's sessionStorage).
    idp = urlsplit(issuer).netloc
    to_idp = [r for r in recorded.requests if urlsplit(r["url"]).netloc == idp]
    assert to_idp, "the sign-in went through the IdP"
    for r in to_idp:
        assert token not in r["url"] and token not in (r["post_data"] or ""), r
    ours = urlsplit(stack.api_url).netloc
    origins = {urlsplit(r["url"]).netloc for r in recorded.requests}
    assert origins == {idp, ours}, f"requests beyond this origin and the IdP: {origins}"
    for r in recorded.requests:
        if urlsplit(r["from"]).netloc == ours:
            assert "referer" not in {k.lower() for k in r["headers"]}, r
    # ... and never reached a log line: the HTTP server's, the function's (Powertools, stdout), the IdP's.
    out, err = capfd.readouterr()
    logged = "\n".join([out, err, *(record.getMessage() for record in caplog.records)])
    assert "GET /accept?token=[redacted]" in logged, "the request line of the page is logged, redacted"
    assert token not in logged


def test_admin_role_ends_waiting_for_confirmation(stack: Any, api: Any, world: World, issuer: str, page: Any) -> None:
    inv = invite(world, api, "cleo@acme.example", {"acme-ads": "Admin"}, name="Cleo Admin-to-be")
    open_invitation(page, link_from_outbox(stack, "cleo@acme.example"))
    expect_text(page, "#invitation", "an admin of the business confirms your role")
    page.get_by_role("button", name="Sign in to accept").click()
    sign_in_at_idp(page, issuer, "cleo@acme.example")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_text(page, "#outcome", "waiting for an admin to confirm")
    screenshot(page, "invitee-4-waiting-for-confirmation")
    stack.wait_for_state(inv["execution_arn"], "AwaitConfirmation")
    assert invitation(world, api, inv["invitation_id"])["status"] == "ACCEPTED"
    assert active_grants(world, api, "cleo@acme.example") == {}


def test_keyboard_only_acceptance(stack: Any, api: Any, world: World, issuer: str, page: Any) -> None:
    """Tab and Enter only (and typing the e-mail at the IdP's form)."""
    inv = invite(world, api, "kim@acme.example", {"acme-insta": "Moderator"}, name="Kim Keys")
    open_invitation(page, link_from_outbox(stack, "kim@acme.example"))

    def tab_to(name: str, limit: int = 25) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement && (document.activeElement.innerText"
                                    " || document.activeElement.value || '')")
            if focused.strip() == name:
                return
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("Sign in to accept")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{issuer.rstrip('/')}/**")
    page.locator("input[name=sub]").wait_for()
    page.keyboard.type("kim@acme.example")  # the form autofocuses its field
    page.keyboard.press("Enter")
    page.locator("#signed-in").wait_for(state="visible")
    tab_to("Accept")
    page.keyboard.press("Enter")
    expect_text(page, "#outcome", "Your access is active")
    assert stack.wait_execution(inv["execution_arn"])["status"] == "SUCCEEDED"
    assert active_grants(world, api, "kim@acme.example") == {"acme-insta": "Moderator"}


# --- refusals: each says what happened and what to do, and changes nothing -----------------------------


def test_wrong_account_is_refused_and_the_invitation_stays_valid(
    stack: Any, api: Any, world: World, issuer: str, page: Any,
) -> None:
    inv = invite(world, api, "dana@acme.example", {"acme-tiktok": "Analyst"}, name="Dana")
    open_invitation(page, link_from_outbox(stack, "dana@acme.example"))
    page.get_by_role("button", name="Sign in to accept").click()
    sign_in_at_idp(page, issuer, "mallory@elsewhere.example")
    expect_text(page, "#signed-in", "Signed in as mallory@elsewhere.example")
    before = business_state(world, api)
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_text(page, "#outcome", "This invitation is for dana@acme.example")
    expect_text(page, "#outcome", "the invitation is still valid")
    screenshot(page, "invitee-refused-wrong-account")
    assert business_state(world, api) == before
    assert invitation(world, api, inv["invitation_id"])["status"] == "PENDING"

    # "Use another account": signs out here, back to the IdP asking again, then the right person accepts.
    page.locator("#outcome").get_by_role("button", name="Use another account").click()
    page.wait_for_url(f"{issuer.rstrip('/')}/**")
    assert "prompt=login" in page.url
    sign_in_at_idp(page, issuer, "dana@acme.example")
    expect_text(page, "#signed-in", "Signed in as dana@acme.example")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_text(page, "#outcome", "Your access is active")


def test_unverified_email_is_refused_and_the_invitation_stays_valid(
    stack: Any, api: Any, world: World, issuer: str, page: Any,
) -> None:
    from accessflow import devlogin

    inv = invite(world, api, "uma@acme.example", {"acme-tiktok": "Analyst"}, name="Uma")
    stack.idp.register(devlogin.default_sub("uma@acme.example"),
                       devlogin.person_claims("uma@acme.example", email_verified=False))
    open_invitation(page, link_from_outbox(stack, "uma@acme.example"))
    page.get_by_role("button", name="Sign in to accept").click()
    sign_in_at_idp(page, issuer, "uma@acme.example")
    before = business_state(world, api)
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_text(page, "#outcome", "Your e-mail address is not verified")
    expect_text(page, "#outcome", "Verify your address with your sign-in provider, then sign in again")
    screenshot(page, "invitee-refused-unverified-email")
    assert business_state(world, api) == before
    assert invitation(world, api, inv["invitation_id"])["status"] == "PENDING"


def test_reloading_the_tidied_address_shows_the_invitation_again(stack: Any, api: Any, world: World,
                                                                 page: Any) -> None:
    invite(world, api, "lou@acme.example", {"acme-tiktok": "Analyst"}, name="Lou")
    open_invitation(page, link_from_outbox(stack, "lou@acme.example"))
    assert page.url.endswith("/accept")
    page.reload()
    page.locator("#sign-in").wait_for(state="visible")
    expect_text(page, "#invitation", "lou@acme.example")
    assert page.url.endswith("/accept")


def test_denying_at_the_idp_says_so_and_leads_back(stack: Any, api: Any, world: World, issuer: str,
                                                   page: Any) -> None:
    inv = invite(world, api, "nia@acme.example", {"acme-tiktok": "Analyst"}, name="Nia")
    open_invitation(page, link_from_outbox(stack, "nia@acme.example"))
    page.get_by_role("button", name="Sign in to accept").click()
    page.wait_for_url(f"{issuer.rstrip('/')}/**")
    page.get_by_role("button", name="Deny").click()
    expect_text(page, "#callback", "Sign-in did not complete")
    assert "code=" not in page.url and "state=" not in page.url
    page.get_by_role("link", name="Go back and try again").click()
    page.locator("#sign-in").wait_for(state="visible")
    expect_text(page, "#invitation", "nia@acme.example")
    assert invitation(world, api, inv["invitation_id"])["status"] == "PENDING"


def refused_page(page: Any, link: str, status: int, title: str, next_step: str) -> None:
    response = page.goto(link)
    assert response.status == status
    expect_text(page, "#refusal h1", title)
    expect_text(page, "#refusal .next", next_step)
    assert page.locator("#sign-in").count() == 0, "no sign-in offered for a link that cannot be used"


def test_revoked_link(stack: Any, api: Any, world: World, page: Any) -> None:
    inv = invite(world, api, "eve@acme.example", {"acme-tiktok": "Analyst"}, name="Eve")
    link = link_from_outbox(stack, "eve@acme.example")
    r = api.post(f"/businesses/{world.business_id}/invitations/{inv['invitation_id']}/revoke",
                 token=world.admin.token, json={"reason": "sent to the wrong person"})
    assert r.status_code == 200, r.text
    stack.wait_execution(inv["execution_arn"])
    before = business_state(world, api)
    refused_page(page, link, 410, "This invitation was withdrawn", "ask an admin of Acme Studio")
    screenshot(page, "invitee-refused-revoked")
    assert business_state(world, api) == before


def test_used_link(stack: Any, api: Any, world: World, page: Any) -> None:
    inv = invite(world, api, "finn@acme.example", {"acme-tiktok": "Analyst"}, name="Finn")
    link = link_from_outbox(stack, "finn@acme.example")
    r = api.post("/invitations/accept", token=stack.mint_token("finn@acme.example"), json={"token": token_of(link)})
    assert r.status_code == 200, r.text
    stack.wait_execution(inv["execution_arn"])
    before = business_state(world, api)
    refused_page(page, link, 409, "This invitation was already used", "send you a new invitation")
    screenshot(page, "invitee-refused-used")
    assert business_state(world, api) == before


def test_unknown_link_reveals_nothing(stack: Any, api: Any, world: World, page: Any) -> None:
    before = business_state(world, api)
    refused_page(page, f"{stack.api_url}/accept?token={'x' * 43}", 404, "This invitation link is not valid",
                 "Ask your admin to send you a new invitation")
    assert "Acme" not in page.content() and world.business_id not in page.content()
    screenshot(page, "invitee-refused-unknown-link")
    assert business_state(world, api) == before


# --- security ------------------------------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []
        self.sources: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k.lower(): v for k, v in attrs}
        self.handlers += [f"{tag} {k}" for k in names if k.startswith("on")]
        if "style" in names:
            self.styles.append(tag)
        if tag == "script":
            self._in_script = True
            self.sources.append(names.get("src") or "")
        if tag == "style":
            self.styles.append("<style>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def test_every_page_has_the_csp_and_no_inline_script(stack: Any, api: Any, world: World, issuer: str) -> None:
    invite(world, api, "gus@acme.example", {"acme-tiktok": "Analyst"}, name="Gus")
    link = link_from_outbox(stack, "gus@acme.example")
    idp = f"{urlsplit(issuer).scheme}://{urlsplit(issuer).netloc}"
    pages = {"accept": link.replace(stack.api_url, ""), "accept (unknown link)": "/accept?token=" + "z" * 43,
             "accept (no token)": "/accept", "accept callback": "/accept/callback", "console": "/console",
             "console callback": "/console/callback"}
    for name, path in pages.items():
        r = api.get(path)
        assert r.headers["content-type"] == "text/html; charset=utf-8", name
        csp = r.headers["content-security-policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                          "base-uri 'none'", f"connect-src 'self' {idp}", f"form-action 'self' {idp}"):
            assert directive in csp, (name, directive, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer", name
        parsed = _Scripts()
        parsed.feed(r.text)
        assert not parsed.inline and not parsed.handlers and not parsed.styles, (name, parsed.__dict__)
        assert parsed.sources and all(s.startswith("/assets/") for s in parsed.sources), parsed.sources
    assert api.get("/assets/accept.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert api.get("/assets/app.css").headers["content-type"] == "text/css; charset=utf-8"
    for bad in ("/assets/..%2Ftemplate.yaml", "/assets/..", "/assets/pages.py", "/assets/README.md",
                "/assets/%2e%2e%2fpages.py", "/assets/__init__.py"):
        assert api.get(bad).status_code == 404, bad


def test_html_in_names_renders_as_text(stack: Any, api: Any, page: Any) -> None:
    evil = make_business(stack, name="<img src=x id=pwned-business>Evil & Co",
                         accounts=[("evil-1", "<script>window.pwned=1</script>Main", "tiktok")])
    invite(evil, api, "hal@acme.example", {"evil-1": "Analyst"}, name="<b id=pwned-name>Hal</b>")
    open_invitation(page, link_from_outbox(stack, "hal@acme.example"))
    expect_text(page, "h1", "<img src=x id=pwned-business>Evil & Co invites you")
    expect_text(page, "table.grants", "<script>window.pwned=1</script>Main")
    expect_text(page, "#invitation", "<b id=pwned-name>Hal</b>")
    assert page.locator("#pwned-business, #pwned-name").count() == 0
    assert page.evaluate("window.pwned === undefined")


def test_accessibility(stack: Any, api: Any, world: World, issuer: str, page: Any) -> None:
    """axe-core: no serious or critical violation on any page the invitee sees."""
    invite(world, api, "ivy@acme.example", {"acme-tiktok": "Editor", "acme-ads": "Admin"}, name="Ivy")
    link = link_from_outbox(stack, "ivy@acme.example")
    axe = Axe()
    checked: list[str] = []

    def check(name: str) -> None:
        violations = axe.run(page).response["violations"]
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in violations
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: {bad}"
        checked.append(name)

    open_invitation(page, link)
    check("accept: the invitation, signed out")
    page.get_by_role("button", name="Sign in to accept").click()
    sign_in_at_idp(page, issuer, "someone-else@acme.example")
    page.locator("#signed-in").wait_for(state="visible")
    check("accept: signed in")
    page.get_by_role("button", name="Accept", exact=True).click()
    page.locator("#outcome [data-outcome]").wait_for()
    check("accept: a refusal after Accept (wrong account)")
    page.goto(f"{stack.api_url}/accept?token={'q' * 43}")
    check("accept: unknown link")
    page.goto(f"{stack.api_url}/accept/callback?error=access_denied&state=nope")
    page.locator("#callback [data-problem]").wait_for()
    check("accept callback: sign-in failed")
    print("axe-core checked:", "; ".join([*checked, "accept: expired link (test_accept_expired.py)"]))
    assert len(checked) == 5
