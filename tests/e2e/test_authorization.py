"""The authorization matrix, generated from the API's own route table.

Every operation of the OpenAPI document the app generates from its registered routes is called by
every kind of caller: an Admin, Editor, Moderator and Analyst of the account the request concerns
(``acct-1``; they hold nothing elsewhere), a member with no grant at all, and an Admin of another
business. Each route's entry in :data:`ROUTES` says which permission it requires and how to build a
valid request; a route without an entry fails the test, so no route is added unprotected silently.

A refusal must be the documented problem (403 inside the business, 404 for the other business, which
must learn nothing) and must leave the business exactly as it was: its members and grants, its
invitations and its audit trail read the same before and after.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Permission, Role, has_permission
from tests.e2e.people import audit, members, onboard, wait_sent
from tests.world import Person, World, invitation_link_token, make_world

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "acct-1"
CALLERS = ("Admin", "Editor", "Moderator", "Analyst", "no grant", "other business")


# --- what each route requires ----------------------------------------------------------------------

PUBLIC = "public"  # no login needed; the same answer for everyone
ANY_LOGIN = "any login"  # about the caller themselves (GET /me): every login, no business to refuse
INVITEE = "invitee"  # any login, but only the invited person (by verified e-mail): nobody in the matrix
ADMIN_OF_TARGET = "admin of the account concerned"  # domain: require_admin_of
ADMIN_OF_ANY = "admin of any account of the business"  # domain: require_admin_of_any
ADMIN_OF_ALL = "admin of every account of the business"  # the business policy: no caller below is (refusals)


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    after: Callable[[Any], None] | None = None  # waits for the asynchronous effects of an allowed call


@dataclass
class Rule:
    requires: str
    build: Callable[[Scene], Call]
    ok: int = 200
    consumes: bool = False  # an allowed call uses up its target: build a fresh one for the next call


@dataclass
class Scene:
    world: World
    api: Any
    callers: dict[str, Person]
    target_member: str
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def b(self) -> str:
        return self.world.business_id

    def invitation(self, *, accepted: bool) -> dict[str, Any]:
        """A fresh invitation on acct-1 (pending, or accepted and waiting for an Admin's decision)."""
        email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
        r = self.api.post(f"/businesses/{self.b}/invitations", token=self.world.admin.token,
                          json={"email": email, "display_name": "Invitee",
                                "grants": [{"account_id": ACCOUNT, "role": "Analyst"}]})
        assert r.status_code == 201, r.text
        inv = r.json() | {"link": None}
        wait_sent(self.world, self.api, inv["invitation_id"])
        inv["link"] = invitation_link_token(self.world.stack, email)
        if accepted:
            invitee = self.world.person(email)
            r = self.api.post("/invitations/accept", token=invitee.token, json={"token": inv["link"]})
            assert r.status_code == 200, r.text
            self.world.stack.wait_for_state(inv["execution_arn"], "AwaitConfirmation")
        return inv

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def _settle(scene: Scene, inv: dict[str, Any]) -> Callable[[Any], None]:
    return lambda _r: scene.world.stack.wait_execution(inv["execution_arn"])


def _invite(s: Scene) -> Call:
    def after(r: Any) -> None:
        wait_sent(s.world, s.api, r.json()["invitation_id"])

    return Call("POST", f"/businesses/{s.b}/invitations", json={
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "display_name": "New",
        "grants": [{"account_id": ACCOUNT, "role": "Analyst"}]}, after=after)


def _decide(verb: str) -> Callable[[Scene], Call]:
    def build(s: Scene) -> Call:
        inv = s.cached(f"accepted-{verb}", lambda: s.invitation(accepted=True))
        body = {} if verb == "confirm" else {"reason": "not needed"}
        return Call("POST", f"/businesses/{s.b}/invitations/{inv['invitation_id']}/{verb}", json=body,
                    after=_settle(s, inv))
    return build


def _set_role(s: Scene) -> Call:
    current = {g["account_id"]: g["role"] for m in members(s.world, s.api) if m["member_id"] == s.target_member
               for g in m["grants"]}
    role = "Moderator" if current.get(ACCOUNT) == "Editor" else "Editor"
    return Call("PUT", f"/businesses/{s.b}/members/{s.target_member}/grants/{ACCOUNT}", json={"role": role})


def _remove_grant(s: Scene) -> Call:
    held = any(g["account_id"] == ACCOUNT for m in members(s.world, s.api) if m["member_id"] == s.target_member
               for g in m["grants"])
    if not held:
        r = s.api.put(f"/businesses/{s.b}/members/{s.target_member}/grants/{ACCOUNT}", token=s.world.admin.token,
                      json={"role": "Analyst"})
        assert r.status_code == 200, r.text
    return Call("DELETE", f"/businesses/{s.b}/members/{s.target_member}/grants/{ACCOUNT}")


def _move(s: Scene) -> Call:
    """A mover (issue 11) lowering the target's role on acct-1: applied at once (200)."""
    held = {g["account_id"]: g["role"] for m in members(s.world, s.api) if m["member_id"] == s.target_member
            for g in m["grants"]}
    if held != {ACCOUNT: "Editor"}:
        r = s.api.put(f"/businesses/{s.b}/members/{s.target_member}/grants/{ACCOUNT}", token=s.world.admin.token,
                      json={"role": "Editor"})
        assert r.status_code == 200, r.text
    return Call("PUT", f"/businesses/{s.b}/members/{s.target_member}/grants",
                json={"grants": [{"account_id": ACCOUNT, "role": "Analyst"}]},
                after=lambda r: s.world.stack.wait_execution(r.json()["execution_arn"]))


def _pending(s: Scene) -> dict[str, Any]:
    return s.cached("pending", lambda: s.invitation(accepted=False))  # type: ignore[no-any-return]


def _leaver(s: Scene) -> str:
    """A member holding Analyst on acct-1 (cached until an allowed offboarding consumes it)."""
    return s.cached("leaver", lambda: onboard(  # type: ignore[no-any-return]
        s.world, s.api, f"leaver-{uuid.uuid4().hex[:8]}@example.com", {ACCOUNT: "Analyst"}))


def _offboarding_done(s: Scene, member_id: str) -> Callable[[Any], None]:
    def wait(_r: Any) -> None:
        for _ in range(600):
            r = s.api.get(f"/businesses/{s.b}/members/{member_id}/offboarding", token=s.world.admin.token)
            if r.status_code == 200 and r.json()["status"] != "IN_PROGRESS":
                return
            time.sleep(0.05)
        raise AssertionError(f"the offboarding of {member_id} did not finish")
    return wait


def _offboard(s: Scene) -> Call:
    member_id = _leaver(s)
    return Call("POST", f"/businesses/{s.b}/members/{member_id}/offboard", json={"reason": "left"},
                after=_offboarding_done(s, member_id))


def _offboarded(s: Scene) -> str:
    def make() -> str:
        member_id = onboard(s.world, s.api, f"gone-{uuid.uuid4().hex[:8]}@example.com", {ACCOUNT: "Analyst"})
        r = s.api.post(f"/businesses/{s.b}/members/{member_id}/offboard", token=s.world.admin.token,
                       json={"reason": "left"})
        assert r.status_code == 202, r.text
        _offboarding_done(s, member_id)(r)
        return member_id
    return s.cached("offboarded", make)  # type: ignore[no-any-return]


def _fresh_pending(s: Scene, verb: str, *, json: Any = None, wait: timedelta | None = None) -> Call:
    inv = s.cached(f"pending-{verb}", lambda: s.invitation(accepted=False))
    if wait:
        s.world.stack.advance(wait)  # past the resend interval
    return Call("POST", f"/businesses/{s.b}/invitations/{inv['invitation_id']}/{verb}", json=json,
                after=lambda _r: wait_sent(s.world, s.api, inv["invitation_id"]) if verb == "resend"
                else s.world.stack.wait_execution(inv["execution_arn"]))


def _reissue(s: Scene) -> Call:
    def expired() -> dict[str, Any]:
        from accessflow.adapters.workflow import StepFunctionsWorkflow
        from accessflow.store import repository as store
        from accessflow.usecases import expiry

        inv = s.invitation(accepted=False)
        due = store.get_invitation(s.b, inv["invitation_id"])
        assert due is not None  # expired by the sweep's use case with its "now" past the expiry
        expiry.expire(s.b, inv["invitation_id"], workflow=StepFunctionsWorkflow(),
                      ctx=store.Context(actor="system:sweep"), now=due.expires_at + timedelta(seconds=1))
        s.world.stack.wait_execution(inv["execution_arn"])
        return inv

    inv = s.cached("expired", expired)
    return Call("POST", f"/businesses/{s.b}/invitations/{inv['invitation_id']}/reissue",
                after=lambda r: wait_sent(s.world, s.api, r.json()["invitation_id"]))


def _account_admin(s: Scene) -> Person:
    """Who adds accounts in the matrix: the Admin caller (the MFA scene has none: its business's Admin)."""
    return s.callers.get("Admin", s.world.admin)


def _retire_again(s: Scene) -> Callable[[Any], None]:
    """An account the matrix added is retired again at once, so the business's first Admin stays Admin
    of every account (the routes that need Admin of every account are tested in the same scene)."""
    def after(r: Any) -> None:
        done = s.api.post(f"/businesses/{s.b}/accounts/{r.json()['account_id']}/retire",
                          token=_account_admin(s).token, json={"reason": "test account"})
        assert done.status_code == 200, done.text
    return after


def _add_account(s: Scene) -> Call:
    return Call("POST", f"/businesses/{s.b}/accounts", json={
        "account_id": f"acct-new-{uuid.uuid4().hex[:6]}", "display_name": "New account", "platform": "tiktok"},
        after=_retire_again(s))


def _retire(s: Scene) -> Call:
    """An account added by the Admin caller (see :func:`_account_admin`): they are its only holder, so
    they may retire it; every other caller holds nothing on it. The rule does not consume it: after the
    Admin retired it the others are refused the same way, and no active account is left behind."""
    def make() -> str:
        account_id = f"acct-old-{uuid.uuid4().hex[:6]}"
        r = s.api.post(f"/businesses/{s.b}/accounts", token=_account_admin(s).token,
                       json={"account_id": account_id, "display_name": "Old account", "platform": "instagram"})
        assert r.status_code == 201, r.text
        return account_id

    account_id = s.cached("retirable", make)
    return Call("POST", f"/businesses/{s.b}/accounts/{account_id}/retire", json={"reason": "closed"})


def _scim_token(s: Scene) -> str:
    """A SCIM token created by the business's first Admin (Admin of every account)."""
    def make() -> str:
        r = s.api.post(f"/businesses/{s.b}/scim-tokens", token=s.world.admin.token,
                       json={"name": f"idp-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        return str(r.json()["token_id"])
    return s.cached("scim-token", make)  # type: ignore[no-any-return]


def _bundle(s: Scene) -> str:
    def make() -> str:
        r = s.api.post(f"/businesses/{s.b}/bundles", token=s.world.admin.token,
                       json={"display_name": f"bundle-{uuid.uuid4().hex[:8]}",
                             "grants": [{"account_id": ACCOUNT, "role": "Analyst"}]})
        assert r.status_code == 201, r.text
        return str(r.json()["group_id"])
    return s.cached("bundle", make)  # type: ignore[no-any-return]


def _reinstate(s: Scene) -> Call:
    """Issue 11: a member offboarded by the Admin (Analyst on acct-1), reinstated: an invitation."""
    member_id = _offboarded(s)
    return Call("POST", f"/businesses/{s.b}/members/{member_id}/reinstate",
                after=lambda r: wait_sent(s.world, s.api, r.json()["invitation_id"]))


def _import(s: Scene) -> str:
    """An import by the business's first Admin whose only row is refused (unknown account): complete at once."""
    def make() -> str:
        r = s.api.post(f"/businesses/{s.b}/invitations:bulk", token=s.world.admin.token, json={"rows": [
            {"email": "nobody@example.com", "name": "Nobody", "account": "acct-none", "role": "Analyst"}]})
        assert r.status_code == 202, r.text
        return str(r.json()["import_id"])
    return s.cached("import", make)  # type: ignore[no-any-return]


def _review(s: Scene) -> str:
    """The business's open access review (started by its first Admin; one may already be open)."""
    def make() -> str:
        r = s.api.post(f"/businesses/{s.b}/reviews", token=s.world.admin.token, json={"name": "matrix"})
        if r.status_code == 201:
            return str(r.json()["campaign_id"])
        assert r.status_code == 409, r.text
        listing = s.api.get(f"/businesses/{s.b}/reviews", token=s.world.admin.token).json()["campaigns"]
        return str(next(c["campaign_id"] for c in listing if c["status"] == "OPEN"))
    return s.cached("review", make)  # type: ignore[no-any-return]


def _review_call(method: str, suffix: str = "", **kwargs: Any) -> Callable[[Scene], Call]:
    return lambda s: Call(method, f"/businesses/{s.b}/reviews/{_review(s)}{suffix}", **kwargs)


B = "/businesses/{business_id}"
ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/openapi.json"): Rule(PUBLIC, lambda s: Call("GET", "/openapi.json")),
    ("GET", "/accept"): Rule(PUBLIC, lambda s: Call("GET", "/accept", params={"token": _pending(s)["link"]})),
    ("GET", "/accept/callback"): Rule(PUBLIC, lambda s: Call("GET", "/accept/callback")),
    ("GET", "/console"): Rule(PUBLIC, lambda s: Call("GET", "/console")),
    ("GET", "/console/callback"): Rule(PUBLIC, lambda s: Call("GET", "/console/callback")),
    ("GET", "/assets/{file}"): Rule(PUBLIC, lambda s: Call("GET", "/assets/app.css")),
    ("POST", "/invitations/accept"): Rule(
        INVITEE, lambda s: Call("POST", "/invitations/accept", json={"token": _pending(s)["link"]})),
    ("POST", f"{B}/invitations"): Rule(ADMIN_OF_TARGET, _invite, ok=201),
    ("GET", f"{B}/invitations"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/invitations")),
    ("GET", f"{B}/invitations/{{invitation_id}}"): Rule(
        ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/invitations/{_pending(s)['invitation_id']}")),
    ("POST", f"{B}/invitations/{{invitation_id}}/confirm"): Rule(ADMIN_OF_TARGET, _decide("confirm"), consumes=True),
    ("POST", f"{B}/invitations/{{invitation_id}}/reject"): Rule(ADMIN_OF_TARGET, _decide("reject"), consumes=True),
    ("POST", f"{B}/invitations/{{invitation_id}}/resend"): Rule(
        ADMIN_OF_TARGET, lambda s: _fresh_pending(s, "resend", wait=timedelta(seconds=61)), consumes=True),
    ("POST", f"{B}/invitations/{{invitation_id}}/revoke"): Rule(
        ADMIN_OF_TARGET, lambda s: _fresh_pending(s, "revoke", json={"reason": "typo"}), consumes=True),
    ("POST", f"{B}/invitations/{{invitation_id}}/reissue"): Rule(ADMIN_OF_TARGET, _reissue, ok=201, consumes=True),
    ("GET", f"{B}/policy"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/policy")),
    ("GET", f"{B}/review-schedule"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/review-schedule")),
    ("PATCH", f"{B}/policy"): Rule(
        ADMIN_OF_ALL, lambda s: Call("PATCH", f"/businesses/{s.b}/policy", json={"invitation_lifetime_days": 3})),
    ("GET", f"{B}/members"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/members")),
    ("PUT", f"{B}/members/{{member_id}}/grants/{{account_id}}"): Rule(ADMIN_OF_TARGET, _set_role),
    ("DELETE", f"{B}/members/{{member_id}}/grants/{{account_id}}"): Rule(ADMIN_OF_TARGET, _remove_grant),
    ("PUT", f"{B}/members/{{member_id}}/grants"): Rule(ADMIN_OF_TARGET, _move),
    ("POST", f"{B}/members/{{member_id}}/offboard"): Rule(ADMIN_OF_TARGET, _offboard, ok=202, consumes=True),
    # An Admin passes authorization and learns the offboarding completed (409: nothing to re-run).
    ("POST", f"{B}/members/{{member_id}}/offboarding/rerun"): Rule(
        ADMIN_OF_TARGET, lambda s: Call("POST", f"/businesses/{s.b}/members/{_offboarded(s)}/offboarding/rerun",
                                        json={"reason": "fixed"}), ok=409),
    ("GET", f"{B}/members/{{member_id}}/offboarding"): Rule(
        ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/members/{_offboarded(s)}/offboarding")),
    ("GET", f"{B}/audit"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/audit")),
    ("GET", "/me"): Rule(ANY_LOGIN, lambda s: Call("GET", "/me")),
    ("GET", f"{B}/accounts"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/accounts")),
    ("POST", f"{B}/accounts"): Rule(ADMIN_OF_ANY, _add_account, ok=201),
    ("PATCH", f"{B}/accounts/{{account_id}}"): Rule(
        ADMIN_OF_TARGET, lambda s: Call("PATCH", f"/businesses/{s.b}/accounts/{ACCOUNT}",
                                        json={"display_name": "Account one (renamed)"})),
    ("POST", f"{B}/accounts/{{account_id}}/retire"): Rule(ADMIN_OF_TARGET, _retire),
    ("POST", f"{B}/scim-tokens"): Rule(ADMIN_OF_ALL, lambda s: Call(
        "POST", f"/businesses/{s.b}/scim-tokens", json={"name": f"idp-{uuid.uuid4().hex[:8]}"}), ok=201),
    ("GET", f"{B}/scim-tokens"): Rule(ADMIN_OF_ALL, lambda s: Call("GET", f"/businesses/{s.b}/scim-tokens")),
    ("POST", f"{B}/scim-tokens/{{token_id}}/rotate"): Rule(
        ADMIN_OF_ALL, lambda s: Call("POST", f"/businesses/{s.b}/scim-tokens/{_scim_token(s)}/rotate")),
    ("DELETE", f"{B}/scim-tokens/{{token_id}}"): Rule(
        ADMIN_OF_ALL, lambda s: Call("DELETE", f"/businesses/{s.b}/scim-tokens/{_scim_token(s)}"), consumes=True),
    ("GET", f"{B}/bundles"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/bundles")),
    ("POST", f"{B}/bundles"): Rule(ADMIN_OF_TARGET, lambda s: Call("POST", f"/businesses/{s.b}/bundles", json={
        "display_name": f"bundle-{uuid.uuid4().hex[:8]}", "grants": [{"account_id": ACCOUNT, "role": "Editor"}]}),
        ok=201),
    ("PUT", f"{B}/bundles/{{group_id}}/grants"): Rule(
        ADMIN_OF_TARGET, lambda s: Call("PUT", f"/businesses/{s.b}/bundles/{_bundle(s)}/grants", json={
            "grants": [{"account_id": ACCOUNT, "role": "Editor"}]})),
    # issue 11: bulk. A dry run (writes nothing) of one row on acct-1; the import: one whose row is refused.
    ("POST", f"{B}/invitations:bulk"): Rule(ADMIN_OF_ANY, lambda s: Call(
        "POST", f"/businesses/{s.b}/invitations:bulk", json={"dry_run": True, "rows": [
            {"email": "bulk@example.com", "name": "Bulk", "account": ACCOUNT, "role": "Analyst"}]})),
    ("GET", f"{B}/imports/{{import_id}}"): Rule(
        ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/imports/{_import(s)}")),
    ("GET", f"{B}/access-review"): Rule(
        ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/access-review", params={"format": "csv"})),
    # --- issue 11: guard. An Admin passes authorization; with nothing held, release/cancel answer 409.
    ("GET", f"{B}/offboardings"): Rule(
        ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/offboardings", params={"status": "HELD"})),
    ("POST", f"{B}/offboardings/release"): Rule(
        ADMIN_OF_ANY, lambda s: Call("POST", f"/businesses/{s.b}/offboardings/release", json={})),
    ("POST", f"{B}/members/{{member_id}}/offboarding/release"): Rule(
        ADMIN_OF_TARGET, lambda s: Call("POST", f"/businesses/{s.b}/members/{_offboarded(s)}/offboarding/release",
                                        json={}), ok=409),
    ("POST", f"{B}/members/{{member_id}}/offboarding/cancel"): Rule(
        ADMIN_OF_TARGET, lambda s: Call("POST", f"/businesses/{s.b}/members/{_offboarded(s)}/offboarding/cancel",
                                        json={"reason": "HR error"}), ok=409),
    ("POST", f"{B}/members/{{member_id}}/reinstate"): Rule(ADMIN_OF_TARGET, _reinstate, ok=201, consumes=True),
    # --- issue 11: access review campaigns. An Admin passes authorization and learns a campaign is
    # already open (409); who decides which grant is the campaign's assignment (tests/e2e/test_review.py).
    ("POST", f"{B}/reviews"): Rule(ADMIN_OF_ANY, lambda s: (_review(s), Call(
        "POST", f"/businesses/{s.b}/reviews", json={"duration_days": 3}))[1], ok=409),
    ("GET", f"{B}/reviews"): Rule(ADMIN_OF_ANY, lambda s: Call("GET", f"/businesses/{s.b}/reviews")),
    ("GET", f"{B}/reviews/{{campaign_id}}"): Rule(ADMIN_OF_ANY, _review_call("GET")),
    ("GET", f"{B}/reviews/{{campaign_id}}/items"): Rule(
        ADMIN_OF_ANY, _review_call("GET", "/items", params={"assigned_to": "me"})),
    ("POST", f"{B}/reviews/{{campaign_id}}/decisions"): Rule(ADMIN_OF_ANY, lambda s: _review_call(
        "POST", "/decisions", json={"decisions": [{"item_id": f"{s.target_member}.{ACCOUNT}",
                                                   "decision": "keep"}]})(s)),
    ("GET", f"{B}/reviews/{{campaign_id}}/report"): Rule(
        ADMIN_OF_ANY, _review_call("GET", "/report", params={"format": "csv"})),
}


def allowed(requires: str, caller: str) -> bool:
    """The matrix, read from the domain's permission table (not restated here)."""
    if requires in (PUBLIC, ANY_LOGIN):
        return True
    if requires in (INVITEE, ADMIN_OF_ALL) or caller in ("no grant", "other business"):
        return False
    return has_permission(Role(caller), Permission.MANAGE_MEMBERS)


def refusal_status(requires: str, caller: str) -> int:
    if requires == INVITEE:
        return 403  # the login's e-mail is not the invited one (not business-scoped: no 404 to give)
    return 404 if caller == "other business" else 403


# --- the route table of the app, and of the template ------------------------------------------------


def app_operations(api: Any) -> list[tuple[str, str]]:
    """The operations of the OpenAPI document the running app generates from its route table."""
    r = api.get("/openapi.json")
    assert r.status_code == 200, r.text
    doc = r.json()
    return sorted((method.upper(), path) for path, item in doc["paths"].items() for method in item)


def template_operations() -> list[tuple[str, str]]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=Loader)
    # every function running the API's handler (today only ApiFunction)
    events = [e for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
              and r["Properties"].get("Handler") == "accessflow.handlers.api.handler"
              for e in r["Properties"].get("Events", {}).values()]
    return sorted((e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events
                  if e["Type"] == "HttpApi")


def test_every_route_has_a_rule_and_is_served_by_the_template(api: Any) -> None:
    ops = app_operations(api)
    missing = [op for op in ops if op not in ROUTES]
    assert not missing, f"routes with no authorization rule (add them to ROUTES): {missing}"
    stale = [op for op in ROUTES if op not in ops]
    assert not stale, f"rules for routes the app does not have: {stale}"
    assert ops == template_operations(), "template.yaml's HttpApi events must be exactly the app's routes"


# --- the matrix ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene(stack: Any, api: Any) -> Scene:
    policy = BusinessPolicy(auto_confirm_non_admin=False)
    world = make_world(stack, accounts=2, policy=policy)
    callers: dict[str, Person] = {}
    for role in ("Admin", "Editor", "Moderator", "Analyst"):
        email = f"{role.lower()}@example.com"
        onboard(world, api, email, {ACCOUNT: role})
        callers[role] = world.people[email]
    onboard(world, api, "nogrant@example.com", {})
    callers["no grant"] = world.people["nogrant@example.com"]
    other = make_world(stack, accounts=2)
    callers["other business"] = other.admin
    target = onboard(world, api, "target@example.com", {ACCOUNT: "Analyst"})
    return Scene(world, api, callers, target)


def state(s: Scene) -> dict[str, Any]:
    r = s.api.get(f"/businesses/{s.b}/invitations", token=s.world.admin.token)
    assert r.status_code == 200, r.text
    return {"members": members(s.world, s.api), "invitations": r.json()["invitations"],
            "audit": audit(s.world, s.api)}


@pytest.mark.parametrize("operation", sorted(ROUTES), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(scene: Scene, operation: tuple[str, str]) -> None:
    rule = ROUTES[operation]
    seen: dict[str, int] = {}
    for caller in CALLERS:
        call = rule.build(scene)
        before = state(scene)
        r = scene.api.request(call.method, call.path, token=scene.callers[caller].token, json=call.json,
                              params=call.params)
        seen[caller] = r.status_code
        if allowed(rule.requires, caller):
            assert r.status_code == rule.ok, f"{caller}: {r.status_code} {r.text}"
            if call.after:
                call.after(r)
            if rule.consumes:
                scene.cache.clear()
            if rule.requires in (PUBLIC, ANY_LOGIN):
                assert state(scene) == before, f"{caller}: a read-only route changed something"
        else:
            assert r.status_code == refusal_status(rule.requires, caller), f"{caller}: {r.status_code} {r.text}"
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
            assert state(scene) == before, f"{caller}: refused, but the state changed"
    expected = {c: rule.ok if allowed(rule.requires, c) else refusal_status(rule.requires, c) for c in CALLERS}
    assert seen == expected
    print(json.dumps({" ".join(operation): seen}))
