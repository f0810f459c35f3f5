"""Races of the expiry sweep on the local stack: acceptance (HTTP) against two sweeps at once, on the
same invitation at its expiry boundary, for 100 rounds.

The acceptance runs at the stack's "now", just before the invitation's expiry (so it is valid for
the accept path); the sweeps run the sweep use case with a "now" just past it (so it is due for them,
as for a sweep whose clock is a little ahead). Both sides can therefore win, and only the conditional
writes decide. Each round must end with exactly one of ACCEPTED or EXPIRED; the losing acceptor gets
410, a losing sweep counts the invitation as skipped (or never sees it), and the execution ends on
the winner's branch with exactly one e-mail to the inviter.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from accessflow.adapters.mailer import SesMailer
from accessflow.adapters.workflow import StepFunctionsWorkflow
from accessflow.domain.policy import BusinessPolicy
from accessflow.settings import SweepSettings, load
from accessflow.store import repository as store
from accessflow.usecases import expiry
from tests.world import World, execution_for, invitation_link_token, mails_to, make_world, states_entered

ROUNDS = 100
BATCH = 25
EMAIL = "race-{}@example.com"


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    for schedule in stack.schedules.values():  # the rounds decide who sweeps, not the schedule
        schedule.enabled = False
    return make_world(stack, policy=BusinessPolicy(invitation_lifetime_days=1))


def sweep_at(now: datetime) -> expiry.SweepReport:
    settings = load(SweepSettings)
    return expiry.sweep(now, workflow=StepFunctionsWorkflow(), mailer=SesMailer(settings.sender_email),
                        ctx=store.Context(actor="system:sweep"))


Race = tuple[str, str, str]  # invitation id, e-mail, link token


def test_accept_races_two_sweeps_at_the_boundary(stack: Any, api: Any, world: World) -> None:
    outcomes: Counter[str] = Counter()
    rng = random.Random(3)
    raced: list[Race] = []
    # In batches, so that the local stack keeps few executions waiting at once (each polls).
    for first in range(0, ROUNDS, BATCH):
        batch = make_invitations(stack, api, world, range(first, min(first + BATCH, ROUNDS)))
        # All but due: the batch's last invitation expires ten minutes from the stack's now.
        last = store.get_invitation(world.business_id, batch[-1][0])
        assert last is not None
        stack.advance(last.expires_at - stack.clock.now() - timedelta(minutes=10))
        # The reminders (half-way through a 1-day lifetime) go out first: the rounds race expiry only.
        assert sweep_at(stack.clock.now()).reminded == len(batch)
        for race in batch:
            outcomes[race_round(stack, api, world, race, rng)] += 1
        raced += batch

    assert sum(outcomes.values()) == ROUNDS
    assert outcomes["ACCEPTED"] > 0 and outcomes["EXPIRED"] > 0, outcomes  # both sides can win

    # Every execution ends on its winner's branch; the inviter hears once per invitation.
    for invitation_id, _, _ in raced:
        final = store.get_invitation(world.business_id, invitation_id)
        assert final is not None
        execution = execution_for(stack, invitation_id)
        assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
        want = "Expired" if final.status == "EXPIRED" else "Activated"
        assert states_entered(stack, execution)[-1] == want
    notices = Counter(m.subject.split(":")[0] for m in mails_to(stack, world.admin.email)
                      if "invitation" in m.subject)
    assert all(n == 1 for n in notices.values()) and len(notices) == ROUNDS


def make_invitations(stack: Any, api: Any, world: World, ks: range) -> list[Race]:
    def invite(k: int) -> Race:
        created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                           json={"email": EMAIL.format(k), "display_name": f"Racer {k}",
                                 "grants": [{"account_id": "acct-1", "role": "Analyst"}]})
        assert created.status_code == 201, created.text
        return created.json()["invitation_id"], EMAIL.format(k), invitation_link_token(stack, EMAIL.format(k))

    # The admin's first request links their login; concurrent first requests would race on that link
    # (http.caller_member answers 500 to the losers: reported).
    batch = [invite(ks[0])]
    with ThreadPoolExecutor(4) as pool:
        batch += list(pool.map(invite, ks[1:]))
    for invitation_id, _, _ in batch:
        stack.wait_for_state(execution_for(stack, invitation_id), "SendInvitation")
    return sorted(batch, key=lambda r: store.get_invitation(world.business_id, r[0]).expires_at)  # type: ignore[union-attr]


def race_round(stack: Any, api: Any, world: World, race: Race, rng: random.Random) -> str:
    """One acceptance and two sweeps at once on one invitation; returns the outcome."""
    invitation_id, email, token = race
    inv = store.get_invitation(world.business_id, invitation_id)
    assert inv is not None and inv.status == "PENDING"
    assert stack.clock.now() < inv.expires_at  # valid for the acceptor
    sweep_now = inv.expires_at + timedelta(milliseconds=1)  # due for the sweeps
    person = world.person(email)
    start = threading.Barrier(3)
    results: dict[str, Any] = {}
    jobs: dict[str, Any] = {
        "accept": lambda: api.post("/invitations/accept", json={"token": token}, token=person.token),
        "sweep-a": lambda: sweep_at(sweep_now),
        "sweep-b": lambda: sweep_at(sweep_now),
    }
    delays = {name: rng.uniform(0, 0.02) for name in jobs}

    def run(name: str) -> None:
        start.wait()
        time.sleep(delays[name])
        results[name] = jobs[name]()

    threads = [threading.Thread(target=run, args=(name,)) for name in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    accepted = results["accept"]
    expired_by = results["sweep-a"].expired + results["sweep-b"].expired
    final = store.get_invitation(world.business_id, invitation_id)
    assert final is not None
    if accepted.status_code == 200:
        assert expired_by == 0 and final.status in ("ACCEPTED", "CONFIRMED"), (invitation_id, final.status)
        outcome = "ACCEPTED"
    else:
        assert accepted.status_code == 410, accepted.text
        assert accepted.headers["content-type"].startswith("application/problem+json")
        assert "expired" in accepted.json()["detail"]
        assert expired_by == 1 and final.status == "EXPIRED", (invitation_id, final.status, expired_by)
        outcome = "EXPIRED"
    trail, _ = store.audit_trail(world.business_id, member_id=final.member_id)
    decided = [e.action for e in trail if e.subject == invitation_id
               and e.action in ("invitation.accepted", "invitation.expired")]
    assert len(decided) == 1, decided
    return outcome
