"""What the browser tests share: a business with readable names, invitations through the admin API,
the link from the e-mail in the outbox, signing in at the local identity provider, screenshots."""

from __future__ import annotations

import email
import email.policy
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from accessflow.adapters.clock import utcnow
from tests.e2e.people import audit, wait_sent
from tests.world import Person, World, bind_store

# Every run takes the screenshots; they land in .local/screenshots/ (ignored) unless ACCESSFLOW_SCREENSHOTS
# names another folder: `make screenshots` sets it to docs/screenshots/, the committed ones. Writing into
# the tracked tree on every `make test` left a working tree that `git pull` refused to update.
_REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = _REPO / os.environ.get("ACCESSFLOW_SCREENSHOTS", ".local/screenshots")
LINK = re.compile(r"https?://\S+/accept\?token=[A-Za-z0-9_\-]+")
ACCOUNTS = [("acme-tiktok", "Acme on TikTok", "tiktok"), ("acme-insta", "Acme on Instagram", "instagram"),
            ("acme-ads", "Acme Ads", "meta-ads")]


def make_business(stack: Any, *, name: str = "Acme Studio", accounts: list[tuple[str, str, str]] | None = None,
                  admin_email: str | None = None, admin_name: str = "Alice Admin") -> World:
    from accessflow.usecases.business import bootstrap

    bind_store(stack)
    business_id = f"acme-{uuid.uuid4().hex[:6]}"
    accounts = accounts or ACCOUNTS
    admin_email = admin_email or f"alice-{business_id}@acme.example"
    bootstrap(business_id, name, accounts, admin_email, admin_name, now=utcnow())
    return World(stack, business_id, [a[0] for a in accounts], Person(admin_email, stack.mint_token(admin_email)))


def invite(world: World, api: Any, email_address: str, grants: dict[str, str], *, name: str = "Ben Invitee",
           by: Person | None = None) -> dict[str, Any]:
    admin = by or world.admin
    r = api.post(f"/businesses/{world.business_id}/invitations", token=admin.token,
                 json={"email": email_address, "display_name": name,
                       "grants": [{"account_id": a, "role": role} for a, role in grants.items()]})
    assert r.status_code == 201, r.text
    invitation: dict[str, Any] = r.json()
    wait_sent(world, api, invitation["invitation_id"], by=admin)
    return invitation


def link_from_outbox(stack: Any, to: str, timeout: float = 15) -> str:
    """The accept link of the newest invitation e-mail to ``to``, read from its ``.eml`` file, on the
    local API's origin (the e-mail names the deployment's public URL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(stack.outbox):
            if to not in message.to or not message.path.exists():
                continue
            parsed = email.message_from_bytes(message.path.read_bytes(), policy=email.policy.default)
            body = parsed.get_body(preferencelist=("plain",))
            match = LINK.search(body.get_content() if body is not None else "")  # type: ignore[attr-defined]
            if match:
                parts = urlsplit(match.group(0))
                return f"{stack.api_url.rstrip('/')}{parts.path}?{parts.query}"
        time.sleep(0.05)
    raise AssertionError(f"no invitation e-mail to {to} in {stack.outbox_dir}")


def token_of(link: str) -> str:
    return link.rsplit("token=", 1)[1]


def invitation(world: World, api: Any, invitation_id: str) -> dict[str, Any]:
    r = api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}", token=world.admin.token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def business_state(world: World, api: Any) -> dict[str, Any]:
    """Everything a refusal must leave unchanged: members, invitations, the whole audit trail."""
    b = world.business_id
    members = api.get(f"/businesses/{b}/members", token=world.admin.token)
    invitations = api.get(f"/businesses/{b}/invitations", token=world.admin.token)
    assert members.status_code == 200 and invitations.status_code == 200
    return {"members": members.json(), "invitations": invitations.json(), "audit": audit(world, api)}


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def console_sign_in(page: Any, stack: Any, business_id: str, view: str, email_address: str) -> None:
    """Open the console at a view, press "Sign in", type the e-mail at the local IdP's form: back in the
    console, signed in as that person."""
    from playwright.sync_api import expect

    page.goto(f"{stack.api_url}/console#/{business_id}/{view}")
    page.get_by_role("button", name="Sign in").click()
    sign_in_at_idp(page, stack.idp.issuer, email_address)
    page.wait_for_url(re.compile(r"/console(#.*)?$"))
    expect(page.locator(".signed-in")).to_contain_text(email_address)


def open_console_view(page: Any, business_id: str, view: str, heading: str | re.Pattern[str] | None = None) -> None:
    """Go to a console view by its hash (as a link would) and wait until it has loaded."""
    from playwright.sync_api import expect

    page.evaluate("h => { window.location.hash = h; }", f"#/{business_id}/{view}")
    if heading is not None:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".loading")).to_have_count(0)


def sign_in_at_idp(page: Any, issuer: str, email_address: str) -> None:
    """At the local OIDC provider's authorization form: type the e-mail as the subject, authorize."""
    page.wait_for_url(f"{issuer.rstrip('/')}/**")
    page.locator("input[name=sub]").fill(email_address)
    page.get_by_role("button", name="Authorize").click()
