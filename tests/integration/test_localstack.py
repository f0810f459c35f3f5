"""The embedded local stack itself, against a small fixture template (and the real one)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINI_TEMPLATE, REPO_ROOT

STACK_TEMPLATE = MINI_TEMPLATE


def _item(stack: Any, pk: str, sk: str) -> dict[str, Any] | None:
    resp = stack.client("dynamodb").get_item(TableName=stack.tables["Table"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return resp.get("Item")


def _query(stack: Any, pk: str) -> list[dict[str, Any]]:
    resp = stack.client("dynamodb").query(
        TableName=stack.tables["Table"], KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": pk}})
    return list(resp["Items"])


def _declared(template: dict[str, Any]) -> dict[str, str]:
    return {lid: r["Type"] for lid, r in template["Resources"].items()}


def test_everything_declared_is_created(stack: Any) -> None:
    from infra.localstack import NO_OP_TYPES

    declared = _declared(stack.template)
    assert stack.skipped == {}
    assert set(stack.resources) == {lid for lid, t in declared.items() if t not in NO_OP_TYPES}
    assert set(stack.ignored) == {lid for lid, t in declared.items() if t in NO_OP_TYPES}

    ddb = stack.client("dynamodb")
    table = ddb.describe_table(TableName=stack.tables["Table"])["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    assert table["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    ttl = ddb.describe_time_to_live(TableName=stack.tables["Table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = ddb.describe_continuous_backups(TableName=stack.tables["Table"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    definition = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.state_machines["Workflow"])["definition"]
    assert stack.resources["FailFunction"][1] in definition
    assert "$$.Task.Token" in definition  # substitutions did not touch context paths


def test_environment_is_resolved_and_applied(stack: Any) -> None:
    import os

    env = stack.env("ApiFunction")
    assert env["MINI_TABLE"] == stack.tables["Table"]
    assert env["MINI_WORKFLOW_ARN"] == stack.state_machines["Workflow"]
    assert os.environ["MINI_BUS"] == stack.buses["Bus"]
    assert "MINI_WORKFLOW_ARN" not in stack.env("RecorderFunction")


def test_lambda_error_name_reaches_a_catch(stack: Any) -> None:
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.state_machines["Workflow"], name="catch-1",
                              input=json.dumps({"mode": "fail", "ref": "r1"}))["executionArn"]
    desc = stack.wait_execution(arn)
    assert desc["status"] == "SUCCEEDED", desc
    output = json.loads(desc["output"])
    assert output["outcome"] == "caught"
    assert output["error"]["Error"] == "InvitationExpired"


def test_eventbridge_to_lambda_with_envelope(stack: Any) -> None:
    event_id = stack.put_event("thing.happened", {"ref": "t1"}, source="hr.test")
    stack.wait_idle()
    item = _item(stack, "EVENT#t1", "EVENT")
    assert item is not None
    envelope = json.loads(item["envelope"]["S"])
    assert envelope["id"] == event_id
    assert envelope["detail-type"] == "thing.happened"
    assert envelope["source"] == "hr.test"
    assert envelope["detail"] == {"ref": "t1"}
    assert envelope["time"].endswith("Z")
    assert {"version", "account", "region", "resources"} <= set(envelope)
    tapped = [e for e in stack.events if e["id"] == event_id]
    assert tapped and tapped[0]["bus"] == stack.buses["Bus"] and tapped[0]["detail"] == {"ref": "t1"}


def test_handler_failure_is_retried_then_dead_lettered(stack: Any) -> None:
    stack.put_event("thing.happened", {"ref": "bad", "fail": True})
    stack.wait_idle()
    sqs = stack.client("sqs")
    msgs = sqs.receive_message(QueueUrl=stack.queues["DeadLetterQueue"], MessageAttributeNames=["All"],
                               MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    attrs = msgs[0]["MessageAttributes"]
    assert attrs["ERROR_CODE"]["StringValue"] == "ValueError"
    assert "cannot record bad" in attrs["ERROR_MESSAGE"]["StringValue"]
    assert json.loads(msgs[0]["Body"])["detail"]["ref"] == "bad"
    assert [f["errorType"] for f in stack.delivery_failures] == ["ValueError"]


def test_eventbridge_to_state_machine_and_put_events_from_workflow(stack: Any) -> None:
    stack.put_event("work.requested", {"mode": "wait", "ref": "w1"})
    execs = [e for e in stack.executions("Workflow") if e["name"] != "catch-1"]
    assert len(execs) == 1 and execs[0]["name"]
    arn = execs[0]["executionArn"]
    stack.wait_for_state(arn, "WaitForToken")
    token = None
    for _ in range(200):
        item = _item(stack, "TOKEN#w1", "TOKEN")
        if item:
            token = item["token"]["S"]
            break
        import time

        time.sleep(0.01)
    assert token
    stack.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps({"ok": True}))
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    done = [e for e in stack.events if e["detail-type"] == "work.done"]
    assert done == [{**done[0], "source": "mini.workflow", "detail": {"ref": "w1", "approval": {"ok": True}}}]
    assert json.loads(stack.client("stepfunctions").describe_execution(executionArn=arn)["input"]) == {
        "mode": "wait", "ref": "w1"}  # InputPath $.detail


def test_schedules_fire_when_the_clock_advances(stack: Any) -> None:
    from accessflow.adapters import clock as app_clock

    before = stack.clock.now()
    fired = stack.advance(timedelta(minutes=31))
    assert fired == ["SweepFunctionEvery15Minutes", "SweepFunctionEvery15Minutes"]
    sweeps = [json.loads(i["event"]["S"]) for i in _query(stack, "SWEEP")]
    assert len(sweeps) == 2
    assert all(s["source"] == "aws.events" and s["detail-type"] == "Scheduled Event" for s in sweeps)
    assert sweeps[0]["resources"] == [stack.resources["SweepFunctionEvery15Minutes"][1]]
    assert stack.clock.now() - before >= timedelta(minutes=31)
    assert abs(app_clock.get_offset() - stack.clock.offset) < timedelta(seconds=1)

    fired = stack.advance(timedelta(days=1), coalesce=True)
    assert sorted(fired) == ["SweepFunctionDaily", "SweepFunctionEvery15Minutes"]
    assert any(i["sk"]["S"].startswith("daily#") for i in _query(stack, "SWEEP"))  # Scheduler Input

    stack.run_schedule("SweepFunctionEvery15Minutes")
    assert len(_query(stack, "SWEEP")) == 5


def test_sesv2_mail_lands_in_the_outbox(stack: Any) -> None:
    result = stack.invoke("MailFunction", {"to": "ana@example.com", "subject": "You are invited",
                                           "text": "plain body", "html": "<p>html body</p>"})
    assert result["message_id"]
    msg = stack.outbox[-1]
    assert (msg.to, msg["from"], msg.subject) == (["ana@example.com"], "noreply@mini.local", "You are invited")
    assert (msg.text, msg.html) == ("plain body", "<p>html body</p>")
    parsed = email.message_from_bytes(Path(msg.path).read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ana@example.com" and parsed["Subject"] == "You are invited"
    assert parsed.get_body(("plain",)).get_content().strip() == "plain body"  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content().strip() == "<p>html body</p>"  # type: ignore[union-attr]


def test_invoke_raises_the_handler_exception(stack: Any) -> None:
    with pytest.raises(Exception, match="expired") as info:
        stack.invoke("FailFunction", {"ref": "x"})
    assert type(info.value).__name__ == "InvitationExpired"


# -- HTTP API ---------------------------------------------------------------------------------------
def test_public_route_and_unknown_route(api: Any) -> None:
    resp = api.get("/hello")
    assert (resp.status_code, resp.text) == (200, "hello")
    resp = api.get("/nope")
    assert resp.status_code == 404 and resp.json() == {"message": "Not Found"}
    resp = api.post("/hello")
    assert resp.status_code == 404


@pytest.mark.parametrize("token", [None, "garbage", "EXPIRED", "WRONG_AUD", "FOREIGN_KEY"])
def test_jwt_rejections_are_401_without_calling_the_function(stack: Any, api: Any, token: str | None) -> None:
    import jwt as pyjwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if token == "EXPIRED":
        token = stack.mint_token("ana@example.com", ttl=-10)
    elif token == "WRONG_AUD":
        token = stack.mint_token("ana@example.com", extra={"aud": "someone-else"})
    elif token == "FOREIGN_KEY":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        claims = pyjwt.decode(stack.mint_token("ana@example.com"), options={"verify_signature": False})
        token = pyjwt.encode(claims, other, algorithm="RS256")
    resp = api.get("/me", token=token)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"message": "Unauthorized"}


def test_jwt_claims_and_request_reach_the_function(stack: Any, api: Any) -> None:
    token = stack.mint_token("ana@example.com", name="Ana")
    resp = api.post("/items/it-1?x=1", token=token, json={"a": 1}, headers={"Cookie": "c1=v1; c2=v2"})
    assert resp.status_code == 201
    assert resp.headers["x-route"] == "POST /items/{item_id}"
    assert "seen=1" in resp.headers["set-cookie"]
    body = resp.json()
    claims = body["claims"]
    assert claims["email"] == "ana@example.com" and claims["email_verified"] == "true"
    assert claims["name"] == "Ana" and claims["iss"] == stack.idp.issuer
    from accessflow.devlogin import default_sub

    assert claims["sub"] == default_sub("ana@example.com")
    assert body["pathParameters"] == {"item_id": "it-1"}
    assert json.loads(body["body"]) == {"a": 1}
    assert body["cookies"] == ["c1=v1", "c2=v2"]
    assert body["env_table"] == stack.tables["Table"]


def test_greedy_path_and_inferred_response(api: Any) -> None:
    resp = api.request("DELETE", "/files/a/b/c.txt?k=1&k=2")
    assert resp.status_code == 200
    assert resp.json() == {"path": "a/b/c.txt", "query": {"k": "1,2"}}


# -- isolation and the real template ----------------------------------------------------------------
def test_only_one_stack_per_process(stack: Any) -> None:
    from infra.localstack import LocalStack

    with pytest.raises(RuntimeError, match="another LocalStack"):
        LocalStack(MINI_TEMPLATE, serve_http=False).start()


def test_cron_expressions() -> None:
    from datetime import UTC, datetime

    from infra.localstack import CronExpression

    start = datetime(2026, 1, 1, 10, 7, tzinfo=UTC)  # a Thursday
    until = start + timedelta(days=14)
    every_quarter = CronExpression("cron(0/15 * * * ? *)")
    assert every_quarter.next_after(start, until) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    weekdays_9am = CronExpression("cron(0 9 ? * MON-FRI *)")
    assert weekdays_9am.next_after(start, until) == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert weekdays_9am.next_after(datetime(2026, 1, 2, 9, 0, tzinfo=UTC), until) == datetime(
        2026, 1, 5, 9, 0, tzinfo=UTC)
    assert CronExpression("cron(0 0 1 JAN ? *)").next_after(start, until) is None
    with pytest.raises(ValueError):
        CronExpression("cron(0 0 L * ? *)")


REAL_TEMPLATE = REPO_ROOT / "template.yaml"

_BUILD_REAL = """
import json, sys
from infra.localstack import NO_OP_TYPES, LocalStack
with LocalStack(sys.argv[1], outbox_dir=sys.argv[2]) as s:
    print(json.dumps({"declared": {k: r["Type"] for k, r in s.template["Resources"].items()},
                      "created": sorted(s.resources), "ignored": sorted(s.ignored), "skipped": s.skipped,
                      "excluded": sorted(s.excluded),
                      "conditional": sorted(k for k, r in s.template["Resources"].items() if "Condition" in r),
                      "no_op": sorted(NO_OP_TYPES), "routes": [r.route_key for r in s.routes]}))
