"""Two reviewers deciding one grant at the same instant on two Lambda instances (the local HTTP API
runs one request per function at a time, so the race is driven at the use case): the campaign's
counters stay exact whatever the interleaving (docs/reviews.md: each item conditional on the decision
read)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from tests.e2e.people import onboard
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_concurrent_decisions_on_one_item_keep_the_counters_exact(stack: Any, api: Any) -> None:
    from accessflow.store import repository as store
    from accessflow.usecases import reviews

    w = make_world(stack, accounts=1)
    b = w.business_id
    onboard(w, api, "second@example.com", {"acct-1": "Admin"})
    target = onboard(w, api, "held@example.com", {"acct-1": "Editor"})
    c = api.post(f"/businesses/{b}/reviews", token=w.admin.token, json={}).json()["campaign_id"]
    item = next(i for i in api.get(f"/businesses/{b}/reviews/{c}/items", token=w.admin.token).json()["items"]
                if i["member_id"] == target)["item_id"]
    reviewers = [store.member_by_email(b, e) for e in (w.admin.email, "second@example.com")]
    assert all(reviewers), "reviewers resolved"
    for round_ in range(5):
        go = threading.Barrier(4)
        errors: list[BaseException] = []

        def decide(who: Any, decision: str, go: threading.Barrier = go, errors: list[BaseException] = errors) -> None:
            go.wait()
            try:
                reviews.decide(b, c, who, [reviews.DecisionInput(item, decision, None)], now=utcnow())
            except BaseException as exc:  # a lost race may be refused, never miscounted
                errors.append(exc)

        threads = [threading.Thread(target=decide, args=(who, d)) for who in reviewers for d in ("keep", "remove")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = api.get(f"/businesses/{b}/reviews/{c}", token=w.admin.token).json()["counts"]
        assert counts["decided"] == 1 and counts["keep"] + counts["remove"] == 1, (round_, counts, errors)
