"""Cost and speed of one onboarding on the local stack: an HR event through intake, the state
machine, the e-mail, the acceptance through the HTTP API, to active grants. DynamoDB calls are counted
(every botocore call, PynamoDB's included) — a stable figure for cost, unlike seconds.

Every call is listed with its purpose: the AccessFlow function that made it (the innermost frame in
``accessflow.store``, and the use case or handler above it), the operation, and the kind of item
(from the key's prefix). Target: at most 14 calls per onboarding."""

from __future__ import annotations

import collections
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = int(os.environ.get("BENCH_ONBOARDING_MEMBERS", "20"))
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
BUDGET_CALLS = 14  # DynamoDB calls per onboarding, all steps together


def _kind(params: dict[str, Any]) -> str:
    """The item kinds a call touches, from the keys' prefixes (``BIZ#…`` / ``INV#…``)."""
    def one(key: dict[str, Any] | None, index: str | None = None) -> str:
        if index:
            return f"index {index}"
        if not key:
            return "?"
        sk = str(next(iter(key.get("sk", {}).values()), ""))
        pk = str(next(iter(key.get("pk", key.get("id", {})).values()), ""))
        if "id" in key:
            return "idempotency record"
        if pk.startswith("AUDIT#"):
            return "audit"
        if sk == "META":
            return "business"
        return (sk.split("#", 1)[0] or pk.split("#", 1)[0]).lower() or "?"

    if "TransactItems" in params:
        kinds = []
        for item in params["TransactItems"]:
            (_, body), = item.items()
            kinds.append(one(body.get("Key") or body.get("Item")))
        return "+".join(sorted(kinds))
    if "IndexName" in params:
        return one(None, params["IndexName"])
    if "KeyConditionExpression" in params:
        return "query " + "/".join(str(v.get("S", "")).split("#", 1)[0] for v in
                                   params.get("ExpressionAttributeValues", {}).values())[:40]
    return one(params.get("Key") or params.get("Item"))


# Why each call site calls DynamoDB, in words (the bench prints the call site when it is not listed).
PURPOSES = {
    "dynamodb._put_record <- intake.handler": "intake: claim the HR event's idempotency key",
    "dynamodb._update_record <- intake.handler": "intake: store the started execution as the key's result",
    "repository.get_business <- onboarding.record_carried": "Record: the business exists; its policy and name",
    "repository._lookup <- onboarding.record_carried": "Record: is the e-mail already a member?",
    "repository.commit <- onboarding.record_carried": "Record: member + invitation + audit, one transaction",
    "repository.get_invitation <- onboarding._invitation": "SendInvitation: status/delivery (a retry sends nothing)",
    "repository.commit <- onboarding.deliver": "SendInvitation: rotate the link hash, keep the task token + audit",
    "repository.finish_sending <- onboarding.deliver": "SendInvitation: delivery SENT, schedule the reminder",
    "repository.invitation_by_token_hash <- onboarding.accept": "accept: find the invitation by link hash",
    "repository._lookup <- onboarding.accept": "accept: is the login linked to another member?",
    "repository.commit <- onboarding.accept": "accept: invitation ACCEPTED + login link + audit",
    "repository.commit <- onboarding._auto_confirm": "AutoConfirm: grants + member ACTIVE + audit",
    "repository.claim_outcome_notice <- onboarding.announce": "Notify: claim the one notice (returns the item)",
}


def _purpose() -> str:
    """Where in AccessFlow the call came from: ``usecase.function → store.function``."""
    frames: list[str] = []
    frame = sys._getframe(2)
    while frame is not None and len(frames) < 2:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("accessflow.") or module.startswith("aws_lambda_powertools.utilities.idempotency"):
            name = f"{module.rsplit('.', 1)[-1]}.{frame.f_code.co_name}"
            if not frames or (module.startswith("accessflow.") and not module.startswith("accessflow.store")
                              and frames[-1] != name):
                frames.append(name)
        frame = frame.f_back  # type: ignore[assignment]
    return " <- ".join(frames) or "?"


def run() -> dict[str, Any]:
    import botocore.client
    import requests

    from infra.localstack import LocalStack
    from tests.world import execution_for, invitation_link_token, make_world

    calls: collections.Counter[str] = collections.Counter()
    purposes: collections.Counter[tuple[str, str, str]] = collections.Counter()
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
            purposes[(_purpose(), operation, _kind(params))] += 1
        return original(self, operation, params)

    from accessflow.usecases.onboarding import invitation_id_for

    seconds: list[float] = []
    with LocalStack(ROOT / "template.yaml", outbox_dir=ROOT / ".local" / "bench-outbox",
                    parameters={"LogLevel": "ERROR"}) as stack:
        world = make_world(stack)
        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined]
        try:
            for i in range(MEMBERS):
                email = f"bench-{i}@example.com"
                login = stack.mint_token(email)  # signing in at the IdP is not part of the measured flow
                start = time.perf_counter()
                detail = world.hr_joiner(email, [{"account_id": "acct-1", "role": "Editor"},
                                                 {"account_id": "acct-2", "role": "Analyst"}])
                token = invitation_link_token(stack, email)
                response = requests.post(f"{stack.api_url}/invitations/accept", json={"token": token}, timeout=30,
                                         headers={"Authorization": f"Bearer {login}"})
                assert response.status_code == 200, response.text
                execution = execution_for(stack, invitation_id_for(world.business_id, detail["idempotency_key"]))
                assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
                seconds.append(time.perf_counter() - start)
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined]
    total = sum(calls.values())
    print(f"   DynamoDB calls per onboarding ({MEMBERS} members), by purpose:")
    for (where, operation, kind), n in sorted(purposes.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"   {n / MEMBERS:5.1f}  {operation:18} {kind:24} {PURPOSES.get(where, where)}")
    writes = sum(n for op, n in calls.items() if op in WRITES)
    per_member = total / MEMBERS
    return {
        "onboarding_members": MEMBERS,
        "onboarding_ddb_calls_per_member": round(per_member, 1),
        "onboarding_ddb_writes_per_member": round(writes / MEMBERS, 1),
        "onboarding_seconds_median": round(statistics.median(seconds), 3),
        "_failed": int(per_member > BUDGET_CALLS),
    }
