"""A scripted session of 20 mixed changes through the HTTP API (invitations, acceptances, a
confirmation, a rejection, role changes, promotions, demotions, removals, by different admins).

"One entry per change": every request that changes something writes exactly ONE audit entry, in the
same transaction, stamped with the request's id (which the API returns as ``X-Request-Id``); a change
with several effects (confirming an invitation activates grants and the member) lists them in that one
entry. The onboarding workflow's own steps (sending the e-mail, the automatic confirmation of
non-Admin roles, notifying the inviter) are changes made by the system: their entries carry the
execution, not a request. Afterwards the access review, exported as CSV, matches the members' grants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.people import audit, members, wait_sent
from tests.world import World, invitation_link_token, make_world

pytestmark = pytest.mark.slow


class Session:
    def __init__(self, world: World, api: Any) -> None:
        self.world, self.api = world, api
        self.changes: list[tuple[str, str]] = []  # (request id, expected audit action)
        self.ids: dict[str, str] = {}
        self.invitations: dict[str, dict[str, Any]] = {}

    @property
    def b(self) -> str:
        return self.world.business_id

    def _record(self, r: Any, action: str, ok: int = 200) -> Any:
        assert r.status_code == ok, r.text
        self.changes.append((r.headers["X-Request-Id"], action))
        return r.json()

    def invite(self, name: str, grants: dict[str, str]) -> None:
        email = f"{name}@example.com"
        r = self.api.post(f"/businesses/{self.b}/invitations", token=self.world.admin.token, json={
            "email": email, "display_name": name.title(),
            "grants": [{"account_id": a, "role": role} for a, role in grants.items()]})
        inv = self._record(r, "invitation.created", ok=201)
        self.invitations[name], self.ids[name] = inv, inv["member_id"]
        wait_sent(self.world, self.api, inv["invitation_id"])

    def accept(self, name: str) -> None:
        person = self.world.person(f"{name}@example.com")
        link = invitation_link_token(self.world.stack, person.email)
        body = self._record(self.api.post("/invitations/accept", token=person.token, json={"token": link}),
                            "invitation.accepted")
        arn = self.invitations[name]["execution_arn"]
        if body["needs_confirmation"]:
            self.world.stack.wait_for_state(arn, "AwaitConfirmation")
        else:
            assert self.world.stack.wait_execution(arn)["status"] == "SUCCEEDED"

    def decide(self, name: str, verb: str) -> None:
        inv = self.invitations[name]
        r = self.api.post(f"/businesses/{self.b}/invitations/{inv['invitation_id']}/{verb}",
                          token=self.world.admin.token, json={})
        self._record(r, f"invitation.{verb}ed" if verb == "confirm" else "invitation.rejected")
        assert self.world.stack.wait_execution(inv["execution_arn"])["status"] == "SUCCEEDED"

    def set_role(self, name: str, account: str, role: str, action: str, by: str | None = None) -> None:
        token = self.world.people[f"{by}@example.com"].token if by else self.world.admin.token
        r = self.api.put(f"/businesses/{self.b}/members/{self.ids[name]}/grants/{account}", token=token,
                         json={"role": role})
        assert self._record(r, action)["changed"] is True

    def remove(self, name: str, account: str) -> None:
        r = self.api.delete(f"/businesses/{self.b}/members/{self.ids[name]}/grants/{account}",
                            token=self.world.admin.token)
        self._record(r, "grant.removed")


def script(s: Session) -> list[Callable[[], None]]:
    return [
        lambda: s.invite("alice", {"acct-1": "Editor", "acct-2": "Editor"}),
        lambda: s.accept("alice"),
        lambda: s.invite("bob", {"acct-1": "Admin"}),
        lambda: s.accept("bob"),
        lambda: s.decide("bob", "confirm"),
        lambda: s.invite("carol", {"acct-3": "Admin"}),
        lambda: s.accept("carol"),
        lambda: s.decide("carol", "reject"),
        lambda: s.set_role("alice", "acct-1", "Moderator", "grant.changed"),
        lambda: s.set_role("alice", "acct-3", "Analyst", "grant.added"),
        lambda: s.set_role("alice", "acct-1", "Editor", "grant.changed", by="bob"),
        lambda: s.remove("alice", "acct-2"),
        lambda: s.set_role("alice", "acct-2", "Admin", "grant.added"),
        lambda: s.set_role("bob", "acct-1", "Analyst", "grant.changed"),
        lambda: s.invite("dave", {"acct-1": "Analyst"}),
        lambda: s.accept("dave"),
        lambda: s.set_role("dave", "acct-2", "Editor", "grant.added", by="alice"),
        lambda: s.remove("bob", "acct-1"),
        lambda: s.set_role("dave", "acct-1", "Admin", "grant.changed"),
        lambda: s.set_role("alice", "acct-3", "Moderator", "grant.changed"),
    ]


WORKFLOW_STEPS = {"invitation.sent", "invitation.confirmed", "notification.sent"}


def test_twenty_changes_one_audit_entry_each_in_order_and_the_csv_review_matches(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=3)
    members(world, api)  # the first Admin's first sign-in links their login (its own entry, before the session)
    start = len(audit(world, api))
    session = Session(world, api)
    steps = script(session)
    assert len(steps) == 20
    for step in steps:
        step()

    trail = audit(world, api)[start:]
    by_request = [e for e in trail if e["request_id"]]
    assert [(e["request_id"], e["action"]) for e in by_request] == session.changes  # one each, in order
    assert len({e["request_id"] for e in by_request}) == 20
    system = [e for e in trail if not e["request_id"]]
    assert all(e["execution_arn"] and e["action"] in WORKFLOW_STEPS for e in system), system
    for entry in by_request:
        assert entry["actor"] and entry["at"]
        if entry["action"].startswith("grant."):
            assert entry["subject"] and (entry["before"] or entry["after"])
    confirmed = next(e for e in by_request if e["action"] == "invitation.confirmed")
    assert confirmed["after"]["grants"] == [{"account_id": "acct-1", "role": "Admin"}]
    assert confirmed["after"]["member"] == {"status": "ACTIVE"}

    r = api.get(f"/businesses/{world.business_id}/access-review", token=world.admin.token,
                headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    review = {(row["email"], row["account_id"]): row["role"] for row in rows if row["account_id"]}
    grants = {(m["email"], g["account_id"]): g["role"] for m in members(world, api) for g in m["grants"]}
    assert review == grants
    assert grants[("alice@example.com", "acct-2")] == "Admin"
    assert grants[("dave@example.com", "acct-1")] == "Admin"
    assert ("bob@example.com", "acct-1") not in grants
    assert not any(email == "carol@example.com" for email, _ in grants)
    alice = {row["account_id"]: row for row in rows if row["email"] == "alice@example.com"}
    assert alice["acct-1"]["invited_by"] == world.admin.email
    assert alice["acct-1"]["last_change_by"] == "bob@example.com"
    assert alice["acct-3"]["last_change_action"] == "grant.changed"
    assert r.text == api.get(f"/businesses/{world.business_id}/access-review", token=world.admin.token,
                             params={"format": "csv"}).text
