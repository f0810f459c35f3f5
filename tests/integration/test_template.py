"""template.yaml and the code cannot drift apart: the stack built from the template has exactly what
the store and the API expect, and nothing the template declares is left out."""

from __future__ import annotations

from typing import Any

from accessflow.handlers.api import app
from accessflow.store.models import InvitationItem, describe_keys


def test_table_matches_the_store_models(stack: Any) -> None:
    ddb = stack.client("dynamodb")
    table = ddb.describe_table(TableName=stack.tables["AccessFlowTable"])["Table"]
    expected = describe_keys()
    assert [k["AttributeName"] for k in table["KeySchema"]] == expected["keys"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == expected["indexes"]
    # every index a model queries exists in the template
    for index in (InvitationItem.by_email, InvitationItem.by_token, InvitationItem.due, InvitationItem.remind):
        assert index.Meta.index_name in indexes
    ttl = ddb.describe_time_to_live(TableName=stack.tables["AccessFlowTable"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl" and ttl["TimeToLiveStatus"] == "ENABLED"
    backups = ddb.describe_continuous_backups(TableName=stack.tables["AccessFlowTable"])
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] \
        == "ENABLED"


def test_every_api_route_is_declared_in_the_template_and_back(stack: Any) -> None:
    """A route the code serves but the template does not declare would 404 in AWS (and vice versa)."""
    scim = [r for r in stack.routes if r.path.startswith("/scim/")]
    # the SCIM endpoint is its own function, without the JWT authorizer (it checks SCIM tokens itself)
    assert [(r.route_key, r.authorizer, r.function_arn.rsplit("-", 1)[-1]) for r in scim] == [
        ("ANY /scim/v2/businesses/{business_id}/{proxy+}", None, "ScimFunction")]
    declared = {r.route_key for r in stack.routes if r not in scim}
    served = set()
    for route in app._static_routes + app._dynamic_routes:
        path = route.path.replace("<", "{").replace(">", "}")
        served.add(f"{route.method} {path}")
    served = {s for s in served if not s.startswith(("OPTIONS ", "HEAD "))}
    assert served == declared


def test_resources_created_are_the_ones_declared(stack: Any) -> None:
    declared = {lid for lid, r in stack.template["Resources"].items()}
    assert set(stack.resources) | set(stack.ignored) == declared
    assert stack.skipped == {}
    assert {"AccessFlowTable", "IdempotencyTable", "AccessFlowBus", "IntakeDeadLetterQueue",
            "OnboardingStateMachine", "ApiFunction", "IntakeFunction"} <= set(stack.resources)


def test_functions_get_only_the_settings_the_template_gives(stack: Any) -> None:
    from accessflow.settings import ApiSettings, IntakeSettings, OnboardingTaskSettings

    ApiSettings.model_validate(stack.env("ApiFunction"))
    IntakeSettings.model_validate(stack.env("IntakeFunction"))
    for fn in ("RecordFunction", "SendInvitationFunction", "AwaitConfirmationFunction", "AnnounceFunction"):
        OnboardingTaskSettings.model_validate(stack.env(fn))
