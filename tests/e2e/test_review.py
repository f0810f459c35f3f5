"""Access review campaigns end to end (issue 11, acceptance 2 — the backend's part): a campaign over
3 accounts and 10 grants, two reviewers deciding part of it, the halfway reminder once, the close at
the deadline (the stack's clock advanced; the real ASL's Wait states), removals applied and verified,
undecided grants following the policy, and the report (JSON and CSV) listing every grant once.

People (``A0`` is the business's first Admin; acct-1 has A0 as its only Admin, acct-3 has B as its
only Admin):

=====  =========================================  ==========================================
who    grants                                     reviewed by
=====  =========================================  ==========================================
A0     Admin acct-1, Admin acct-2, Editor acct-3  B+R2 (sole Admin of acct-1), R2, B
R2     Admin acct-2                               A0
B      Admin acct-3                               A0+R2 (sole Admin of acct-3)
E1     Editor acct-1, Analyst acct-2              A0; A0+R2
E2     Moderator acct-1, Analyst acct-3           A0; B
E3     Analyst acct-3                             B
=====  =========================================  ==========================================
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from accessflow.domain.policy import BusinessPolicy
from tests.e2e.people import admin_member_id, audit, members, onboard, set_role
from tests.world import eventually, mails_to, make_world

pytestmark = pytest.mark.slow


def _start(api: Any, world: Any, token: str, **body: Any) -> Any:
    return api.post(f"/businesses/{world.business_id}/reviews", token=token, json=body)


def _items(api: Any, world: Any, campaign_id: str, token: str, **params: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, limit="3") | ({"cursor": cursor} if cursor else {})
        r = api.get(f"/businesses/{world.business_id}/reviews/{campaign_id}/items", token=token, params=query)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out


def _decide(api: Any, world: Any, campaign_id: str, token: str, decisions: list[dict[str, Any]]) -> Any:
    return api.post(f"/businesses/{world.business_id}/reviews/{campaign_id}/decisions", token=token,
                    json={"decisions": decisions})


def _campaign(api: Any, world: Any, campaign_id: str) -> dict[str, Any]:
    r = api.get(f"/businesses/{world.business_id}/reviews/{campaign_id}", token=world.admin.token)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _grants(world: Any, api: Any) -> set[tuple[str, str, str]]:
    return {(m["email"].split("@")[0], g["account_id"], g["role"]) for m in members(world, api)
            for g in m["grants"]}


def test_a_campaign_from_start_to_report(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=3, policy=BusinessPolicy(review_undecided="remove"))
    b = world.business_id
    a0 = admin_member_id(world, api)
    r2 = onboard(world, api, "r2@example.com", {"acct-2": "Admin"})
    bb = onboard(world, api, "b@example.com", {"acct-3": "Admin"})
    e1 = onboard(world, api, "e1@example.com", {"acct-1": "Editor", "acct-2": "Analyst"})
    e2 = onboard(world, api, "e2@example.com", {"acct-1": "Moderator", "acct-3": "Analyst"})
    e3 = onboard(world, api, "e3@example.com", {"acct-3": "Analyst"})
    set_role(world, api, a0, "acct-3", "Editor")  # B is now acct-3's only Admin
    reviewer2, reviewer_b = world.people["r2@example.com"], world.people["b@example.com"]
    before = _grants(world, api)
    assert len(before) == 10
    sent_before = {p: len(mails_to(stack, p)) for p in (world.admin.email, reviewer2.email, reviewer_b.email)}

    r = _start(api, world, world.admin.token, name="Q4 review", duration_days=14)
    assert r.status_code == 201, r.text
    campaign = r.json()
    cid = campaign["campaign_id"]
    assert campaign["status"] == "OPEN" and campaign["undecided_policy"] == "remove"
    assert campaign["counts"] == {"items": 10, "decided": 0, "keep": 0, "remove": 0, "undecided": 10, "flagged": 0}
    assert _start(api, world, reviewer2.token).json()["type"].endswith("/review-in-progress")

    # the assignment: nobody reviews their own grant; sole Admins' own grants go to the other Admins
    pages = _items(api, world, cid, world.admin.token)  # pages of 3: every grant once across the pages
    items = {i["item_id"]: i for i in pages}
    assert len(pages) == len(items) == 10
    iid = {(i["member_id"], i["account_id"]): i["item_id"] for i in items.values()}
    reviewers = {k: {r["member_id"] for r in items[v]["reviewers"]} for k, v in iid.items()}
    assert all(member not in who for (member, _), who in reviewers.items())
    assert reviewers[(a0, "acct-1")] == {bb, r2} and items[iid[(a0, "acct-1")]]["escalated"]
    assert reviewers[(bb, "acct-3")] == {a0, r2}
    assert reviewers[(a0, "acct-2")] == {r2} and reviewers[(e3, "acct-3")] == {bb}
    assert reviewers[(e1, "acct-2")] == {a0, r2} and reviewers[(r2, "acct-2")] == {a0}
    assert {i["item_id"] for i in _items(api, world, cid, reviewer2.token, assigned_to="me")} == {
        iid[(a0, "acct-1")], iid[(a0, "acct-2")], iid[(bb, "acct-3")], iid[(e1, "acct-2")]}
    first = items[iid[(e1, "acct-1")]]
    assert (first["member_email"], first["account_name"], first["role"]) == ("e1@example.com", "Account acct-1",
                                                                             "Editor")
    assert first["idle"] is False and first["last_activity_at"] is not None  # accepting was their last activity

    # every reviewer was e-mailed at the start (the workflow's first step)
    for person in sent_before:
        eventually(lambda p=person: len(mails_to(stack, p)) == sent_before[p] + 1, timeout=30,
                   what=f"start e-mail to {person}")

    # two reviewers decide part of it, one by one and in bulk; refusals say why
    r = _decide(api, world, cid, world.admin.token, [
        {"item_id": iid[(e1, "acct-1")], "decision": "remove", "note": "left the team"},
        {"item_id": iid[(e2, "acct-1")], "decision": "remove"},
        {"item_id": iid[(r2, "acct-2")], "decision": "keep"},
        {"item_id": iid[(bb, "acct-3")], "decision": "keep"},
        {"item_id": iid[(a0, "acct-1")], "decision": "keep"},  # their own grant
    ])
    assert r.status_code == 200, r.text
    statuses = [(x["status"], (x["problem"] or {}).get("title")) for x in r.json()["results"]]
    assert statuses[:4] == [("recorded", None)] * 4
    assert statuses[4] == ("refused", "Not allowed")
    r = _decide(api, world, cid, world.admin.token, [{"item_id": iid[(e2, "acct-1")], "decision": "keep",
                                                      "note": "still moderates"}])  # changed their mind
    assert r.json()["results"][0]["status"] == "recorded"
    r = _decide(api, world, cid, reviewer2.token, [
        {"item_id": iid[(a0, "acct-2")], "decision": "keep"},
        {"item_id": iid[(e1, "acct-2")], "decision": "remove"},
        {"item_id": iid[(e2, "acct-3")], "decision": "keep"},  # not theirs: acct-3's Admin (B) reviews it
    ])
    assert [x["status"] for x in r.json()["results"]] == ["recorded", "recorded", "refused"]
    counts = _campaign(api, world, cid)["counts"]
    assert counts == {"items": 10, "decided": 6, "keep": 4, "remove": 2, "undecided": 4, "flagged": 0}
    assert {i["item_id"] for i in _items(api, world, cid, world.admin.token, decided="false")} == {
        iid[(a0, "acct-1")], iid[(a0, "acct-3")], iid[(e2, "acct-3")], iid[(e3, "acct-3")]}

    # halfway: one reminder to each reviewer who still has undecided grants (B and R2, not A0)
    before_reminder = {p: len(mails_to(stack, p)) for p in sent_before}
    stack.advance(timedelta(days=7, minutes=1), coalesce=True)
    for person in (reviewer_b.email, reviewer2.email):
        eventually(lambda p=person: len(mails_to(stack, p)) == before_reminder[p] + 1, timeout=30,
                   what=f"reminder to {person}")
    assert "Reminder" in mails_to(stack, reviewer_b.email)[-1].subject
    assert "4 grant(s)" in mails_to(stack, reviewer_b.email)[-1].subject
    stack.invoke("ReviewRemindFunction", {"business_id": b, "campaign_id": cid})  # a retried step sends nothing
    stack.advance(timedelta(days=1), coalesce=True)
    assert {p: len(mails_to(stack, p)) for p in sent_before} == before_reminder | {
        reviewer_b.email: before_reminder[reviewer_b.email] + 1, reviewer2.email: before_reminder[reviewer2.email] + 1}
    assert _campaign(api, world, cid)["reminder_sent_at"] is not None

    # the deadline: the execution closes the campaign
    stack.advance(timedelta(days=6), coalesce=True)
    execution = eventually(lambda: next((e for e in stack.executions("ReviewStateMachine")
                                         if e["name"] == cid and e["status"] != "RUNNING"), None),
                           timeout=60, what="the campaign's execution to end")
    assert execution["status"] == "SUCCEEDED"
    closed = _campaign(api, world, cid)
    assert closed["status"] == "CLOSED" and closed["closed_at"]
    assert closed["applied"] == {"revoked": 5, "already_revoked": 0, "changed_since_snapshot": 0,
                                 "kept_last_admin": 1, "kept": 4, "kept_undecided": 0}

    # removals applied (decided ones and undecided ones by the policy); acct-1 keeps its only Admin
    removed = {("e1", "acct-1", "Editor"), ("e1", "acct-2", "Analyst"), ("e2", "acct-3", "Analyst"),
               ("e3", "acct-3", "Analyst"), (world.admin.email.split("@")[0], "acct-3", "Editor")}
    assert _grants(world, api) == before - removed
    revoked = [e for e in audit(world, api) if e["action"] == "grant.revoked"
               and (e["after"] or {}).get("review_campaign_id") == cid]
    assert len(revoked) == 5

    # the report: every grant exactly once, with its decision, reviewer, note and what was applied
    r = api.get(f"/businesses/{b}/reviews/{cid}/report", token=reviewer2.token)
    assert r.status_code == 200, r.text
    rows = {row["item_id"]: row for row in r.json()["items"]}
    assert len(r.json()["items"]) == len(rows) == 10 and set(rows) == set(iid.values())
    outcome = {k: (rows[v]["outcome"], rows[v]["applied"]) for k, v in iid.items()}
    assert outcome == {
        (a0, "acct-1"): ("removed-undecided", "kept-last-admin"), (a0, "acct-2"): ("kept", "unchanged"),
        (a0, "acct-3"): ("removed-undecided", "revoked"), (r2, "acct-2"): ("kept", "unchanged"),
        (bb, "acct-3"): ("kept", "unchanged"), (e1, "acct-1"): ("removed", "revoked"),
        (e1, "acct-2"): ("removed", "revoked"), (e2, "acct-1"): ("kept", "unchanged"),
        (e2, "acct-3"): ("removed-undecided", "revoked"), (e3, "acct-3"): ("removed-undecided", "revoked")}
    paged, cursor = [], None
    while True:  # the same rows, page by page
        page = api.get(f"/businesses/{b}/reviews/{cid}/report", token=reviewer2.token,
                       params={"limit": "4"} | ({"cursor": cursor} if cursor else {})).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert paged == r.json()["items"]
    row = rows[iid[(e1, "acct-1")]]
    assert (row["decision"], row["decided_by"]["email"], row["note"]) == ("remove", world.admin.email,
                                                                          "left the team")
    assert row["decided_at"] and row["applied_at"]
    assert rows[iid[(e2, "acct-1")]]["note"] == "still moderates"

    r = api.get(f"/businesses/{b}/reviews/{cid}/report", token=world.admin.token, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(t["item_id"] for t in table) == sorted(rows)
    by_id = {t["item_id"]: t for t in table}
    assert (by_id[iid[(e1, "acct-1")]]["decided_by"], by_id[iid[(e1, "acct-1")]]["outcome"]) == (
        world.admin.email, "removed")

    # closed: decisions refused; a new campaign may start
    r = _decide(api, world, cid, world.admin.token, [{"item_id": iid[(e2, "acct-1")], "decision": "remove"}])
    assert r.status_code == 409 and r.json()["type"].endswith("/review-closed")
    listing = api.get(f"/businesses/{b}/reviews", token=world.admin.token).json()["campaigns"]
    assert [c["campaign_id"] for c in listing] == [cid]
    assert _start(api, world, reviewer2.token).status_code == 201


def test_a_sole_admins_own_grant_with_no_other_admin_is_flagged(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=1)
    onboard(world, api, "viewer@example.com", {"acct-1": "Analyst"})
    r = _start(api, world, world.admin.token, duration_days=1)
    assert r.status_code == 201, r.text
    cid = r.json()["campaign_id"]
    assert r.json()["counts"]["flagged"] == 1
    items = {i["member_email"]: i for i in _items(api, world, cid, world.admin.token)}
    own = items[world.admin.email]
    assert own["flagged"] is True and own["reviewers"] == []
    assert [r["email"] for r in items["viewer@example.com"]["reviewers"]] == [world.admin.email]
    r = _decide(api, world, cid, world.admin.token, [{"item_id": own["item_id"], "decision": "keep"}])
    assert r.json()["results"][0]["status"] == "refused"


def test_the_cli_starts_lists_decides_and_reports(stack: Any, api: Any) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    world = make_world(stack, accounts=2)
    member = onboard(world, api, "cli-member@example.com", {"acct-1": "Editor"})
    repo = Path(__file__).resolve().parents[2]
    env = os.environ | {"ACCESSFLOW_API_URL": stack.api_url, "ACCESSFLOW_TOKEN": world.admin.token,
                        "PYTHONPATH": os.pathsep.join([str(repo / "functions"), str(repo)])}

    def run(*argv: str) -> str:
        done = subprocess.run([sys.executable, "-m", "accessflow.cli", "review", world.business_id, *argv],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
        return done.stdout

    started = json.loads(run("start", "--name", "CLI review", "--days", "7", "--json"))
    cid = started["campaign_id"]
    assert started["counts"]["items"] == 3 and started["counts"]["flagged"] == 2  # the sole Admin's own grants
    assert cid in run("list") and "CLI review" in run("show", cid)
    mine = json.loads(run("items", cid, "--mine", "--json"))["items"]
    assert [(i["member_id"], i["account_id"]) for i in mine] == [(member, "acct-1")]
    decided = json.loads(run("decide", cid, "--remove", mine[0]["item_id"], "--note", "no longer posts", "--json"))
    assert decided["results"][0]["status"] == "recorded"
    assert "no longer posts" in run("items", cid, "--decided")
    assert len(json.loads(run("report", cid, "--json"))["items"]) == 3
    rows = list(csv.DictReader(io.StringIO(run("report", cid, "--csv"))))
    assert len(rows) == 3
    row = next(r for r in rows if r["item_id"] == mine[0]["item_id"])
    assert (row["decision"], row["note"], row["decided_by"], row["outcome"]) == (
        "remove", "no longer posts", world.admin.email, "")  # no outcome before the close


def test_grants_changed_during_the_campaign_are_reported_not_forced(stack: Any, api: Any) -> None:
    """A removal meets a grant an Admin changed after the snapshot (their newer decision stands) and
    one already removed: the close's transaction is cancelled, each removal is then applied alone."""
    world = make_world(stack, accounts=2)
    changed = onboard(world, api, "changed@example.com", {"acct-1": "Editor"})
    gone = onboard(world, api, "gone@example.com", {"acct-1": "Editor"})
    stays = onboard(world, api, "removed@example.com", {"acct-1": "Editor", "acct-2": "Analyst"})
    r = _start(api, world, world.admin.token, duration_days=1)
    cid = r.json()["campaign_id"]
    ids = [f"{m}.acct-1" for m in (changed, gone, stays)]
    r = _decide(api, world, cid, world.admin.token, [{"item_id": i, "decision": "remove"} for i in ids])
    assert [x["status"] for x in r.json()["results"]] == ["recorded"] * 3
    set_role(world, api, changed, "acct-1", "Moderator")
    assert api.delete(f"/businesses/{world.business_id}/members/{gone}/grants/acct-1",
                      token=world.admin.token).status_code == 200

    stack.advance(timedelta(days=1, minutes=1), coalesce=True)
    eventually(lambda: _campaign(api, world, cid)["status"] == "CLOSED", timeout=60, what="the close")
    rows = {row["item_id"]: row for row in api.get(f"/businesses/{world.business_id}/reviews/{cid}/report",
                                                   token=world.admin.token).json()["items"]}
    assert [(rows[i]["outcome"], rows[i]["applied"]) for i in ids] == [
        ("removed", "changed-since-snapshot"), ("removed", "already-revoked"), ("removed", "revoked")]
    assert _grants(world, api) >= {("changed", "acct-1", "Moderator"), ("removed", "acct-2", "Analyst")}
    assert not {g for g in _grants(world, api) if g[0] in ("gone", "removed") and g[1] == "acct-1"}
    assert _campaign(api, world, cid)["applied"]["changed_since_snapshot"] == 1
    # the default policy keeps what nobody decided, and says so
    assert (rows[f"{stays}.acct-2"]["outcome"], rows[f"{stays}.acct-2"]["applied"]) == ("kept-undecided", "unchanged")
