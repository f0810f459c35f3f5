"""An HR integrator against ``make serve`` from another process: the AWS-compatible endpoint.

``python -m infra.serve`` runs in a subprocess (its own moto world, seeded with the demo business
``acme``); this process is the integrator: boto3 with ``endpoint_url`` puts a joiner event on the bus,
reads the invitation e-mail from the outbox directory, signs in at the stack's IdP and accepts through
the HTTP API,
puts a leaver event, and lists the executions and reads the dead-letter queue through the endpoint.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from accessflow import devlogin
from infra.observe import LINK, eventually

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BUSINESS = "acme"  # the demo business infra.serve seeds (infra/seed.py)
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "integrator", "AWS_SECRET_ACCESS_KEY": "integrator",
               "AWS_DEFAULT_REGION": "us-east-1"}



class Served:
    """What ``infra.serve`` printed at start, and clients on its AWS endpoint."""

    def __init__(self, output: str, outbox: Path) -> None:
        self.output = output
        self.outbox = outbox
        self.api_url = self._find(r"AccessFlow local stack: (\S+)")
        self.idp_url = self._find(r"Sign-in: (\S+)")
        self.endpoint = self._find(r"AWS endpoint: (\S+)")
        self.bus = self._find(r"event bus AccessFlowBus: (\S+)")
        self.dlq = self._find(r"queue IntakeDeadLetterQueue: (\S+)")
        self.table = self._find(r"table AccessFlowTable: (\S+)")
        self.machines = {name: self._find(rf"state machine {name}: (\S+)")
                         for name in ("OnboardingStateMachine", "OffboardingStateMachine")}

    def _find(self, pattern: str) -> str:
        match = re.search(pattern, self.output)
        assert match, f"serve did not print {pattern!r}:\n{self.output}"
        return match.group(1)

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session(**{k.lower(): v for k, v in CREDENTIALS.items() if k != "AWS_DEFAULT_REGION"},
                                     region_name="us-east-1").client(service, endpoint_url=self.endpoint)

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        resp = self.client("events").put_events(Entries=[{
            "EventBusName": self.bus, "Source": "hr.workday", "DetailType": detail_type,
            "Detail": json.dumps(detail)}])
        assert resp["FailedEntryCount"] == 0, resp

    def executions(self, machine: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client("stepfunctions").list_executions(
            stateMachineArn=self.machines[machine])["executions"]
        return found

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.outbox.glob("*.eml")):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(msg["To"]):
                found.append(msg)
        return found  # type: ignore[return-value]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("serve")
    log = work / "stdout.txt"
    env = {**os.environ, "ACCESSFLOW_PORT": "0", "ACCESSFLOW_AWS_PORT": "0", "ACCESSFLOW_IDP_PORT": "0",
           "ACCESSFLOW_OUTBOX": str(work / "outbox"),
           "LOG_LEVEL": "WARNING", "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "infra.serve"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        eventually(lambda: proc.poll() is not None or "Ctrl-C to stop" in log.read_text(), timeout=90,
                   what="infra.serve to start")
        assert proc.poll() is None, log.read_text()[-3000:]
        yield Served(log.read_text(), work / "outbox")
    finally:
        proc.kill()  # everything lives in its memory; a graceful exit only adds the interpreter's teardown
        proc.wait(timeout=30)


def test_a_joiner_and_a_leaver_through_the_aws_endpoint(served: Served) -> None:
    seeded = {m: {e["executionArn"] for e in served.executions(m)} for m in served.machines}

    def new_executions(machine: str) -> list[str]:
        """Statuses of the executions started since the test began (the seed ran some)."""
        return [e["status"] for e in served.executions(machine) if e["executionArn"] not in seeded[machine]]

    joiner = f"ben-{uuid.uuid4().hex[:6]}@acme.example"
    served.put("member.onboarding.requested", {
        "business_id": BUSINESS, "email": joiner, "display_name": "Ben Baker", "employee_id": "E-1042",
        "grants": [{"account_id": "tiktok-main", "role": "Editor"}], "requested_by": "workday",
        "idempotency_key": f"workday-{joiner}"})
    invitation = eventually(lambda: served.mails_to(joiner), timeout=30, what="the invitation e-mail")[-1]
    link = LINK.search(invitation.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert link, invitation
    assert new_executions("OnboardingStateMachine") == ["RUNNING"]

    joiner_login = {"Authorization": f"Bearer {devlogin.id_token(served.idp_url, joiner)}"}
    accepted = requests.post(f"{served.api_url}/invitations/accept", json={"token": link.group(1)},
                             headers=joiner_login, timeout=30)
    assert accepted.status_code == 200, accepted.text
    member_id = accepted.json()["member_id"]
    eventually(lambda: new_executions("OnboardingStateMachine") == ["SUCCEEDED"],
               timeout=30, what="the onboarding execution to succeed")

    served.put("member.offboarding.requested", {
        "business_id": BUSINESS, "email": joiner, "reason": "terminated", "requested_by": "workday",
        "idempotency_key": f"workday-leaver-{joiner}"})
    eventually(lambda: new_executions("OffboardingStateMachine") == ["SUCCEEDED"],
               timeout=60, what="the offboarding execution to succeed")
    admin = {"Authorization": f"Bearer {devlogin.id_token(served.idp_url, 'admin@acme.example')}"}
    receipt = requests.get(f"{served.api_url}/businesses/{BUSINESS}/members/{member_id}/offboarding",
                           headers=admin, timeout=30)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["status"] == "COMPLETED", receipt.json()
    members = requests.get(f"{served.api_url}/businesses/{BUSINESS}/members", headers=admin, timeout=30).json()
    assert [(m["status"], m["grants"]) for m in members["members"] if m["member_id"] == member_id] == [("REMOVED", [])]

    served.put("member.onboarding.requested", {"business_id": BUSINESS, "email": "not-an-email"})
    sqs = served.client("sqs")
    deadline = time.monotonic() + 30
    messages: list[dict[str, Any]] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=served.dlq, MessageAttributeNames=["All"],
                                       WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1, messages
    assert json.loads(messages[0]["Body"])["event"]["detail"] == {"business_id": BUSINESS, "email": "not-an-email"}
    assert "email" in messages[0]["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"]