"""


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_real_template_builds_completely(tmp_path: Path) -> None:
    """template.yaml: what is created equals what it declares, minus the no-op allow-list and the resources
    whose Condition is false (e.g. the optional Cognito user pool).

    Runs in a subprocess because one process holds one stack (this module's is open).
    """
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _BUILD_REAL, str(REAL_TEMPLATE), str(tmp_path)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'functions'}"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    declared = {lid: t for lid, t in report["declared"].items() if lid not in report["excluded"]}
    assert report["skipped"] == {}
    assert set(report["excluded"]) <= set(report["conditional"])
    assert set(report["created"]) == {lid for lid, t in declared.items() if t not in report["no_op"]}
    assert set(report["ignored"]) == {lid for lid, t in declared.items() if t in report["no_op"]}
    assert report["routes"], "the HTTP API has routes"


def test_a_cancelled_transaction_leaves_every_item_as_it_was(stack: Any) -> None:
    """DynamoDB applies all of a transaction or nothing: the stack rolls moto's writes back item by item."""
    ddb = stack.client("dynamodb")
    table = stack.tables["Table"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "TX"}, "sk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "TX"}, "sk": {"S": "gone"}, "n": {"N": "1"}})

    def key(sk: str) -> dict[str, Any]:
        return {"pk": {"S": "TX"}, "sk": {"S": sk}}

    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": key("a"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": table, "Item": {**key("new"), "n": {"N": "1"}}}},
            {"Delete": {"TableName": table, "Key": key("gone")}},
            {"ConditionCheck": {"TableName": table, "Key": key("missing"),
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    reasons = [r["Code"] for r in info.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert [(i["sk"]["S"], i["n"]["N"]) for i in _query(stack, "TX")] == [("a", "1"), ("gone", "1")]


def test_executions_of_one_definition_share_one_parse(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto parses the ASL at every execution start (~50 ms of CPU for the onboarding definition); the
    local stack parses each definition once, and executions running at once on the shared program each
    take their own path (here: a Lambda error caught by name)."""
    from infra.localstack import process, stepfunctions

    parses: list[str] = []
    original = process._ORIGINALS[stepfunctions.ENTRYPOINT.key]

    def counted(worker: Any) -> Any:
        parses.append(worker._evaluation_details.execution_details.name)
        return original(worker)

    monkeypatch.setitem(process._ORIGINALS, stepfunctions.ENTRYPOINT.key, counted)
    monkeypatch.setattr(stepfunctions, "_PROGRAMS", {})
    sfn = stack.client("stepfunctions")
    arns = [sfn.start_execution(stateMachineArn=stack.state_machines["Workflow"], name=f"parse-{i}",
                                input=json.dumps({"mode": "fail", "ref": f"p{i}"}))["executionArn"] for i in range(3)]
    for arn in arns:
        desc = stack.wait_execution(arn)
        assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"])["outcome"] == "caught", desc
    assert len(parses) == 1
