"""The access review's resources as the template declares them: each function gets the settings its
code reads, the review routes are served by ApiFunction, and the workflow is the ASL file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def test_review_functions_get_their_settings(stack: Any) -> None:
    from accessflow.settings import ApiSettings, ReviewSettings, ReviewTaskSettings

    api = stack.env("ApiFunction")
    ApiSettings.model_validate(api)
    assert ReviewSettings.model_validate(api).review_state_machine_arn == stack.state_machines["ReviewStateMachine"]
    for fn in ("ReviewNotifyFunction", "ReviewRemindFunction", "ReviewBeginCloseFunction", "ReviewApplyFunction",
               "ReviewFinishFunction"):
        ReviewTaskSettings.model_validate(stack.env(fn))


def test_review_routes_run_the_api_handler(stack: Any) -> None:
    review_routes = {r.route_key for r in stack.routes if "/reviews" in r.path}
    assert review_routes == {
        "POST /businesses/{business_id}/reviews", "GET /businesses/{business_id}/reviews",
        "GET /businesses/{business_id}/reviews/{campaign_id}",
        "GET /businesses/{business_id}/reviews/{campaign_id}/items",
        "POST /businesses/{business_id}/reviews/{campaign_id}/decisions",
        "GET /businesses/{business_id}/reviews/{campaign_id}/report"}
    assert {r.function_arn.rsplit("-", 1)[-1] for r in stack.routes if "/reviews" in r.path} == {"ApiFunction"}


def test_the_review_workflow_waits_on_timestamps(stack: Any) -> None:
    asl = json.loads((REPO / "workflows" / "review.asl.json").read_text())
    waits = {name: s for name, s in asl["States"].items() if s["Type"] == "Wait"}
    assert {n: s["TimestampPath"] for n, s in waits.items()} == {"WaitUntilHalfway": "$.halfway_at",
                                                                 "WaitUntilDeadline": "$.deadline"}
    described = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.state_machines["ReviewStateMachine"])
    assert json.loads(described["definition"])["States"].keys() == asl["States"].keys()
