"""Bulk onboarding (issue 11, acceptance 5): 300 rows with 5 invalid and 3 duplicates.

The dry run reports exactly those 8 and writes nothing (no member, invitation, audit entry or
execution); the real run creates 292 invitations, each with its own onboarding execution that e-mails
the link, reports every row, and the same import id again creates nothing more.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.e2e.people import audit, members
from tests.world import World, eventually, make_world

pytestmark = pytest.mark.slow

VALID = 292
INVALID = {  # row number -> (the row's cells, the reason the API must give)
    40: (("not-an-email", "Bad Mail", "acct-1", "Editor"), "invalid-email"),
    80: (("ghost-account@example.com", "Ghost", "acct-9", "Editor"), "unknown-account"),
    120: (("bad-role@example.com", "Bad Role", "acct-1", "Owner"), "invalid-role"),
    160: (("no-name@example.com", "", "acct-1", "Analyst"), "invalid-name"),
    200: (("{admin}", "Already Here", "acct-2", "Analyst"), "already-member"),
}
DUPLICATES = {250: 3, 270: 10, 290: 100}  # row number -> the earlier row it repeats


def _file(world: World) -> tuple[str, list[tuple[str, ...]]]:
    """300 rows: 292 people (an Editor or Analyst on one of two accounts), 5 invalid rows and 3 rows
    repeating an earlier one, at fixed places."""
    rows: list[tuple[str, ...]] = []
    person = 0
    for number in range(1, 301):
        if number in INVALID:
            cells = INVALID[number][0]
            rows.append(tuple(c.replace("{admin}", world.admin.email) for c in cells))
        elif number in DUPLICATES:
            rows.append(rows[DUPLICATES[number] - 1])
        else:
            person += 1
            rows.append((f"Person.{person:03d}@Example.com", f"Person {person:03d}", f"acct-{1 + person % 2}",
                         "editor" if person % 3 else "Analyst"))
    assert person == VALID
    text = "email,name,account,role\n" + "".join(",".join(r) + "\n" for r in rows)
    return text, rows


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


def _snapshot(world: World, api: Any) -> dict[str, Any]:
    r = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token)
    assert r.status_code == 200, r.text
    stack = world.stack
    return {"members": members(world, api), "invitations": r.json()["invitations"], "audit": audit(world, api),
            "onboardings": len(stack.executions("OnboardingStateMachine")),
            "imports": len(stack.executions("BulkStateMachine")), "mails": len(stack.outbox)}


def _created_things(world: World, api: Any) -> dict[str, Any]:
    """What an import creates (its onboardings go on sending meanwhile: delivery fields change)."""
    snap = _snapshot(world, api)
    return {"members": sorted(m["member_id"] for m in snap["members"]),
            "invitations": sorted(i["invitation_id"] for i in snap["invitations"]),
            "onboardings": snap["onboardings"], "imports": snap["imports"],
            "audit": sorted(e["entry_id"] for e in snap["audit"]
                            if e["action"] in ("invitation.created", "bulk_import.started", "bulk_import.completed"))}


def test_dry_run_reports_the_8_rows_and_writes_nothing_then_the_run_creates_292(world: World, api: Any) -> None:
    started = time.monotonic()
    b, token = world.business_id, world.admin.token
    text, _ = _file(world)
    before = _snapshot(world, api)

    r = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"csv": text, "dry_run": True})
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["counts"] == {"rows": 300, "valid": VALID, "duplicate": 3, "refused": 5, "invitations": VALID}
    flagged = {v["row"]: (v["status"], v["reason"]) for v in dry["rows"] if v["status"] != "valid"}
    assert flagged == {**{n: ("refused", reason) for n, (_, reason) in INVALID.items()},
                       **{n: ("duplicate", "duplicate") for n in DUPLICATES}}
    assert all(v["detail"] for v in dry["rows"] if v["status"] != "valid")
    assert f"Row {DUPLICATES[270]} already invites" in next(v["detail"] for v in dry["rows"] if v["row"] == 270)
    assert _snapshot(world, api) == before, "a dry run must write nothing"

    r = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"csv": text, "import_id": "hr-2026-12"})
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/businesses/{b}/imports/hr-2026-12"
    submitted = r.json()
    assert submitted["submitted"] == dry["counts"]
    world.stack.wait_execution(submitted["execution_arn"], timeout=240)

    r = api.get(f"/businesses/{b}/imports/hr-2026-12", token=token)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["status"] == "COMPLETED"
    assert report["counts"] == {"rows": 300, "pending": 0, "created": VALID, "duplicate": 3, "refused": 5,
                                "failed": 0}
    assert report["invitations_created"] == VALID
    results = {row["row"]: row for row in report["rows"]}
    assert {n: (results[n]["status"], results[n]["reason"]) for n in INVALID} == {
        n: ("refused", reason) for n, (_, reason) in INVALID.items()}
    assert all(results[n]["status"] == "duplicate" for n in DUPLICATES)
    created = {row["email"]: row["invitation_id"] for row in report["rows"] if row["status"] == "created"}
    assert len(created) == VALID and all(created.values())

    invitations = {i["email"]: i for i in api.get(f"/businesses/{b}/invitations", token=token).json()["invitations"]}
    assert set(invitations) == set(created), "one invitation per valid person, e-mails normalised"
    person = invitations["person.007@example.com"]
    assert (person["display_name"], person["source"], person["grants"]) == (
        "Person 007", "bulk", [{"account_id": "acct-2", "role": "Editor"}])
    assert person["invitation_id"] == created["person.007@example.com"]

    # each person has their own onboarding execution, which e-mails the link
    eventually(lambda: len(world.stack.outbox) - before["mails"] >= VALID, timeout=240, what="292 e-mails")
    after = _snapshot(world, api)
    assert after["onboardings"] - before["onboardings"] == VALID
    assert after["imports"] - before["imports"] == 1
    entries = [e for e in after["audit"] if e not in before["audit"]]
    assert sum(e["action"] == "invitation.created" for e in entries) == VALID
    assert [e["action"] for e in entries if e["action"].startswith("bulk_import.")] == [
        "bulk_import.started", "bulk_import.completed"]

    # the same import id again: the import as it is, nothing more created
    settled = _created_things(world, api)
    again = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"csv": text, "import_id": "hr-2026-12"})
    assert again.status_code == 200, again.text
    assert again.json()["counts"] == report["counts"]
    assert _created_things(world, api) == settled, "repeating an import id must create nothing"

    other = api.post(f"/businesses/{b}/invitations:bulk", token=token,
                     json={"csv": text.replace("Person 001", "Someone Else"), "import_id": "hr-2026-12"})
    assert other.status_code == 409 and "other rows" in other.json()["detail"]
    print(f"\nbulk e2e: 300 rows, {VALID} onboardings, {time.monotonic() - started:.1f}s")


def test_a_file_that_is_not_the_format_is_refused_whole(world: World, api: Any) -> None:
    b, token = world.business_id, world.admin.token
    r = api.post(f"/businesses/{b}/invitations:bulk", token=token,
                 json={"csv": "mail,name,account,role\nx@example.com,X,acct-1,Editor\n", "dry_run": True})
    assert r.status_code == 400 and "missing column(s): email" in r.json()["detail"]
    too_many = "email,name,account,role\n" + "".join(f"p{i}@example.com,P,acct-1,Editor\n" for i in range(1001))
    r = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"csv": too_many, "dry_run": True})
    assert r.status_code == 400 and "At most 1000 rows" in r.json()["detail"]
    r = api.get(f"/businesses/{b}/imports/nope", token=token)
    assert r.status_code == 404


def test_several_rows_for_one_person_make_one_invitation_and_a_refused_row_refuses_the_person(
        world: World, api: Any) -> None:
    """Rows with the same e-mail are one invitation with a role per account; a person with a refused
    row is refused whole; the Admin limit counts today's Admins and the file's."""
    b, token = world.business_id, world.admin.token
    rows = [
        {"email": "multi@example.com", "name": "Multi", "account": "acct-1", "role": "Editor"},
        {"email": "MULTI@example.com", "name": "Multi", "account": "acct-2", "role": "Analyst"},
        {"email": "half@example.com", "name": "Half", "account": "acct-1", "role": "Editor"},
        {"email": "half@example.com", "name": "Half", "account": "acct-1", "role": "Analyst"},
        {"email": "adm1@example.com", "name": "A1", "account": "acct-1", "role": "Admin"},
        {"email": "adm2@example.com", "name": "A2", "account": "acct-1", "role": "Admin"},
        {"email": "adm3@example.com", "name": "A3", "account": "acct-1", "role": "Admin"},
    ]
    r = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"rows": rows, "dry_run": True})
    assert r.status_code == 200, r.text
    verdicts = [(v["status"], v["reason"]) for v in r.json()["rows"]]
    assert verdicts == [("valid", None), ("valid", None), ("refused", "person-refused"),
                        ("refused", "conflicting-row"), ("valid", None), ("valid", None), ("refused", "admin-limit")]
    assert r.json()["counts"]["invitations"] == 3


def test_cli_invite_csv_dry_run_then_import_and_wait(world: World, tmp_path: Any) -> None:
    """``accessflow invite BUSINESS --csv FILE`` as a user runs it: a separate process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = os.environ | {"ACCESSFLOW_API_URL": world.stack.api_url, "ACCESSFLOW_TOKEN": world.admin.token,
                        "PYTHONPATH": os.pathsep.join([str(repo / "functions"), str(repo)])}

    def run(*argv: str, ok: bool = True) -> str:
        done = subprocess.run([sys.executable, "-m", "accessflow.cli", "invite", world.business_id, *argv],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert (done.returncode == 0) is ok, (argv, done.stdout, done.stderr)
        return done.stdout if ok else done.stderr

    file = tmp_path / "people.csv"
    file.write_text("\ufeffEmail,Name,Account,Role,Employee_ID\n"
                    "cli.one@example.com,Cli One,acct-1,Editor,E-1\n"
                    "cli.one@example.com,Cli One,acct-2,Analyst,\n"
                    "cli.two@example.com,\"Two, Cli\",acct-2,Moderator,E-2\n"
                    "cli.bad@example,Bad,acct-1,Editor,\n", encoding="utf-8")
    dry = run("--csv", str(file), "--dry-run")
    assert "4 rows: 3 valid (2 invitations), 0 duplicate, 1 refused; nothing was written" in dry
    assert "invalid-email" in dry and "cli.one" not in dry  # only the rows to look at
    assert json.loads(run("--csv", str(file), "--dry-run", "--json"))["counts"]["refused"] == 1

    out = run("--csv", str(file), "--import-id", "cli-import-1", "--wait")
    assert "import cli-import-1: COMPLETED: 3 rows created (2 invitations), 0 duplicate, 1 refused" in out
    assert "invalid-email" in out
    report = json.loads(run("--csv", str(file), "--import-id", "cli-import-1", "--json"))
    assert [(r["row"], r["status"]) for r in report["rows"]] == [
        (1, "created"), (2, "created"), (3, "created"), (4, "refused")]
    assert report["rows"][0]["invitation_id"] == report["rows"][1]["invitation_id"]
    assert report["rows"][2]["name"] == "Two, Cli" and report["rows"][0]["employee_id"] == "E-1"
    assert "give either --csv FILE or an e-mail" in run("x@example.com", "--csv", str(file), ok=False)


def test_a_row_that_fails_never_blocks_the_others(world: World, api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row whose task raises (here: a fault injected into the store for one e-mail) is caught inside
    its Map item and recorded as failed with the error; the other rows are created."""
    from accessflow.store import repository as store

    original = store.create_invitation

    def faulty(new: Any, *args: Any, **kwargs: Any) -> Any:
        if new.email == "fails@example.com":
            raise RuntimeError("disk on fire")
        return original(new, *args, **kwargs)

    monkeypatch.setattr(store, "create_invitation", faulty)
    b, token = world.business_id, world.admin.token
    rows = [{"email": e, "name": e.split("@")[0], "account": "acct-1", "role": "Analyst"}
            for e in ("before@example.com", "fails@example.com", "after@example.com")]
    r = api.post(f"/businesses/{b}/invitations:bulk", token=token, json={"rows": rows, "import_id": "faulty"})
    assert r.status_code == 202, r.text
    assert world.stack.wait_execution(r.json()["execution_arn"])["status"] == "SUCCEEDED"
    report = api.get(f"/businesses/{b}/imports/faulty", token=token).json()
    assert report["status"] == "COMPLETED"
    assert [(x["email"], x["status"], x["reason"]) for x in report["rows"]] == [
        ("before@example.com", "created", None), ("fails@example.com", "failed", "internal-error"),
        ("after@example.com", "created", None)]
    assert "RuntimeError" in report["rows"][1]["detail"] and "disk on fire" in report["rows"][1]["detail"]
