"""The demo business ``make serve`` starts with: Acme Social, three accounts, two Admins, two members
and one invitation waiting in the outbox — built through the product's own paths, idempotently.

- the business, its accounts and both Admins: the operator's use case (``usecases.business.bootstrap``,
  what ``accessflow bootstrap`` runs); the second Admin makes a four-eyes confirmation possible;
- the members: invited by Alice through the HTTP API, accepted with their own login (a token of the
  local issuer), confirmed by the workflow, then given their roles through the API;
- a pending invitation for Dana: its e-mail (an ``.eml`` in the outbox) carries a link to the accept page.

Running it again changes nothing: each step first looks at what is there.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

BUSINESS_ID = "acme"
BUSINESS_NAME = "Acme Social"
ACCOUNTS = [
    ("tiktok-main", "TikTok @acme", "tiktok"),
    ("instagram", "Instagram @acme.social", "instagram"),
    ("meta-ads", "Meta Ads \u2013 Acme", "meta-ads"),
]
ADMIN = ("admin@acme.example", "Alice Admin")
SECOND_ADMIN = ("second.admin@acme.example", "Sam Second")
MEMBERS = [
    ("ben@acme.example", "Ben Baker", {"tiktok-main": "Editor", "instagram": "Editor"}),
    ("carol@acme.example", "Carol Chen", {"meta-ads": "Analyst"}),
]
PENDING = ("dana@acme.example", "Dana Diaz", {"instagram": "Moderator"})
LINK = re.compile(r"https?://\S+/accept\?token=([A-Za-z0-9_\-]+)")


@dataclass
class Seeded:
    business_id: str
    name: str
    accounts: list[tuple[str, str, str]]
    admins: list[tuple[str, str]]
    members: list[tuple[str, str, dict[str, str]]]
    pending: tuple[str, str, dict[str, str]]
    changes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What ``make serve`` prints about it."""
        out = [f"Demo business: {self.name} (id {self.business_id})"]
        out += [f"  account  {a:<12} {n} ({p})" for a, n, p in self.accounts]
        out += [f"  Admin    {e:<28} {n}" for e, n in self.admins]
        out += [f"  member   {e:<28} {n}: " + ", ".join(f"{r} on {a}" for a, r in g.items())
                for e, n, g in self.members]
        e, n, g = self.pending
        out.append(f"  invited  {e:<28} {n}: " + ", ".join(f"{r} on {a}" for a, r in g.items())
                   + " (pending: the invitation e-mail is in the outbox)")
        out.append(f"Sign in as {self.admins[0][0]} (or {self.admins[1][0]}, the second Admin).")
        return out


def seed_demo(stack: Any) -> Seeded:
    """Create (or find) the demo business on a running local stack with its HTTP API."""
    import requests

    from accessflow.adapters.clock import utcnow
    from accessflow.domain.model import InvitationStatus, MemberStatus
    from accessflow.store import repository as store
    from accessflow.store.models import bind
    from accessflow.usecases.business import bootstrap

    bind(stack.tables["AccessFlowTable"], "us-east-1")
    seeded = Seeded(BUSINESS_ID, BUSINESS_NAME, ACCOUNTS, [ADMIN, SECOND_ADMIN], MEMBERS, PENDING)
    for email, name in (ADMIN, SECOND_ADMIN):
        seeded.changes += bootstrap(BUSINESS_ID, BUSINESS_NAME, ACCOUNTS, email, name, now=utcnow()).changes

    api = stack.api_url.rstrip("/")
    alice = stack.mint_token(ADMIN[0], name=ADMIN[1])

    def call(method: str, path: str, token: str, body: Any = None) -> Any:
        r = requests.request(method, api + path, json=body, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
        if r.status_code >= 300:
            raise RuntimeError(f"seeding: {method} {path} answered {r.status_code}: {r.text}")
        return r.json()

    def invite(email: str, name: str, grants: dict[str, str]) -> dict[str, Any]:
        sent_before = len(_links(stack, email))
        inv = call("POST", f"/businesses/{BUSINESS_ID}/invitations", alice, {
            "email": email, "display_name": name,
            "grants": [{"account_id": a, "role": r} for a, r in grants.items()]})
        inv["link"] = _wait_link(stack, email, sent_before)
        return inv

    for email, name, grants in MEMBERS:
        member = store.member_by_email(BUSINESS_ID, email)
        if member is None or member.status != MemberStatus.ACTIVE.value:
            inv = invite(email, name, grants)
            call("POST", "/invitations/accept", stack.mint_token(email, name=name), {"token": inv["link"]})
            stack.wait_execution(inv["execution_arn"])
            member = store.member_by_email(BUSINESS_ID, email)
            assert member is not None and member.status == MemberStatus.ACTIVE.value, f"seeding {email} failed"
            seeded.changes.append(f"onboarded {email}")
        held = store.roles_of(BUSINESS_ID, member.member_id)
        for account_id, role in grants.items():
            if held.get(account_id) is None or held[account_id].value != role:
                call("PUT", f"/businesses/{BUSINESS_ID}/members/{member.member_id}/grants/{account_id}", alice,
                     {"role": role})
                seeded.changes.append(f"{email}: {role} on {account_id}")

    email, name, grants = PENDING
    if not store.pending_invitations_for_email(BUSINESS_ID, email):
        member = store.member_by_email(BUSINESS_ID, email)
        if member is None or member.status != MemberStatus.ACTIVE.value:
            invite(email, name, grants)
            seeded.changes.append(f"invited {email} ({InvitationStatus.PENDING.value})")
    return seeded


def _links(stack: Any, email: str) -> list[str]:
    return [m.text for m in stack.outbox if email in m.to and m.text and "/accept?token=" in m.text]


def _wait_link(stack: Any, email: str, before: int, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = _links(stack, email)
        if len(texts) > before:
            match = LINK.search(texts[-1])
            if match:
                return match.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"seeding: no invitation e-mail reached {email}")
