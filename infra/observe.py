"""Reading what a user would see on a running local stack: the invitation link in the outbox, an
invitation's onboarding execution and the states it entered, and polling for asynchronous steps.

Shared by the demo (``make demo``) and the tests (``tests/world.py`` builds on it), so a tool never
imports test code.
"""

from __future__ import annotations

import re
import time
from typing import Any

from accessflow.store.models import bind

LINK = re.compile(r"https?://\S+/accept\?token=([A-Za-z0-9_\-]+)")


def bind_store(stack: Any) -> None:
    """Point the application's store (PynamoDB models) at the stack's table."""
    bind(stack.tables["AccessFlowTable"], stack.region)


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
    """The ARN of an invitation's onboarding execution (named ``onb-<invitation id>``)."""
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
