"""Two moves of one member at once, each proposing a raise (two admins, two Lambda instances): both
read "nothing waiting" before either writes. docs/movers.md promises one waiting move per member
(``change-pending``): exactly one proposal may be recorded. The local HTTP API runs one request per
function at a time, so the race is driven at the use case, with both plans made before either write."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from accessflow.domain.model import Grant
from accessflow.domain.roles import Role
from tests.e2e.people import onboard
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_two_concurrent_raises_record_one_proposal(stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from accessflow.store import mover as move_store
    from accessflow.store import repository as store
    from accessflow.usecases import mover

    world = make_world(stack, accounts=3)
    b = world.business_id
    m = onboard(world, api, "racer@example.com", {"acct-1": "Editor"})
    planned = threading.Barrier(2, timeout=10)
    real = move_store.apply_move
    first_call = threading.local()

    def apply_after_both_planned(*args: Any, **kwargs: Any) -> Any:
        if not getattr(first_call, "done", False):
            first_call.done = True
            planned.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(move_store, "apply_move", apply_after_both_planned)
    results: dict[str, Any] = {}

    def move(account: str) -> None:
        req = mover.MoveRequest(business_id=b, member_id=m, source="api", requested_by="member:x",
                                grants=[Grant(account_id="acct-1", role=Role.EDITOR),
                                        Grant(account_id=account, role=Role.ADMIN)])
        try:
            results[account] = mover.begin(req, store.Context(actor="member:x"), utcnow()).status
        except Exception as exc:  # the loser's refusal is the point
            results[account] = getattr(exc, "slug", repr(exc))

    threads = [threading.Thread(target=move, args=(a,)) for a in ("acct-2", "acct-3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["AWAITING_CONFIRMATION", "change-pending"], results
    assert len(move_store.open_proposals(b, "racer@example.com")) == 1
