"""Cost and speed of one onboarding on the local stack: an HR event through intake, the state
machine, the e-mail, the acceptance through the HTTP API, to active grants. DynamoDB calls are counted
(every botocore call, PynamoDB's included) — a stable figure for cost, unlike seconds."""

from __future__ import annotations

import collections
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 20
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
BUDGET_CALLS = 40  # DynamoDB calls per onboarding, all steps together


def run() -> dict[str, Any]:
    import botocore.client
    import requests

    from infra.localstack import LocalStack
    from tests.world import execution_for, invitation_link_token, make_world

    calls: collections.Counter[str] = collections.Counter()
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
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
    writes = sum(n for op, n in calls.items() if op in WRITES)
    per_member = total / MEMBERS
    return {
        "onboarding_members": MEMBERS,
        "onboarding_ddb_calls_per_member": round(per_member, 1),
        "onboarding_ddb_writes_per_member": round(writes / MEMBERS, 1),
        "onboarding_seconds_median": round(statistics.median(seconds), 3),
        "_failed": int(per_member > BUDGET_CALLS),
    }
