"""The CLI commands of issue 11's guard part against the local stack: policy knobs of the leaver
guard, ``held``, ``release``, ``cancel-offboarding``, ``reinstate`` (and ``offboarding`` showing until
when a member can be reinstated)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accessflow import cli
from tests.e2e.people import onboard
from tests.e2e.test_cli import run  # noqa: F401  (the fixture)
from tests.world import World, eventually, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


@pytest.mark.parametrize("command", ["held", "release", "cancel-offboarding", "reinstate"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: accessflow {command}" in out and "BUSINESS" in out and "--json" in out


def _status(world: World, api: Any, member_id: str) -> str | None:
    r = api.get(f"/businesses/{world.business_id}/members/{member_id}/offboarding", token=world.admin.token)
    return r.json()["status"] if r.status_code == 200 else None


def test_held_release_cancel_reinstate(world: World, run: Any, api: Any) -> None:  # noqa: F811
    b = world.business_id
    policy = run("policy", b, "--leaver-guard-count", "1", "--leaver-guard-percent", "0", "--json")
    assert policy["leaver_guard_count"] == 1 and policy["leaver_guard_percent"] == 0
    assert "No held offboardings." in run("held", b)

    ids = [onboard(world, api, f"cli-burst-{i}@example.com", {"acct-1": "Editor"}) for i in range(3)]
    for member_id in ids:
        world.stack.put_event("member.offboarding.requested", {
            "business_id": b, "member_id": member_id, "reason": "reorg", "requested_by": "workday",
            "idempotency_key": uuid.uuid4().hex}, source="hr.workday")
        world.stack.wait_idle()
    first, second, third = ids
    assert _status(world, api, second) == _status(world, api, third) == "HELD"
    out = run("held", b)
    assert "cli-burst-1@example.com" in out and "cli-burst-2@example.com" in out and "reorg" in out

    out = run("cancel-offboarding", b, "cli-burst-1@example.com", "--reason", "still employed")
    assert "CANCELLED" in out and "keeps every grant" in out
    out = run("release", b, "--all")
    assert "Released 1 held offboarding(s)." in out
    eventually(lambda: _status(world, api, third) == "COMPLETED" and _status(world, api, first) == "COMPLETED",
               timeout=60, what="the released offboardings complete")

    out = run("offboarding", b, "cli-burst-2@example.com")
    assert "reinstatable_until" in out.lower()
    result = run("reinstate", b, "cli-burst-2@example.com", "--json")
    assert result["email"] == "cli-burst-2@example.com" and result["grants"] == [
        {"account_id": "acct-1", "role": "Editor"}]
    refused = run("reinstate", b, "cli-burst-1@example.com", ok=False)  # cancelled: still ACTIVE
    assert "can no longer be reinstated" in refused or "reinstat" in refused
