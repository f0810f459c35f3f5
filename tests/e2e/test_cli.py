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
            "offboard", "offboarding", "rerun-offboarding", "policy", "audit", "review", "dev-token", "accounts",
            "add-account", "rename-account", "retire-account", "me", "bootstrap", "scim-token",
            "bundle", "move")
NO_BUSINESS = ("dev-token", "me", "bootstrap")


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


@pytest.fixture
def run(world: World) -> Any:
    """Run ``accessflow`` as a user would: a separate process (the API runs in this one and logs to its
    stdout), configured through the environment."""
    env = os.environ | {"ACCESSFLOW_API_URL": world.stack.api_url, "ACCESSFLOW_TOKEN": world.admin.token,
                        "ACCESSFLOW_IDP_URL": world.stack.idp.issuer,
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
    if command not in NO_BUSINESS:
        assert "--api-url" in out and "--json" in out and "BUSINESS" in out
    if command == "me":
        assert "--api-url" in out and "BUSINESS" not in out
    if command == "bootstrap":
        assert all(o in out for o in ("--account", "--admin-email", "--table", "--stack", "Idempotent"))


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
    assert "cannot reach the IdP" in run("dev-token", "x@example.com", "--idp-url", "http://127.0.0.1:9", ok=False)


def test_dev_token_does_not_need_the_repository(world: World, tmp_path: Path) -> None:
    """The shipped CLI signs in with the standard library: no ``infra/`` on the path, run elsewhere."""
    env = os.environ | {"ACCESSFLOW_IDP_URL": world.stack.idp.issuer, "PYTHONPATH": str(REPO / "functions")}
    code = ("import sys, accessflow.cli as c; rc = c.main(sys.argv[1:]); "
            "assert not any(m == 'infra' or m.startswith('infra.') for m in sys.modules), 'imported infra'; "
            "raise SystemExit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "dev-token", "solo@example.com", "--name", "Solo"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    import jwt as pyjwt

    claims = pyjwt.decode(done.stdout.strip(), options={"verify_signature": False})
    assert (claims["iss"], claims["email"], claims["name"]) == (world.stack.idp.issuer, "solo@example.com", "Solo")


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


def test_accounts_add_rename_retire_and_me(world: World, run: Any, api: Any) -> None:
    b = world.business_id
    added = run("add-account", b, "ig-cli", "--name", "Instagram @cli", "--platform", "Instagram", "--json")
    assert (added["display_name"], added["platform"], added["your_role"]) == ("Instagram @cli", "instagram", "Admin")
    listing = run("accounts", b)
    assert "DISPLAY_NAME" in listing and "Instagram @cli" in listing and "acct-1" in listing
    renamed = run("rename-account", b, "ig-cli", "--name", "Instagram @cli2", "--json")
    assert renamed["display_name"] == "Instagram @cli2"
    assert "409" in run("add-account", b, "ig-cli", "--name", "x", "--platform", "tiktok", ok=False)
    retired = run("retire-account", b, "ig-cli", "--reason", "closed", "--json")
    assert retired["status"] == "RETIRED"
    assert [a["account_id"] for a in run("accounts", b, "--status", "RETIRED", "--json")["accounts"]] == ["ig-cli"]
    from tests.e2e.people import onboard

    run("add-account", b, "tt-cli", "--name", "TikTok @cli", "--platform", "tiktok")
    onboard(world, api, "cli-holder@example.com", {"tt-cli": "Editor"})
    refused = run("retire-account", b, "tt-cli", ok=False)
    assert "409" in refused and "still in use" in refused and "cli-holder@example.com" in refused

    me = run("me", "--json")
    assert [x["business_id"] for x in me["businesses"]] == [b]
    text = run("me")
    assert "Signed in as" in text and b in text and "Account acct-1 (acct-1): Admin" in text


def test_bootstrap_creates_once_then_changes_nothing(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Run in this process: the stack's AWS (moto) lives here, as a real operator's AWS lives in theirs."""
    table = stack.tables["AccessFlowTable"]
    argv = ["bootstrap", "--table", table, "--business-id", "boot-co", "--name", "Boot Co",
            "--account", "tt:TikTok @boot:tiktok", "--account", "meta:Meta Ads: Boot:meta-ads",
            "--admin-email", "Boss@Boot.example", "--admin-name", "Bo Boss"]
    assert cli.main([*argv, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changed"] and first["admin"]["status"] == "ACTIVE"
    assert first["admin"]["email"] == "boss@boot.example"

    from accessflow.store import repository as store

    def trail() -> list[str]:
        return [e.entry_id for e in store.audit_trail("boot-co")[0]]

    before = trail()
    assert cli.main(argv) == 0
    assert "Nothing to change" in capsys.readouterr().out
    assert trail() == before  # not even an audit entry

    accounts = {a.account_id: (a.name, a.platform, a.admin_count) for a in store.get_accounts("boot-co")}
    assert accounts == {"tt": ("TikTok @boot", "tiktok", 1), "meta": ("Meta Ads: Boot", "meta-ads", 1)}
    assert cli.main([*argv, "--account", "yt:YouTube @boot:youtube"]) == 0
    out = capsys.readouterr().out
    assert "added account yt" in out and "boss@boot.example" in out
    assert store.roles_of("boot-co", first["admin"]["member_id"])["yt"].value == "Admin"


def test_bootstrap_needs_a_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(SystemExit) as done:
        cli.main(["bootstrap", "--business-id", "x", "--name", "X", "--account", "a:A:tiktok",
                  "--admin-email", "a@x.example", "--admin-name", "A"])
    assert "--table" in str(done.value.code)


def test_bootstrap_reads_the_stack_outputs(stack: Any, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    def outputs(name: str, region: str | None) -> dict[str, str]:
        seen.append(name)
        return {"TableName": stack.tables["AccessFlowTable"], "EventBusName": "bus"}

    monkeypatch.setattr(cli, "stack_outputs", outputs)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert cli.main(["bootstrap", "--stack", "accessflow", "--business-id", "stack-co", "--name", "Stack Co",
                     "--account", "a:A:tiktok", "--admin-email", "a@stack.example", "--admin-name", "A"]) == 0
    assert seen == ["accessflow"] and "Done" in capsys.readouterr().out


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


def test_policy_sets_the_recurring_review(world: World, run: Any, api: Any) -> None:
    b = world.business_id
    changed = run("policy", b, "--review-cadence", "semiannual", "--review-duration-days", "21",
                  "--review-idle-after-days", "60", "--json")
    assert (changed["review_cadence"], changed["review_duration_days"], changed["review_idle_after_days"]) == (
        "semiannual", 21, 60)
    schedule = api.get(f"/businesses/{b}/review-schedule", token=world.admin.token).json()
    assert schedule["cadence"] == "semiannual" and schedule["next_at"] is not None
    assert "400" in run("policy", b, "--review-duration-days", "0", ok=False)
