"""Issue 11 checked from outside: every new entry point given bad input, refusals in the documented
problem+json shape, idempotency and races, through the HTTP API only (docs/bulk.md, docs/movers.md,
docs/offboarding.md, docs/reviews.md)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.people import members, onboard
from tests.world import World, eventually, make_world

pytestmark = pytest.mark.slow

PROBLEM = "https://accessflow.dev/problems/"


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=3)


def problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["type"] == PROBLEM + slug, body
    assert body["status"] == status and body["title"] and body["detail"] and body.get("instance"), body
    return body


# --- bulk --------------------------------------------------------------------------------------------


def test_bulk_csv_with_bom_crlf_quotes_header_case_and_case_only_duplicates(world: World, api: Any) -> None:
    b = world.business_id
    text = ("\ufeff Email ,NAME,Account,ROLE\r\n"
            "Ann.Doe@Example.com,\"Doe, Ann\",acct-1,editor\r\n"
            "\r\n"
            "ann.doe@example.COM,\"Doe, Ann\",acct-1,Editor\r\n"
            "\"bo@example.com\",\"Bo \"\"B\"\" Chen\",acct-2,Analyst\r\n")
    r = api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token, json={"csv": text, "dry_run": True})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [x["status"] for x in rows] == ["valid", "duplicate", "valid"], rows
    assert rows[0]["email"] == "ann.doe@example.com" and rows[0]["name"] == "Doe, Ann"
    assert rows[2]["name"] == 'Bo "B" Chen'
    assert r.json()["counts"]["invitations"] == 2


def test_bulk_row_with_more_cells_than_the_header_is_not_silently_cut(world: World, api: Any) -> None:
    """An unquoted comma in a name shifts the cells: the row must not be imported as if fine."""
    b = world.business_id
    text = "email,name,account,role\nx1@example.com,Ann,acct-1,Editor,surplus\n"
    r = api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token, json={"csv": text, "dry_run": True})
    body = problem(r, 400, "invalid-input")
    assert "Row 1 has more cells than the header" in body["detail"], body


@pytest.mark.parametrize("body", [{}, {"csv": 5}, {"rows": "x"}, {"csv": "a", "rows": []}, {"csv": None},
                                  {"rows": [{"email": 1}]}, {"rows": []}, {"csv": "email,name,account,role\n",
                                                                           "import_id": "bad id!"},
                                  {"csv": "email,name,account,role\na@b.c,A,acct-1,Editor\n", "dry_run": "maybe"},
                                  {"csv": "email,name,account,role\na@b.c,A,acct-1,Editor\n", "extra": 1}])
def test_bulk_bad_bodies_are_400_problems(world: World, api: Any, body: dict[str, Any]) -> None:
    r = api.post(f"/businesses/{world.business_id}/invitations:bulk", token=world.admin.token, json=body)
    problem(r, 400, "invalid-input")


def test_bulk_not_json_and_oversized_are_400(world: World, api: Any) -> None:
    b = world.business_id
    r = api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token, data=b"\xff\xfe not json",
                 headers={"content-type": "application/json"})
    problem(r, 400, "invalid-input")
    big = "email,name,account,role\n" + "".join(f"p{i}@example.com,P {i},acct-1,Editor\n" for i in range(1001))
    body = problem(api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token,
                            json={"csv": big, "dry_run": True}), 400, "invalid-input")
    assert "1000" in body["detail"] or "1,000" in body["detail"]


def test_bulk_unknown_import_is_404_and_other_rows_under_same_id_409(world: World, api: Any) -> None:
    b = world.business_id
    problem(api.get(f"/businesses/{b}/imports/nope-{uuid.uuid4().hex[:6]}", token=world.admin.token), 404,
            "not-found")
    iid = f"qa-{uuid.uuid4().hex[:8]}"
    one = "email,name,account,role\nqa1-" + iid + "@example.com,Q,acct-1,Analyst\n"
    r = api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token, json={"csv": one, "import_id": iid})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/businesses/{b}/imports/{iid}"
    r2 = api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token, json={"csv": one, "import_id": iid})
    assert r2.status_code == 200, r2.text
    other = one + "qa2-" + iid + "@example.com,Q2,acct-1,Analyst\n"
    problem(api.post(f"/businesses/{b}/invitations:bulk", token=world.admin.token,
                     json={"csv": other, "import_id": iid}), 409, "conflict")


# --- mover ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mover(world: World, api: Any) -> str:
    return onboard(world, api, f"mover-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor", "acct-2": "Editor"})


@pytest.mark.parametrize("body,status,slug", [
    ({}, 400, "invalid-input"),
    ({"grants": "acct-1:Editor"}, 400, "invalid-input"),
    ({"grants": [{"account_id": "acct-1"}]}, 400, "invalid-input"),
    ({"grants": [{"account_id": "acct-1", "role": "Owner"}]}, 400, "invalid-input"),
    ({"grants": []}, 400, "empty-grants"),
    ({"grants": [{"account_id": "acct-9", "role": "Editor"}]}, 400, "unknown-account"),
    ({"grants": [{"account_id": "acct-1", "role": "Editor"}, {"account_id": "acct-1", "role": "Analyst"}]}, 400,
     "invalid-input"),
])
def test_move_bad_input(world: World, api: Any, mover: str, body: dict[str, Any], status: int, slug: str) -> None:
    before = members(world, api)
    r = api.put(f"/businesses/{world.business_id}/members/{mover}/grants", token=world.admin.token, json=body)
    problem(r, status, slug)
    assert members(world, api) == before


def test_move_unknown_member_is_404(world: World, api: Any) -> None:
    r = api.put(f"/businesses/{world.business_id}/members/nobody-{uuid.uuid4().hex[:6]}/grants",
                token=world.admin.token, json={"grants": [{"account_id": "acct-1", "role": "Editor"}]})
    problem(r, 404, "unknown-member")


def test_two_admins_moving_the_same_member_at_once_one_proposal(world: World, api: Any) -> None:
    """Through the HTTP API (the local API runs one request per function at a time: the true race is
    tests/integration/test_mover_race.py)."""
    m = onboard(world, api, f"race-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Analyst"})
    out = _race(*[lambda a=a: api.put(f"/businesses/{world.business_id}/members/{m}/grants", token=world.admin.token,
                                      json={"grants": [{"account_id": "acct-1", "role": "Analyst"},
                                                       {"account_id": a, "role": "Admin"}]})
                  for a in ("acct-2", "acct-3")])
    codes = sorted(r.status_code for r in out)
    assert codes == [202, 409], [r.text for r in out]  # one waiting move per member (docs/movers.md)
    problem(next(r for r in out if r.status_code == 409), 409, "change-pending")
    waiting = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                      params={"status": "ACCEPTED"}).json()["invitations"]
    assert len([i for i in waiting if i["member_id"] == m]) == 1, waiting


# --- leaver guard and reinstate --------------------------------------------------------------------------


def test_release_and_cancel_refusals(world: World, api: Any, mover: str) -> None:
    b, t = world.business_id, world.admin.token
    ghost = f"ghost-{uuid.uuid4().hex[:6]}"
    problem(api.post(f"/businesses/{b}/members/{ghost}/offboarding/release", token=t, json={}), 404, "not-found")
    problem(api.post(f"/businesses/{b}/members/{ghost}/offboarding/cancel", token=t, json={"reason": "x"}), 404,
            "not-found")
    problem(api.post(f"/businesses/{b}/members/{mover}/offboarding/cancel", token=t, json={}), 400, "invalid-input")
    problem(api.post(f"/businesses/{b}/members/{mover}/offboarding/cancel", token=t, json={"reason": ""}), 400,
            "invalid-input")
    problem(api.post(f"/businesses/{b}/members/{mover}/offboarding/release", token=t, json={"reason": 5}), 400,
            "invalid-input")
    # a member with no offboarding at all: 404 (docs/offboarding.md)
    problem(api.post(f"/businesses/{b}/members/{mover}/offboarding/release", token=t, json={}), 404, "not-found")
    problem(api.post(f"/businesses/{b}/members/{mover}/offboarding/cancel", token=t, json={"reason": "x"}), 404,
            "not-found")
    r = api.post(f"/businesses/{b}/offboardings/release", token=t, json={})
    assert r.status_code == 200 and r.json() == {"released": []}, r.text
    r = api.get(f"/businesses/{b}/offboardings?status=HELD", token=t)
    assert r.status_code == 200 and r.json()["offboardings"] == [], r.text
    r = api.get(f"/businesses/{b}/offboardings?status=bogus", token=t)
    assert r.status_code in (200, 400), r.text


def test_reinstate_refusals(world: World, api: Any, mover: str) -> None:
    b, t = world.business_id, world.admin.token
    problem(api.post(f"/businesses/{b}/members/ghost-{uuid.uuid4().hex[:6]}/reinstate", token=t), 404, "not-found")
    body = problem(api.post(f"/businesses/{b}/members/{mover}/reinstate", token=t), 409, "reinstatement-unavailable")
    assert body["reason"] == "not-removed", body


# --- reviews -----------------------------------------------------------------------------------------------


def test_review_refusals(world: World, api: Any) -> None:
    b, t = world.business_id, world.admin.token
    ghost = f"rv-{uuid.uuid4().hex[:6]}"
    problem(api.get(f"/businesses/{b}/reviews/{ghost}", token=t), 404, "not-found")
    problem(api.get(f"/businesses/{b}/reviews/{ghost}/items", token=t), 404, "not-found")
    problem(api.get(f"/businesses/{b}/reviews/{ghost}/report", token=t), 404, "not-found")
    problem(api.post(f"/businesses/{b}/reviews/{ghost}/decisions", token=t,
                     json={"decisions": [{"item_id": "x", "decision": "keep"}]}), 404, "not-found")
    problem(api.post(f"/businesses/{b}/reviews", token=t, json={"duration_days": 0}), 400, "invalid-input")
    problem(api.post(f"/businesses/{b}/reviews", token=t, json={"duration_days": "x"}), 400, "invalid-input")
    r = api.post(f"/businesses/{b}/reviews", token=t, json={"name": "QA", "duration_days": 7})
    assert r.status_code == 201, r.text
    c = r.json()["campaign_id"]
    assert r.headers.get("location"), r.headers
    problem(api.post(f"/businesses/{b}/reviews", token=t, json={}), 409, "review-in-progress")
    problem(api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t, json={"decisions": []}), 400,
            "invalid-input")
    problem(api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                     json={"decisions": [{"item_id": "x", "decision": "maybe"}]}), 400, "invalid-input")
    problem(api.get(f"/businesses/{b}/reviews/{c}/items?decided=maybe", token=t), 400, "invalid-input")
    problem(api.get(f"/businesses/{b}/reviews/{c}/items?limit=0", token=t), 400, "invalid-input")
    problem(api.get(f"/businesses/{b}/reviews/{c}/items?cursor=garbage", token=t), 400, "invalid-input")
    problem(api.get(f"/businesses/{b}/reviews/{c}/report?format=xml", token=t), 400, "invalid-input")
    problem(api.get(f"/businesses/{b}/reviews/{c}/report?limit=1&cursor=garbage", token=t), 400, "invalid-input")
    r = api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                 json={"decisions": [{"item_id": "nope", "decision": "keep"}]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "refused", r.text


# --- races and case-insensitivity ---------------------------------------------------------------------


def _race(*calls: Any) -> list[Any]:
    out: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def test_release_racing_cancel_one_wins_and_the_state_is_the_winners(stack: Any, api: Any) -> None:
    from accessflow.domain.policy import BusinessPolicy
    from tests.e2e.test_leaver_guard import leaver, member, seed_members, settled, status_of

    w = make_world(stack, accounts=1, policy=BusinessPolicy(leaver_guard_count=1, leaver_guard_percent=0))
    people = seed_members(w, 4)
    for p in people[:3]:
        leaver(w, p["member_id"])
    held = [p["member_id"] for p in people[:3] if status_of(w, p["member_id"]) == "HELD"]
    assert len(held) == 2, [status_of(w, p["member_id"]) for p in people]
    b, t = w.business_id, w.admin.token
    m = held[0]
    release, cancel = _race(
        lambda: api.post(f"/businesses/{b}/members/{m}/offboarding/release", token=t, json={}),
        lambda: api.post(f"/businesses/{b}/members/{m}/offboarding/cancel", token=t, json={"reason": "no"}))
    assert sorted([release.status_code, cancel.status_code]) in ([200, 409], [202, 409]), (release.text, cancel.text)
    loser = release if release.status_code == 409 else cancel
    problem(loser, 409, "offboarding-not-held")
    if release.status_code == 202:
        settled(w, [m])
        assert member(w, api, m)["status"] == "REMOVED"
    else:
        assert status_of(w, m) == "CANCELLED"
        view = member(w, api, m)
        assert view["status"] == "ACTIVE" and [g["role"] for g in view["grants"]] == ["Editor"]
    # release-all racing a cancel of the last held one: each offboarding decided once
    m2 = held[1]
    every, cancel2 = _race(
        lambda: api.post(f"/businesses/{b}/offboardings/release", token=t, json={}),
        lambda: api.post(f"/businesses/{b}/members/{m2}/offboarding/cancel", token=t, json={"reason": "no"}))
    assert every.status_code in (200, 409), every.text
    released = [o["member_id"] for o in every.json().get("released", [])] if every.status_code == 200 else []
    assert (m2 in released) != (cancel2.status_code == 200), (every.text, cancel2.text)
    r = api.get(f"/businesses/{b}/audit", token=t, params={"member_id": m2, "limit": 50})
    decided = [e["action"] for e in r.json()["entries"] if e["action"] in ("offboarding.released",
                                                                          "offboarding.cancelled")]
    assert len(decided) == 1, decided


def test_two_reviewers_deciding_one_item_at_once_keep_the_counters_exact(stack: Any, api: Any) -> None:
    w = make_world(stack, accounts=1)
    second = f"rev2-{uuid.uuid4().hex[:6]}@example.com"
    onboard(w, api, second, {"acct-1": "Admin"})
    target = onboard(w, api, f"held-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    b = w.business_id
    r = api.post(f"/businesses/{b}/reviews", token=w.admin.token, json={"duration_days": 7})
    assert r.status_code == 201, r.text
    c = r.json()["campaign_id"]
    r = api.get(f"/businesses/{b}/reviews/{c}/items", token=w.admin.token, params={"limit": 100})
    item = next(i for i in r.json()["items"] if i["member_id"] == target)["item_id"]
    one, two = _race(
        lambda: api.post(f"/businesses/{b}/reviews/{c}/decisions", token=w.admin.token,
                         json={"decisions": [{"item_id": item, "decision": "keep"}]}),
        lambda: api.post(f"/businesses/{b}/reviews/{c}/decisions", token=w.people[second].token,
                         json={"decisions": [{"item_id": item, "decision": "remove"}]}))
    assert one.status_code == 200 and two.status_code == 200, (one.text, two.text)
    counts = api.get(f"/businesses/{b}/reviews/{c}", token=w.admin.token).json()["counts"]
    assert counts["decided"] == 1 and counts["keep"] + counts["remove"] == 1, counts
    # the same item twice in one request: one recorded, the other refused
    r = api.post(f"/businesses/{b}/reviews/{c}/decisions", token=w.admin.token,
                 json={"decisions": [{"item_id": item, "decision": "keep"}, {"item_id": item, "decision": "remove"}]})
    assert r.status_code == 200, r.text
    assert sorted(x["status"] for x in r.json()["results"]) == ["recorded", "refused"], r.text
    counts = api.get(f"/businesses/{b}/reviews/{c}", token=w.admin.token).json()["counts"]
    assert counts["decided"] == 1 and counts["keep"] + counts["remove"] == 1, counts
    # the holder deciding their own grant is refused, and counts nothing
    items = api.get(f"/businesses/{b}/reviews/{c}/items", token=w.admin.token, params={"limit": 100}).json()["items"]
    own = next(i for i in items if i["member_email"] == second)["item_id"]
    r = api.post(f"/businesses/{b}/reviews/{c}/decisions", token=w.people[second].token,
                 json={"decisions": [{"item_id": own, "decision": "keep"}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "refused", r.text
    assert api.get(f"/businesses/{b}/reviews/{c}", token=w.admin.token).json()["counts"]["decided"] == 1
    # the report: CSV by ?format=csv and by Accept, with the documented columns, every grant once
    csv_a = api.get(f"/businesses/{b}/reviews/{c}/report", token=w.admin.token, params={"format": "csv"})
    csv_b = api.get(f"/businesses/{b}/reviews/{c}/report", token=w.admin.token, headers={"Accept": "text/csv"})
    for r in (csv_a, csv_b):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.headers
        lines = r.text.splitlines()
        assert lines[0] == ("item_id,member_id,member_email,member_name,account_id,account_name,role,reviewers,"
                            "flagged,decision,decided_by,decided_at,note,last_activity_at,idle,outcome,applied,"
                            "applied_at"), lines[0]
        assert len(lines) == 1 + len(items)
    # after the deadline: closed, decisions refused, a new campaign may start
    w.stack.advance(timedelta(days=8))
    eventually(lambda: api.get(f"/businesses/{b}/reviews/{c}", token=w.admin.token).json()["status"] == "CLOSED",
               timeout=60, what="the campaign closes")
    problem(api.post(f"/businesses/{b}/reviews/{c}/decisions", token=w.admin.token,
                     json={"decisions": [{"item_id": item, "decision": "keep"}]}), 409, "review-closed")
    report = api.get(f"/businesses/{b}/reviews/{c}/report", token=w.admin.token).json()
    assert sorted(i["item_id"] for i in report["items"]) == sorted(i["item_id"] for i in items)
    assert all(i["outcome"] for i in report["items"]), report["items"]
    r = api.post(f"/businesses/{b}/reviews", token=w.admin.token, json={"duration_days": 7})
    assert r.status_code == 201, r.text
    # a cursor of one campaign given to another: a 400 problem, never a 500 or the other's items
    c2 = r.json()["campaign_id"]
    listed = api.get(f"/businesses/{b}/reviews", token=w.admin.token).json()["campaigns"]
    assert [x["campaign_id"] for x in listed] == [c2, c], listed  # newest first
    for path in ("items", "report"):
        page = api.get(f"/businesses/{b}/reviews/{c}/{path}", token=w.admin.token, params={"limit": 1}).json()
        assert page["next_cursor"], page
        r = api.get(f"/businesses/{b}/reviews/{c2}/{path}", token=w.admin.token,
                    params={"limit": 1, "cursor": page["next_cursor"]})
        problem(r, 400, "invalid-input")


def test_hr_move_names_the_member_by_e_mail_in_any_case(world: World, api: Any) -> None:
    email = f"Case.Mover-{uuid.uuid4().hex[:6]}@Example.com"
    m = onboard(world, api, email.lower(), {"acct-1": "Editor", "acct-2": "Editor"})
    world.stack.put_event("member.change.requested", {
        "business_id": world.business_id, "email": email.upper(), "requested_by": "workday",
        "idempotency_key": uuid.uuid4().hex, "grants": [{"account_id": "acct-1", "role": "Analyst"}]},
        source="hr.workday")
    world.stack.wait_idle()
    eventually(lambda: {g["account_id"]: g["role"] for x in members(world, api) if x["member_id"] == m
                        for g in x["grants"]} == {"acct-1": "Analyst"}, what="the move applied")


def test_bulk_existing_member_in_other_case_is_already_member(world: World, api: Any) -> None:
    text = f"email,name,account,role\n{world.admin.email.upper()},Admin,acct-2,Editor\n"
    r = api.post(f"/businesses/{world.business_id}/invitations:bulk", token=world.admin.token,
                 json={"csv": text, "dry_run": True})
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["reason"] == "already-member", r.text


def test_reinstate_twice_answers_the_same_invitation(stack: Any, api: Any) -> None:
    w = make_world(stack, accounts=2)
    m = onboard(w, api, f"back-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    b, t = w.business_id, w.admin.token
    r = api.post(f"/businesses/{b}/members/{m}/offboard", token=t, json={"reason": "left"})
    assert r.status_code == 202, r.text
    from tests.e2e.test_leaver_guard import settled
    settled(w, [m])
    one, two = _race(lambda: api.post(f"/businesses/{b}/members/{m}/reinstate", token=t),
                     lambda: api.post(f"/businesses/{b}/members/{m}/reinstate", token=t))
    assert one.status_code in (200, 201) and two.status_code in (200, 201), (one.text, two.text)
    assert one.json()["invitation_id"] == two.json()["invitation_id"]
    r = api.get(f"/businesses/{b}/invitations", token=t)
    assert len([i for i in r.json()["invitations"] if i["member_id"] == m and i["status"] == "PENDING"]) == 1
    r = api.get(f"/businesses/{b}/audit", token=t, params={"member_id": m, "limit": 100})
    assert len([e for e in r.json()["entries"] if e["action"] == "invitation.created"]) == 2, r.text


def test_move_idempotency_key_is_per_member_and_per_request(world: World, api: Any) -> None:
    """An Idempotency-Key reused for another member must not answer with the first member's move (and
    leave the second one unmoved); reused with another desired set it is refused, not ignored."""
    b, t = world.business_id, world.admin.token
    one = onboard(world, api, f"key1-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor", "acct-2": "Editor"})
    two = onboard(world, api, f"key2-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor", "acct-2": "Editor"})
    key = {"Idempotency-Key": f"qa-{uuid.uuid4().hex}"}
    desired = {"grants": [{"account_id": "acct-1", "role": "Analyst"}]}
    r1 = api.put(f"/businesses/{b}/members/{one}/grants", token=t, json=desired, headers=key)
    assert r1.status_code == 200 and r1.json()["member_id"] == one, r1.text
    again = api.put(f"/businesses/{b}/members/{one}/grants", token=t, json=desired, headers=key)
    assert again.status_code == 200 and again.json()["move_id"] == r1.json()["move_id"], again.text
    r2 = api.put(f"/businesses/{b}/members/{two}/grants", token=t, json=desired, headers=key)
    assert r2.status_code == 200 and r2.json()["member_id"] == two, r2.text
    roles = {m["member_id"]: {g["account_id"]: g["role"] for g in m["grants"]} for m in members(world, api)}
    assert roles[two] == {"acct-1": "Analyst"}, roles[two]
    other = {"grants": [{"account_id": "acct-1", "role": "Moderator"}]}
    problem(api.put(f"/businesses/{b}/members/{one}/grants", token=t, json=other, headers=key), 409, "conflict")
    roles = {m["member_id"]: {g["account_id"]: g["role"] for g in m["grants"]} for m in members(world, api)}
    assert roles[one] == {"acct-1": "Analyst"}, roles[one]


def test_reinstate_after_an_account_was_retired_says_the_business_changed(stack: Any, api: Any) -> None:
    w = make_world(stack, accounts=2)
    email = f"gone-{uuid.uuid4().hex[:6]}@example.com"
    m = onboard(w, api, email, {"acct-1": "Editor", "acct-2": "Editor"})
    b, t = w.business_id, w.admin.token
    r = api.post(f"/businesses/{b}/members/{m}/offboard", token=t, json={"reason": "left"})
    assert r.status_code == 202, r.text
    from tests.e2e.test_leaver_guard import settled
    settled(w, [m])
    # a former member is invited again like a new one (docs/bulk.md), in any case
    r = api.post(f"/businesses/{b}/invitations:bulk", token=t,
                 json={"csv": f"email,name,account,role\n{email.upper()},Gone,acct-1,Editor\n", "dry_run": True})
    assert r.status_code == 200 and r.json()["rows"][0]["status"] == "valid", r.text
    r = api.post(f"/businesses/{b}/accounts/acct-2/retire", token=t, json={"reason": "closed"})
    assert r.status_code == 200, r.text
    body = problem(api.post(f"/businesses/{b}/members/{m}/reinstate", token=t), 409, "reinstatement-unavailable")
    assert body["reason"] == "business-changed" and body["accounts"] == ["acct-2"], body
    view = api.get(f"/businesses/{b}/members/{m}/offboarding", token=t).json()
    assert view["reinstatement"]["available"] is False and view["reinstatement"]["reason"] == "business-changed"


def test_hr_move_with_two_roles_on_one_account_is_dead_lettered(world: World, api: Any) -> None:
    """One role per account (docs/movers.md): such an event is malformed, so it is dead-lettered with
    the reason like every other malformed HR event — not run as a move and rejected with an
    undocumented code; nothing changes."""
    from accessflow.usecases.mover import move_id_for
    from tests.e2e.test_intake import dead_letters

    m = onboard(world, api, f"dup-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    dead_letters(world.stack)
    key = uuid.uuid4().hex
    world.stack.put_event("member.change.requested", {
        "business_id": world.business_id, "member_id": m, "requested_by": "workday", "idempotency_key": key,
        "grants": [{"account_id": "acct-1", "role": "Analyst"}, {"account_id": "acct-1", "role": "Admin"}]},
        source="hr.workday")
    world.stack.wait_idle()
    letters = dead_letters(world.stack)
    assert len(letters) == 1 and "one role per account" in letters[0]["body"]["reason"], letters
    name = f"mov-{move_id_for(world.business_id, key)}"
    assert not [e for e in world.stack.executions("MoverStateMachine") if e["name"] == name]
    assert {g["account_id"]: g["role"] for x in members(world, api) if x["member_id"] == m
            for g in x["grants"]} == {"acct-1": "Editor"}


def test_held_member_requested_again_admin_offboard_releases_cancel_then_new_request(stack: Any, api: Any) -> None:
    from accessflow.domain.policy import BusinessPolicy
    from tests.e2e.test_leaver_guard import leaver, member, seed_members, settled, status_of

    w = make_world(stack, accounts=1, policy=BusinessPolicy(leaver_guard_count=1, leaver_guard_percent=0))
    people = [p["member_id"] for p in seed_members(w, 4)]
    b, t = w.business_id, w.admin.token
    for m in people[:3]:
        leaver(w, m)
    assert [status_of(w, m) for m in people[1:3]] == ["HELD", "HELD"]
    # the same person asked for again (another key): still one held offboarding
    leaver(w, people[1])
    held = api.get(f"/businesses/{b}/offboardings", token=t).json()["offboardings"]
    assert sorted(o["member_id"] for o in held) == sorted(people[1:3]), held
    # an Admin's own offboard of a held member releases it
    r = api.post(f"/businesses/{b}/members/{people[1]}/offboard", token=t, json={"reason": "confirmed"})
    assert r.status_code == 202 and r.json()["status"] == "IN_PROGRESS", r.text
    settled(w, [people[1]])
    assert member(w, api, people[1])["status"] == "REMOVED"
    # an immediate (for-cause) HR event for a held member releases it
    leaver(w, people[3])
    assert status_of(w, people[3]) == "HELD"
    leaver(w, people[3], immediate=True)
    assert status_of(w, people[3]) != "HELD"
    settled(w, [people[3]])
    # a cancelled one: a later leaver request starts a new offboarding, guarded again (window full)
    r = api.post(f"/businesses/{b}/members/{people[2]}/offboarding/cancel", token=t, json={"reason": "error"})
    assert r.status_code == 200, r.text
    leaver(w, people[2])
    assert status_of(w, people[2]) == "HELD"
    view = api.get(f"/businesses/{b}/members/{people[2]}/offboarding", token=t).json()
    assert view["status"] == "HELD" and view.get("decision_reason") in (None, ""), view


def test_policy_refuses_out_of_range_issue11_fields(world: World, api: Any) -> None:
    b, t = world.business_id, world.admin.token
    before = api.get(f"/businesses/{b}/policy", token=t).json()
    for body in ({"leaver_guard_count": 0}, {"leaver_guard_percent": 101}, {"leaver_guard_window_minutes": 0},
                 {"reinstate_within_days": -1}, {"review_undecided": "maybe"}, {"review_cadence": "weekly"},
                 {"review_duration_days": 91}, {"review_idle_after_days": 0}, {"leaver_guard_enabled": "perhaps"}):
        problem(api.patch(f"/businesses/{b}/policy", token=t, json=body), 400, "invalid-input")
    assert api.get(f"/businesses/{b}/policy", token=t).json() == before


def test_concurrent_imports_and_starts(stack: Any, api: Any) -> None:
    """Two admins at once: the same import id twice (one import, one execution); two files naming the
    same person (one invitation); two review starts (one campaign)."""
    w = make_world(stack, accounts=2)
    b, t = w.business_id, w.admin.token
    iid = f"same-{uuid.uuid4().hex[:6]}"
    text = "email,name,account,role\n" + "".join(f"s{i}-{iid}@example.com,S {i},acct-1,Analyst\n" for i in range(5))
    one, two = _race(*[lambda: api.post(f"/businesses/{b}/invitations:bulk", token=t,
                                        json={"csv": text, "import_id": iid})] * 2)
    assert sorted([one.status_code, two.status_code]) == [200, 202], (one.text, two.text)
    assert len([e for e in stack.executions("BulkStateMachine") if e["name"] == f"bulk-{iid}"]) == 1
    # two files naming one person, at once
    shared = f"shared-{iid}@example.com"
    files = [f"email,name,account,role\n{shared},Shared,acct-{n},Analyst\n" for n in (1, 2)]
    ra, rb = _race(*[lambda f=f: api.post(f"/businesses/{b}/invitations:bulk", token=t, json={"csv": f})
                     for f in files])
    assert ra.status_code == 202 and rb.status_code == 202, (ra.text, rb.text)

    def finished() -> list[dict[str, Any]]:
        out = [api.get(f"/businesses/{b}/imports/{r.json()['import_id']}", token=t).json() for r in (ra, rb)]
        return out if all(x["status"] != "RUNNING" for x in out) else []

    done = eventually(finished, timeout=60, what="both imports finish")
    statuses = sorted(x["rows"][0]["status"] for x in done)
    assert statuses == ["created", "refused"], done
    invitations = api.get(f"/businesses/{b}/invitations", token=t).json()["invitations"]
    assert len([i for i in invitations if i["email"] == shared]) == 1
    # two review starts at once: one campaign
    s1, s2 = _race(*[lambda: api.post(f"/businesses/{b}/reviews", token=t, json={})] * 2)
    assert sorted([s1.status_code, s2.status_code]) == [201, 409], (s1.text, s2.text)
    assert len(api.get(f"/businesses/{b}/reviews", token=t).json()["campaigns"]) == 1


def test_answers_carry_the_documented_fields(stack: Any, api: Any) -> None:
    """The field names docs/*.md promise, on real answers (a missing or renamed one breaks integrators)."""
    from accessflow.domain.policy import BusinessPolicy
    from tests.e2e.test_leaver_guard import leaver, seed_members, settled, status_of

    w = make_world(stack, accounts=2, policy=BusinessPolicy(leaver_guard_count=1, leaver_guard_percent=0))
    b, t = w.business_id, w.admin.token
    m = onboard(w, api, f"fields-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    # movers (docs/movers.md): the answer and member.changed
    moved = api.put(f"/businesses/{b}/members/{m}/grants", token=t,
                    json={"grants": [{"account_id": "acct-1", "role": "Analyst"}]}).json()
    shape = {"move_id", "member_id", "status", "source", "applied", "pending", "declined", "needs_confirmation",
             "invitation_id", "grants"}
    assert shape | {"execution_arn"} <= set(moved), moved
    changed = eventually(lambda: [e["detail"] for e in stack.events if e["detail-type"] == "member.changed"
                                  and e["detail"].get("move_id") == moved["move_id"]], what="member.changed")
    assert shape <= set(changed[0]), changed
    # reviews (docs/reviews.md, docs/review-schedule.md)
    schedule = api.get(f"/businesses/{b}/review-schedule", token=t).json()
    assert {"enrolled", "cadence", "next_at", "last_started_at", "last_campaign_id"} <= set(schedule), schedule
    c = api.post(f"/businesses/{b}/reviews", token=t, json={}).json()
    assert {"items", "decided", "keep", "remove", "undecided", "flagged"} <= set(c["counts"]), c
    assert "reminder_sent_at" in c, c
    items = api.get(f"/businesses/{b}/reviews/{c['campaign_id']}/items", token=t).json()
    assert {"items", "next_cursor"} <= set(items)
    item = next(i for i in items["items"] if i["member_id"] == m)
    assert {"item_id", "member_id", "member_email", "member_name", "account_id", "account_name", "role",
            "reviewers", "flagged", "escalated", "decision", "last_activity_at", "idle"} <= set(item), item
    report = api.get(f"/businesses/{b}/reviews/{c['campaign_id']}/report", token=t).json()
    assert {"outcome", "applied", "applied_at"} <= set(report["items"][0]), report["items"][0]
    # bulk (docs/bulk.md)
    row = {"email": "f1@example.com", "name": "F", "account": "acct-1", "role": "Editor"}
    dry = api.post(f"/businesses/{b}/invitations:bulk", token=t, json={"rows": [row], "dry_run": True}).json()
    assert {"dry_run", "counts", "rows"} <= set(dry)
    assert {"rows", "valid", "duplicate", "refused", "invitations"} <= set(dry["counts"]), dry
    assert {"row", "email", "name", "account", "role", "employee_id", "status", "reason", "detail",
            "lead"} <= set(dry["rows"][0]), dry
    imp = api.post(f"/businesses/{b}/invitations:bulk", token=t, json={"rows": [row]}).json()
    assert {"import_id", "status", "created_at", "completed_at", "requested_by", "execution_arn", "submitted",
            "counts", "invitations_created", "rows"} <= set(imp), imp
    assert {"rows", "pending", "created", "duplicate", "refused", "failed"} <= set(imp["counts"]), imp
    assert {"row", "email", "name", "account", "role", "employee_id", "status", "reason", "detail",
            "invitation_id"} <= set(imp["rows"][0]), imp
    # guard (docs/offboarding.md)
    people = [p["member_id"] for p in seed_members(w, 2)]
    for p in people:
        leaver(w, p)
    assert status_of(w, people[1]) == "HELD"
    held = api.get(f"/businesses/{b}/offboardings", token=t).json()["offboardings"][0]
    event = eventually(lambda: [e["detail"] for e in stack.events if e["detail-type"] == "offboarding.held"
                                and e["detail"].get("business_id") == b], what="offboarding.held")[0]
    assert {"business_id", "burst_id", "window_start", "window_end", "limit", "members", "first_member_id",
            "source", "requested_by", "reason", "held_at"} <= set(event), event
    assert {"member_id", "email", "display_name", "status", "source", "requested_by", "reason", "burst_id",
            "held_at", "offboarding_id"} <= set(held), held
    view = api.get(f"/businesses/{b}/members/{people[1]}/offboarding", token=t).json()
    assert {"held_at", "burst_id", "decided_at", "decided_by", "decision_reason"} <= set(view), view
    # reinstatement (docs/offboarding.md)
    settled(w, [people[0]])
    view = api.get(f"/businesses/{b}/members/{people[0]}/offboarding", token=t).json()
    assert "reinstatable_until" in view and "reinstatable_until" in view["receipt"], view
    assert {"available", "reinstatable_until", "reason", "detail"} <= set(view["reinstatement"]), view


def test_review_report_csv_neutralises_formulas_in_notes(stack: Any, api: Any) -> None:
    w = make_world(stack, accounts=1)
    m = onboard(w, api, f"formula-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    b, t = w.business_id, w.admin.token
    c = api.post(f"/businesses/{b}/reviews", token=t, json={}).json()["campaign_id"]
    items = api.get(f"/businesses/{b}/reviews/{c}/items", token=t).json()["items"]
    item = next(i for i in items if i["member_id"] == m)["item_id"]
    r = api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                 json={"decisions": [{"item_id": item, "decision": "keep", "note": "=HYPERLINK(\"http://x\",\"y\")"}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "recorded", r.text
    text = api.get(f"/businesses/{b}/reviews/{c}/report", token=t, params={"format": "csv"}).text
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text, text


def test_a_changed_decision_moves_the_counters_and_501_decisions_are_refused(stack: Any, api: Any) -> None:
    w = make_world(stack, accounts=1)
    m = onboard(w, api, f"change-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    b, t = w.business_id, w.admin.token
    c = api.post(f"/businesses/{b}/reviews", token=t, json={}).json()["campaign_id"]
    item = next(i for i in api.get(f"/businesses/{b}/reviews/{c}/items", token=t).json()["items"]
                if i["member_id"] == m)["item_id"]
    for decision, keep, remove in (("keep", 1, 0), ("remove", 0, 1), ("remove", 0, 1)):
        r = api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                     json={"decisions": [{"item_id": item, "decision": decision}]})
        assert r.status_code == 200, r.text
        counts = api.get(f"/businesses/{b}/reviews/{c}", token=t).json()["counts"]
        assert (counts["decided"], counts["keep"], counts["remove"]) == (1, keep, remove), counts
        assert counts["undecided"] == counts["items"] - 1, counts
    problem(api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                     json={"decisions": [{"item_id": item, "decision": "keep"}] * 501}), 400, "invalid-input")
    problem(api.post(f"/businesses/{b}/reviews/{c}/decisions", token=t,
                     json={"decisions": [{"item_id": item, "decision": "keep", "note": "x" * 501}]}), 400,
            "invalid-input")


def test_review_schedule_follows_the_cadence(stack: Any, api: Any) -> None:
    from datetime import datetime

    w = make_world(stack, accounts=1)
    b, t = w.business_id, w.admin.token
    s = api.get(f"/businesses/{b}/review-schedule", token=t).json()
    assert s["enrolled"] and s["cadence"] == "quarterly" and s["next_at"], s
    first = datetime.fromisoformat(s["next_at"].replace("Z", "+00:00"))
    r = api.patch(f"/businesses/{b}/policy", token=t, json={"review_cadence": "off"})
    assert r.status_code == 200, r.text
    s = api.get(f"/businesses/{b}/review-schedule", token=t).json()
    assert s["cadence"] == "off" and s["next_at"] is None, s
    r = api.patch(f"/businesses/{b}/policy", token=t, json={"review_cadence": "monthly"})
    assert r.status_code == 200, r.text
    s = api.get(f"/businesses/{b}/review-schedule", token=t).json()
    monthly = datetime.fromisoformat(s["next_at"].replace("Z", "+00:00"))
    assert s["cadence"] == "monthly" and monthly < first, s


def test_a_declined_raise_frees_the_member_for_the_next_move(stack: Any, api: Any) -> None:
    """(The 30-day expiry is a task timeout on the wall clock, not the stack clock: not testable here.)"""
    w = make_world(stack, accounts=2)
    second = f"second-{uuid.uuid4().hex[:6]}@example.com"
    onboard(w, api, second, {"acct-1": "Admin", "acct-2": "Admin"})
    m = onboard(w, api, f"exp-{uuid.uuid4().hex[:6]}@example.com", {"acct-1": "Editor"})
    b, t = w.business_id, w.admin.token
    raise_ = [{"account_id": "acct-1", "role": "Editor"}, {"account_id": "acct-2", "role": "Admin"}]
    r = api.put(f"/businesses/{b}/members/{m}/grants", token=t, json={"grants": raise_})
    assert r.status_code == 202, r.text
    move = r.json()
    stack.wait_for_state(move["execution_arn"], "AwaitConfirmation")
    problem(api.put(f"/businesses/{b}/members/{m}/grants", token=t,
                    json={"grants": [{"account_id": "acct-1", "role": "Analyst"}]}), 409, "change-pending")
    r = api.post(f"/businesses/{b}/invitations/{move['invitation_id']}/reject", token=w.people[second].token,
                 json={"reason": "not yet"})
    assert r.status_code == 200, r.text
    assert stack.wait_execution(move["execution_arn"])["status"] == "SUCCEEDED"
    changed = eventually(lambda: [e["detail"] for e in stack.events if e["detail-type"] == "member.changed"
                                  and e["detail"].get("move_id") == move["move_id"] and e["detail"]["declined"]],
                         what="member.changed with the declined raise")
    assert changed[0]["declined"] == [{"account_id": "acct-2", "change": "add", "before": None, "after": "Admin"}]
    roles = {g["account_id"]: g["role"] for x in members(w, api) if x["member_id"] == m for g in x["grants"]}
    assert roles == {"acct-1": "Editor"}, roles
    r = api.put(f"/businesses/{b}/members/{m}/grants", token=t, json={"grants": [{"account_id": "acct-1",
                                                                                  "role": "Analyst"}]})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("case,code", [("business", "unknown-business"), ("member", "unknown-member"),
                                       ("account", "unknown-account"), ("last-admin", "last-admin")])
def test_hr_move_rejections_carry_the_documented_code(world: World, api: Any, case: str, code: str) -> None:
    from accessflow.usecases.mover import move_id_for

    admin = next(x["member_id"] for x in members(world, api) if x["email"] == world.admin.email)
    detail: dict[str, Any] = {"business_id": world.business_id, "member_id": admin, "requested_by": "workday",
                              "idempotency_key": uuid.uuid4().hex,
                              "grants": [{"account_id": "acct-1", "role": "Admin"}]}
    if case == "business":
        detail["business_id"] = f"nobiz-{uuid.uuid4().hex[:6]}"
    elif case == "member":
        detail["member_id"] = f"nobody-{uuid.uuid4().hex[:6]}"
    elif case == "account":
        detail["grants"] = [{"account_id": "acct-1", "role": "Admin"}, {"account_id": "acct-9", "role": "Editor"}]
    else:  # the sole Admin of acct-2/acct-3 moved off them: a mover is not a termination
        detail["grants"] = [{"account_id": "acct-1", "role": "Admin"}]
    before = members(world, api)
    world.stack.put_event("member.change.requested", detail, source="hr.workday")
    world.stack.wait_idle()
    run = [e for e in world.stack.executions("MoverStateMachine")
           if e["name"] == f"mov-{move_id_for(detail['business_id'], detail['idempotency_key'])}"]
    assert len(run) == 1 and world.stack.wait_execution(run[0]["executionArn"])["status"] == "FAILED"
    rejected = [e["detail"] for e in world.stack.events if e["detail-type"] == "member.change.rejected"
                and e["detail"].get("idempotency_key") == detail["idempotency_key"]]
    assert len(rejected) == 1 and rejected[0]["code"] == code, rejected
    assert {"business_id", "code", "reason", "member_id", "idempotency_key", "request"} <= set(rejected[0])
    assert members(world, api) == before
