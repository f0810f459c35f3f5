"""Building a business world on a running local stack, and reading what users would see.

Setup goes through the same use case an operator runs (``usecases.business.bootstrap``); everything a
test then asserts about behaviour goes through the bus and the HTTP API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from accessflow.adapters.clock import utcnow
from accessflow.domain.policy import BusinessPolicy
from infra.observe import LINK, bind_store, eventually, execution_for, invitation_link_token, mails_to, states_entered

__all__ = ["LINK", "Person", "World", "bind_store", "eventually", "execution_for", "invitation_link_token", "mails_to",
           "make_world", "states_entered"]


@dataclass
class Person:
    email: str
    token: str


@dataclass
class World:
    stack: Any
    business_id: str
    accounts: list[str]
    admin: Person
    people: dict[str, Person] = field(default_factory=dict)

    def person(self, email: str, *, verified: bool = True, sub: str | None = None) -> Person:
        p = Person(email, self.stack.mint_token(email, email_verified=verified, sub=sub))
        self.people[email] = p
        return p

    def hr_joiner(self, email: str, grants: list[dict[str, str]], *, key: str | None = None,
                  name: str = "New Joiner", business_id: str | None = None) -> dict[str, Any]:
        detail = {"business_id": business_id or self.business_id, "email": email, "display_name": name,
                  "grants": grants, "requested_by": "workday", "idempotency_key": key or uuid.uuid4().hex}
        self.stack.put_event("member.onboarding.requested", detail, source="hr.workday")
        self.stack.wait_idle()
        return detail


def make_world(stack: Any, *, accounts: int = 4, policy: BusinessPolicy | None = None,
               admin_email: str | None = None) -> World:
    from accessflow.usecases.business import bootstrap

    bind_store(stack)
    business_id = f"biz-{uuid.uuid4().hex[:8]}"
    account_ids = [f"acct-{i}" for i in range(1, accounts + 1)]
    admin_email = admin_email or f"admin-{business_id}@example.com"
    bootstrap(business_id, f"Business {business_id}", [(a, f"Account {a}", "tiktok") for a in account_ids],
              admin_email, "First Admin", policy=policy, now=utcnow())
    admin = Person(admin_email, stack.mint_token(admin_email))
    return World(stack, business_id, account_ids, admin)
