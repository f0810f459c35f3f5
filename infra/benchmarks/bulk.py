"""A bulk import of 1,000 rows on the local stack (issue 11, acceptance 6).

One ``POST …/invitations:bulk`` of a 1,000-row CSV file (1,000 people, Editor or Analyst on one of
two accounts) through the local HTTP API, then the bulk workflow's Distributed Map starts one
onboarding per person. Figures:

* ``bulk_seconds_per_row``: wall seconds from the request to the import's COMPLETED (every row
  decided, every onboarding execution started), divided by the rows;
* ``bulk_executions``: executions of the onboarding state machine the import started (listed from
  Step Functions); must equal the rows created (``bulk_rows_created``);
* ``bulk_validate_seconds``: the dry run of the same file (validation alone, nothing written);
* ``bulk_all_sent_seconds``: until every invitation e-mail went out (the onboardings ran).

Seconds on the local stack measure this machine (moto runs every execution in threads of one Python
process); the counts are the stable figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "1000"))


def run() -> dict[str, Any]:
    import requests

    from accessflow.adapters.clock import utcnow
    from infra.localstack import LocalStack
    from infra.observe import bind_store

    with tempfile.TemporaryDirectory() as tmp, LocalStack(outbox_dir=Path(tmp)) as stack:
        from accessflow.usecases.business import bootstrap

        bind_store(stack)
        b = "bench-bulk"
        bootstrap(b, "Bench Bulk", [("acct-1", "Account 1", "tiktok"), ("acct-2", "Account 2", "instagram")],
                  "admin@bench.example", "Bench Admin", now=utcnow())
        token = stack.mint_token("admin@bench.example")
        text = "email,name,account,role\n" + "".join(
            f"person.{i:04d}@bench.example,Person {i:04d},acct-{1 + i % 2},{'Editor' if i % 3 else 'Analyst'}\n"
            for i in range(ROWS))
        url = f"{stack.api_url}/businesses/{b}/invitations:bulk"
        headers = {"Authorization": f"Bearer {token}"}

        started = time.monotonic()
        dry = requests.post(url, json={"csv": text, "dry_run": True}, headers=headers, timeout=300)
        validate_seconds = time.monotonic() - started
        assert dry.status_code == 200 and dry.json()["counts"]["valid"] == ROWS, dry.text

        started = time.monotonic()
        r = requests.post(url, json={"csv": text, "import_id": "bench"}, headers=headers, timeout=300)
        assert r.status_code == 202, r.text
        stack.wait_execution(r.json()["execution_arn"], timeout=3600)
        done_seconds = time.monotonic() - started
        report = requests.get(f"{stack.api_url}/businesses/{b}/imports/bench", headers=headers, timeout=60).json()
        while len(stack.outbox) < ROWS and time.monotonic() - started < 3600:
            time.sleep(0.2)
        sent_seconds = time.monotonic() - started
        executions = len(stack.executions("OnboardingStateMachine"))
        created = report["counts"]["created"]
        failed = report["status"] != "COMPLETED" or executions != created or created != ROWS
        return {
            "bulk_rows": ROWS,
            "bulk_rows_created": created,
            "bulk_executions": executions,
            "bulk_seconds_per_row": round(done_seconds / ROWS, 4),
            "bulk_import_seconds": round(done_seconds, 1),
            "bulk_validate_seconds": round(validate_seconds, 2),
            "bulk_all_sent_seconds": round(sent_seconds, 1),
            **({"_failed": 1} if failed else {}),
        }
