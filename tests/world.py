"""Building a business world on a running local stack, and reading what users would see.

Setup goes through the same use case an operator runs (``usecases.business.bootstrap``); everything a
test then asserts about behaviour goes through the bus and the HTTP API.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from accessflow.adapters.clock import utcnow
from accessflow.domain.policy import BusinessPolicy
from accessflow.store.models import bind

LINK = re.compile(r"https?://\S+/accept\?token=([A-Za-z0-9_\-]+)")


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


def bind_store(stack: Any) -> None:
    bind(stack.tables["AccessFlowTable"], "us-east-1")


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


def invitation_link_token(stack: Any, email: str, *, after: int = 0, timeout: float = 15) -> str:
    """The link token from the newest invitation e-mail sent to ``email`` (waiting for it to arrive;
    ``after`` = how many such e-mails were there before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        links = [m for m in stack.outbox
                 if email in m.to and m.text and "/accept?token=" in m.text]
        if len(links) > after:
            match = LINK.search(links[-1].text)
            assert match, links[-1].text
            return match.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no invitation e-mail to {email}; outbox: {[m.subject for m in stack.outbox]}")


def mails_to(stack: Any, email: str) -> list[Any]:
    return [m for m in stack.outbox if email in m.to]


def execution_for(stack: Any, invitation_id: str) -> str:
    arn = stack.state_machines["OnboardingStateMachine"].replace(":stateMachine:", ":execution:")
    return f"{arn}:onb-{invitation_id}"


def states_entered(stack: Any, execution_arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in stack.execution_history(execution_arn)
            if "stateEnteredEventDetails" in e]


def eventually(predicate: Any, timeout: float = 15, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy (asynchronous steps: e-mails, events, task tokens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
