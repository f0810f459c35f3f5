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
    # the sweep reads its index entries only: the template projects what the models say it reads
    projections = {i["IndexName"]: i["Projection"] for i in table["GlobalSecondaryIndexes"]}
    assert projections == expected["projections"]
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
    resources = stack.template["Resources"]
    optional = {lid for lid, r in resources.items() if r.get("Condition") == "WithUserPool"}
    assert optional == {"UserPool", "UserPoolDomain", "UserPoolClient"}  # CreateUserPool=false: the local IdP
    declared = set(resources) - optional
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


def test_the_optional_cognito_user_pool_is_what_the_api_then_trusts() -> None:
    """CreateUserPool=true: the authorizer trusts the created pool's issuer and its public app client."""
    from infra.template import Resolver, translate
    from tests.conftest import REPO_ROOT

    cfn = translate(REPO_ROOT / "template.yaml", "eu-west-1")
    scheme = cfn["Resources"]["HttpApi"]["Properties"]["Body"]["components"]["securitySchemes"]["JwtAuthorizer"]
    jwt_config = scheme["x-amazon-apigateway-authorizer"]["jwtConfiguration"]
    with_pool = Resolver(cfn, "eu-west-1", "accessflow", {"CreateUserPool": "true"})
    with_pool.refs.update({"UserPool": "eu-west-1_Abc123", "UserPoolClient": "client-42"})
    assert with_pool.resolve(jwt_config) == {
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123", "audience": ["client-42"]}
    own_idp = Resolver(cfn, "eu-west-1", "accessflow", {"JwtIssuer": "https://idp.example", "JwtAudience": "app"})
    assert own_idp.resolve(jwt_config) == {"issuer": "https://idp.example", "audience": ["app"]}

    client = cfn["Resources"]["UserPoolClient"]["Properties"]
    assert (client["GenerateSecret"], client["AllowedOAuthFlows"], client["AllowedOAuthScopes"]) == \
        (False, ["code"], ["openid", "email", "profile"])
    assert [c["Fn::Sub"] for c in client["CallbackURLs"]] == \
        ["${PublicBaseUrl}/accept/callback", "${PublicBaseUrl}/console/callback"]


ASYNC_EVENT_TYPES = {"EventBridgeRule", "CloudWatchEvent", "SNS", "Schedule", "ScheduleV2", "S3", "SQS"}


def test_functions_invoked_asynchronously_have_a_dead_letter_queue(stack: Any) -> None:
    """checkov's "a DLQ on every function" (CKV_AWS_116) is skipped in .checkov.yaml because only an
    asynchronous invocation can use one: this is the check that does apply. Every function an event
    source invokes asynchronously (EventBridge, SNS, schedules) sends what still fails after Lambda's
    retries to the function dead-letter queue."""
    from infra.template import load_yaml

    sam = load_yaml(stack.template_path)["Resources"]
    asynchronous = sorted(lid for lid, res in sam.items() if res["Type"] == "AWS::Serverless::Function"
                          and {e["Type"] for e in (res["Properties"].get("Events") or {}).values()} & ASYNC_EVENT_TYPES)
    assert asynchronous == ["DeliveryEventsFunction", "IntakeFunction", "LeaverGuardNotifyFunction",
                            "MoverIntakeFunction", "ReviewScheduleFunction", "ScimFollowUpFunction", "SweepFunction"]
    for lid in asynchronous:  # as SAM translates it for CloudFormation (and the local stack honours it)
        config = stack.template["Resources"][lid]["Properties"].get("DeadLetterConfig") or {}
        assert config.get("TargetArn") == {"Fn::GetAtt": ["FunctionDeadLetterQueue", "Arn"]}, lid


def test_api_access_logs_never_carry_a_query_string_or_a_header() -> None:
    """The access log format logs the route key and the path, never ``$context.requestOverride``,
    the query string (the accept page's link token) or a header (the bearer token)."""
    from pathlib import Path

    from infra.template import load_yaml

    template = load_yaml(Path(__file__).resolve().parents[2] / "template.yaml")
    fmt = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    assert "$context.routeKey" in fmt and "$context.path" in fmt
    for leak in ("querystring", "requestoverride", "header", "$input", "$request"):
        assert leak not in fmt.lower(), leak


def test_revocation_concurrency_is_the_templates_parameter(stack: Any) -> None:
    """The offboarding Map's concurrency comes from the template (``RevocationMaxConcurrency``, default
    10) through the definition substitutions, not from a number written in the ASL."""
    import json

    sfn = stack.client("stepfunctions")
    definition = json.loads(sfn.describe_state_machine(
        stateMachineArn=stack.state_machines["OffboardingStateMachine"])["definition"])
    branch = next(b for b in definition["States"]["RemoveAccess"]["Branches"] if "RevokeGrants" in b["States"])
    revoke = branch["States"]["RevokeGrants"]
    assert "MaxConcurrency" not in revoke and revoke["MaxConcurrencyPath"] == "$.plan.max_concurrency"
    selector = branch["States"]["PlanRevocation"]["ResultSelector"]
    assert selector["max_concurrency.$"] == "States.StringToJson('10')"
    assert stack.template["Parameters"]["RevocationMaxConcurrency"]["Default"] == 10
