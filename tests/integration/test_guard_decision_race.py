"""Release and cancel of one held offboarding at the same instant on two Lambda instances (driven at
the use case: the local HTTP API runs one request per function at a time). docs/offboarding.md: racing
decisions are conditional on the record still being HELD, one wins; the loser is 409
``offboarding-not-held`` and the record, the audit trail and the execution follow the winner."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from accessflow.domain.policy import BusinessPolicy
from tests.e2e.test_leaver_guard import leaver, seed_members, status_of
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_release_racing_cancel_one_wins(stack: Any) -> None:
    from accessflow.domain.errors import DomainError
    from accessflow.store import repository as store
    from accessflow.usecases import leaver_guard

    w = make_world(stack, accounts=1, policy=BusinessPolicy(leaver_guard_count=1, leaver_guard_percent=0))
    people = [p["member_id"] for p in seed_members(w, 6)]
    for m in people:
        leaver(w, m)
    held = [m for m in people if status_of(w, m) == "HELD"]
    assert len(held) == 5
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    b, arn, flow = w.business_id, stack.state_machines["OffboardingStateMachine"], StepFunctionsWorkflow()
    for m in held:
        go = threading.Barrier(2)
        outcome: dict[str, Any] = {}

        def run(kind: str, m: str = m, go: threading.Barrier = go, outcome: dict[str, Any] = outcome) -> None:
            ctx = store.Context(actor=f"member:qa-{uuid.uuid4().hex[:4]}")
            go.wait()
            try:
                if kind == "release":
                    leaver_guard.release(b, m, workflow=flow, state_machine_arn=arn, ctx=ctx, now=utcnow())
                else:
                    leaver_guard.cancel(b, m, "race", ctx=ctx, now=utcnow())
                outcome[kind] = "ok"
            except DomainError as exc:
                outcome[kind] = exc.slug

        threads = [threading.Thread(target=run, args=(k,)) for k in ("release", "cancel")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcome.values()) == ["offboarding-not-held", "ok"], outcome
        winner = next(k for k, v in outcome.items() if v == "ok")
        entries, _ = store.audit_trail(b, member_id=m, action="offboarding.released" if winner == "release"
                                       else "offboarding.cancelled")
        assert len(entries) == 1
        assert status_of(w, m) in (("IN_PROGRESS", "COMPLETED") if winner == "release" else ("CANCELLED",))
