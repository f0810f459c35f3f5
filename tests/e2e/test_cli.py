"""The ``accessflow`` CLI against the local stack: every command, tables and ``--json``, and a
``--help`` that explains each."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accessflow import cli
from tests.e2e.people import wait_sent
from tests.world import World, eventually, invitation_link_token, make_world

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("invite", "invitations", "resend", "revoke", "reissue", "confirm", "reject", "members", "set-role",
            "offboard", "audit", "review", "dev-token", "scim-token", "bundle")


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


@pytest.fixture
def run(world: World) -> Any:
    """Run ``accessflow`` as a user would: a separate process (the API runs in this one and logs to its
    stdout), configured through the environment."""
    env = os.environ | {"ACCESSFLOW_API_URL": world.stack.api_url, "ACCESSFLOW_TOKEN": world.admin.token,
                        "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}

    def call(*argv: str, ok: bool = True) -> Any:
        done = subprocess.run([sys.executable, "-m", "accessflow.cli", *argv], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode == 0) is ok, (argv, done.returncode, done.stdout, done.stderr)
        return json.loads(done.stdout) if "--json" in argv and ok else (done.stdout if ok else done.stderr)
    return call


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_each_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: accessflow {command}" in out
    assert len(out.split("\n\n")[1].strip()) > 30, out  # a description, not just the usage line
    if command != "dev-token":
        assert "--api-url" in out and "--json" in out and "BUSINESS" in out


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in COMMANDS)


def _invite(world: World, run: Any, email: str, *grants: str) -> dict[str, Any]:
    args = ["invite", world.business_id, email, "--name", "Cli Person", "--json"]
    for g in grants:
        args += ["--grant", g]
    inv: dict[str, Any] = run(*args)
    return inv


def test_invite_accept_confirm_members_set_role_audit_review(world: World, run: Any, api: Any) -> None:
    b = world.business_id
    inv = _invite(world, run, "cli-admin@example.com", "acct-1:admin", "acct-2:Editor")
    assert inv["status"] == "PENDING" and inv["grants"][0] == {"account_id": "acct-1", "role": "Admin"}
    wait_sent(world, api, inv["invitation_id"])

    table = run("invitations", b, "--status", "PENDING")
    assert "cli-admin@example.com" in table and "INVITATION_ID" in table and "acct-1:Admin" in table

    person = world.person("cli-admin@example.com")
    r = api.post("/invitations/accept", token=person.token,
                 json={"token": invitation_link_token(world.stack, person.email)})
    assert r.status_code == 200
    world.stack.wait_for_state(inv["execution_arn"], "AwaitConfirmation")
    confirmed = run("confirm", b, inv["invitation_id"], "--grant", "acct-1:Admin", "--json")
    assert confirmed["status"] == "CONFIRMED"
    world.stack.wait_execution(inv["execution_arn"])

    listing = run("members", b, "--json")
    me = next(m for m in listing["members"] if m["email"] == "cli-admin@example.com")
    assert [(g["account_id"], g["role"]) for g in me["grants"]] == [("acct-1", "Admin")]
    assert "cli-admin@example.com" in run("members", b, "--status", "ACTIVE")

    changed = run("set-role", b, "cli-admin@example.com", "acct-2", "analyst", "--json")
    assert changed["changed"] and {"account_id": "acct-2", "role": "Analyst"} in [
        {"account_id": g["account_id"], "role": g["role"]} for g in changed["grants"]]
    assert "no change" in run("set-role", b, me["member_id"], "acct-2", "Analyst")
    removed = run("set-role", b, me["member_id"], "acct-2", "--remove", "--json")
    assert [g["account_id"] for g in removed["grants"]] == ["acct-1"]
    refused = run("set-role", b, me["member_id"], "acct-9", "Editor", ok=False)
    assert "403" in refused

    trail = run("audit", b, "--all", "--json")["entries"]
    by_requests = [e["action"] for e in trail if e["request_id"]]
    assert by_requests[-3:] == ["invitation.confirmed", "grant.added", "grant.removed"]
    text = run("audit", b, "--member-id", me["member_id"], "--action", "grant.added")
    assert "grant.added" in text and "grant.removed" not in text

    review = run("review", b, "--json")
    assert any(r["email"] == "cli-admin@example.com" and r["role"] == "Admin" for r in review["rows"])
    rows = list(csv.DictReader(io.StringIO(run("review", b, "--csv"))))
    assert {(r["email"], r["account_id"], r["role"]) for r in rows if r["account_id"]} == {
        (m["email"], g["account_id"], g["role"]) for m in run("members", b, "--json")["members"] for g in m["grants"]}
    assert "ACCOUNT_ID" in run("review", b)


def test_reject(world: World, run: Any, api: Any) -> None:
    inv = _invite(world, run, "cli-rejected@example.com", "acct-1:Admin")
    wait_sent(world, api, inv["invitation_id"])
    person = world.person("cli-rejected@example.com")
    assert api.post("/invitations/accept", token=person.token,
                    json={"token": invitation_link_token(world.stack, person.email)}).status_code == 200
    world.stack.wait_for_state(inv["execution_arn"], "AwaitConfirmation")
    assert run("reject", world.business_id, inv["invitation_id"], "--reason", "not needed", "--json")["status"] \
        == "REJECTED"


def test_dev_token_is_accepted_by_the_local_api(world: World, run: Any, api: Any) -> None:
    token = run("dev-token", world.admin.email).strip()
    assert api.get(f"/businesses/{world.business_id}/members", token=token).status_code == 200
    outsider = run("dev-token", "nobody@example.com").strip()
    assert "404" in run("members", world.business_id, "--token", outsider, ok=False)


def test_refusals_and_unreachable_api_are_reported(world: World, run: Any) -> None:
    err = run("invite", world.business_id, "x@example.com", "--grant", "acct-1:Editor", "--token", "bad", ok=False)
    assert "401" in err
    assert "cannot reach" in run("members", world.business_id, "--api-url", "http://127.0.0.1:9", ok=False)



def test_resend_and_revoke(world: World, run: Any, api: Any) -> None:
    b = world.business_id
    inv = _invite(world, run, "cli-resend@example.com", "acct-1:Analyst")
    wait_sent(world, api, inv["invitation_id"])
    world.stack.advance(__import__("datetime").timedelta(minutes=2))
    run("resend", b, inv["invitation_id"])
    run("revoke", b, inv["invitation_id"], "--reason", "wrong person")
    assert run("invitations", b, "--status", "REVOKED", "--json")["invitations"][0]["invitation_id"] \
        == inv["invitation_id"]


def test_offboard(world: World, run: Any, api: Any) -> None:
    from tests.e2e.people import onboard

    member = onboard(world, api, "cli-leaver@example.com", {"acct-1": "Editor"})
    run("offboard", world.business_id, "cli-leaver@example.com", "--reason", "left the company")
    world.stack.wait_idle()

    def removed() -> bool:
        receipt = api.get(f"/businesses/{world.business_id}/members/{member}/offboarding",
                          token=world.admin.token).json()
        return receipt.get("status") not in (None, "IN_PROGRESS")

    eventually(removed, timeout=30, what="offboarding finished")
    status = next(m["status"] for m in run("members", world.business_id, "--json")["members"]
                  if m["member_id"] == member)
    assert status == "REMOVED"


def test_scim_tokens_and_bundles(world: World, run: Any, api: Any) -> None:
    created = run("scim-token", world.business_id, "create", "okta", "--json")
    assert created["token"].startswith("scim_") and created["scim_base_url"].endswith(world.business_id)
    listed = run("scim-token", world.business_id, "list")
    assert created["token_id"] in listed and created["token"] not in listed
    out = run("scim-token", world.business_id, "rotate", created["token_id"])
    assert "shown once" in out and created["token"] not in out
    revoked = run("scim-token", world.business_id, "revoke", created["token_id"], "--json")
    assert revoked["status"] == "REVOKED"
    bundle = run("bundle", world.business_id, "create", "Social editors", "--grant", "acct-1:Editor", "--json")
    assert bundle["grants"] == [{"account_id": "acct-1", "role": "Editor"}]
    changed = run("bundle", world.business_id, "set-grants", bundle["group_id"], "--grant", "acct-2:analyst",
                  "--json")
    assert changed["grants"] == [{"account_id": "acct-2", "role": "Analyst"}]
    assert "Social editors" in run("bundle", world.business_id, "list")
    assert "Conflict" in run("bundle", world.business_id, "create", "social EDITORS", ok=False)
