"""The business policy ``require_mfa_for_admins``, on EVERY admin route of the route table.

With the policy on, each admin route (every route of ``tests/e2e/test_authorization.py``'s table that
needs an Admin) is called by the same Admin with a login that did not use MFA (no ``amr``; ``amr:
["pwd"]``): 403 ``mfa-required`` with a detail saying how to fix it, and nothing changes; then with
``amr: ["pwd", "mfa"]`` (which API Gateway hands the function as the string ``[pwd mfa]``): the
route's normal answer. Turning the policy on from a login without MFA is refused (no lock-out); the
change is audited like any policy change, and the CLI prints the problem's explanation.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from accessflow import cli
from accessflow.domain.policy import BusinessPolicy
from tests.e2e.people import audit, onboard
from tests.e2e.test_authorization import ACCOUNT, ADMIN_OF_ALL, ADMIN_OF_ANY, ADMIN_OF_TARGET, ROUTES, Scene, state
from tests.world import Person, World, make_world

pytestmark = pytest.mark.slow
ADMIN_ROUTES = sorted(op for op, rule in ROUTES.items() if rule.requires in (ADMIN_OF_TARGET, ADMIN_OF_ANY,
                                                                            ADMIN_OF_ALL))
MFA, PWD = {"amr": ["pwd", "mfa"]}, {"amr": ["pwd"]}


def mfa_admin(world: World, extra: dict[str, Any] | None = MFA) -> Person:
    return Person(world.admin.email, world.stack.mint_token(world.admin.email, extra=extra))


def is_mfa_refusal(r: Any) -> bool:
    return (r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
            and r.json()["type"].endswith("/mfa-required") and "second factor" in r.json()["detail"])


@pytest.fixture(scope="module")
def scene(stack: Any, api: Any) -> Scene:
    world = make_world(stack, accounts=2, policy=BusinessPolicy(auto_confirm_non_admin=False))
    without = world.admin
    world.admin = mfa_admin(world)  # every setup step of the route table acts as the MFA admin
    target = onboard(world, api, f"target-{uuid.uuid4().hex[:6]}@example.com", {ACCOUNT: "Analyst"})
    r = api.patch(f"/businesses/{world.business_id}/policy", token=world.admin.token,
                  json={"require_mfa_for_admins": True})
    assert r.status_code == 200 and r.json()["require_mfa_for_admins"] is True, r.text
    callers = {"no amr": without, "amr pwd": mfa_admin(world, PWD), "amr mfa": world.admin}
    return Scene(world, api, callers, target)


def test_the_table_has_admin_routes() -> None:
    assert len(ADMIN_ROUTES) >= 15 and ("PATCH", "/businesses/{business_id}/policy") in ADMIN_ROUTES


@pytest.mark.parametrize("operation", ADMIN_ROUTES, ids=lambda op: f"{op[0]} {op[1]}")
def test_admin_route_needs_mfa(scene: Scene, operation: tuple[str, str]) -> None:
    rule = ROUTES[operation]
    for caller in ("no amr", "amr pwd"):
        call = rule.build(scene)
        before = state(scene)
        r = scene.api.request(call.method, call.path, token=scene.callers[caller].token, json=call.json,
                              params=call.params)
        assert is_mfa_refusal(r), f"{caller}: {r.status_code} {r.text}"
        assert state(scene) == before, f"{caller}: refused, but the state changed"
    call = rule.build(scene)
    r = scene.api.request(call.method, call.path, token=scene.callers["amr mfa"].token, json=call.json,
                          params=call.params)
    assert r.status_code == rule.ok, f"with MFA: {r.status_code} {r.text}"
    if call.after:
        call.after(r)
    if rule.consumes:
        scene.cache.clear()


def test_turning_it_on_without_mfa_is_refused_audited_when_done_and_explained_by_the_cli(
    stack: Any, api: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    world = make_world(stack, accounts=2)
    b = world.business_id
    policy = f"/businesses/{b}/policy"

    refused = api.patch(policy, token=world.admin.token, json={"require_mfa_for_admins": True})
    assert refused.status_code == 403 and refused.json()["type"].endswith("/mfa-required")
    assert "lock you out" in refused.json()["detail"]
    assert api.get(policy, token=world.admin.token).json()["require_mfa_for_admins"] is False
    assert [e for e in audit(world, api) if e["action"] == "business.policy_changed"] == []

    # the same refusal through the CLI prints the explanation
    argv = ["policy", b, "--api-url", stack.api_url, "--token", world.admin.token]
    capsys.readouterr()
    assert cli.main([*argv, "--require-mfa-for-admins", "on"]) == 1
    err = capsys.readouterr().err
    assert "403 Multi-factor authentication required" in err and "second factor" in err

    plain, with_mfa = world.admin, mfa_admin(world)
    world.admin = with_mfa
    assert cli.main(["policy", b, "--api-url", stack.api_url, "--token", with_mfa.token,
                     "--require-mfa-for-admins", "on"]) == 0
    assert re.search(r"^require_mfa_for_admins\s+True$", capsys.readouterr().out, re.M)
    [changed] = [e for e in audit(world, api) if e["action"] == "business.policy_changed"]
    assert (changed["before"]["require_mfa_for_admins"], changed["after"]["require_mfa_for_admins"]) == (False, True)
    assert changed["actor"].startswith("member:")

    # now: the admin without MFA is refused everywhere, with the fix in the detail (CLI too)
    assert is_mfa_refusal(api.get(policy, token=plain.token))
    assert cli.main(["members", b, "--api-url", stack.api_url, "--token", plain.token]) == 1
    assert "Sign out, sign in again with your second factor" in capsys.readouterr().err
    # a member who is no admin gets the usual refusal: MFA would not help them
    email = f"analyst-{uuid.uuid4().hex[:6]}@example.com"
    onboard(world, api, email, {"acct-1": "Analyst"})
    r = api.get(f"/businesses/{b}/members", token=world.people[email].token)
    assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
    # turning it off needs no more than what the route already asks (an admin with MFA)
    assert api.patch(policy, token=with_mfa.token, json={"require_mfa_for_admins": False}).status_code == 200
    assert api.get(policy, token=plain.token).status_code == 200
