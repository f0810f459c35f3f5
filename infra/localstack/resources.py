"""The template's resources, created with boto3 calls on moto (the template is the only source of what exists).

The SAM template is translated offline (:mod:`infra.template`), then every resource is created in
dependency order by a ``_create_<Service>_<Type>`` method; the types listed in :data:`NO_OP_TYPES`
have no behaviour to emulate and are only recorded. What a resource means at run time (a function,
a rule's deliveries, a schedule, a state machine) is registered with the component that emulates it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.lambda_runtime import FunctionSpec
from infra.localstack.eventbridge import EventBridge
from infra.localstack.functions import Functions
from infra.localstack.schedules import Schedule, Scheduler
from infra.localstack.stepfunctions import Executions
from infra.template import (
    ACCOUNT_ID,
    Resolver,
    TemplateError,
    creation_order,
    load_definition,
    local_path_from_s3,
    translate,
)

LOG = logging.getLogger("infra.localstack")
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

_TRANSLATED: dict[tuple[Path, int, str], dict[str, Any]] = {}

#: Types that have no behaviour to emulate locally: accepted, listed in ``LocalStack.ignored``.
NO_OP_TYPES = frozenset({
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::CloudWatch::Dashboard",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::ApiGatewayV2::DomainName",
    "AWS::CloudFormation::WaitConditionHandle",
})


class Resources:
    """What one stack created from its template, by logical id."""

    def __init__(self, template_path: Path, *, region: str, stack_name: str, parameters: dict[str, str],
                 client: Callable[[str], Any], functions: Functions, executions: Executions,
                 eventbridge: EventBridge, scheduler: Scheduler) -> None:
        self.template_path = template_path
        self.region = region
        self.stack_name = stack_name
        self.parameters = parameters
        self.client = client
        self._functions = functions
        self._executions = executions
        self._eventbridge = eventbridge
        self._scheduler = scheduler

        self.template: dict[str, Any] = {}
        self.resources: dict[str, tuple[str, str]] = {}
        self.ignored: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.excluded: dict[str, str] = {}  # Condition false: not created, as in CloudFormation
        self.tables: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        self.topics: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self.routes: list[Any] = []
        self._added_paths: list[str] = []

    def translate(self) -> None:
        """The translated template, cached per process until the file changes (samtranslator takes
        about a second on a loaded machine, and a test run builds a stack per module)."""
        key = (self.template_path, self.template_path.stat().st_mtime_ns, self.region)
        if key not in _TRANSLATED:
            _TRANSLATED[key] = translate(self.template_path, self.region)
        self.template = copy.deepcopy(_TRANSLATED[key])

    # -- code on sys.path --------------------------------------------------------------------------
    def add_code_paths(self) -> None:
        paths = [REPO_ROOT / "functions"]
        for res in self.template.get("Resources", {}).values():
            code = (res.get("Properties") or {}).get("Code") if res.get("Type") == "AWS::Lambda::Function" else None
            if isinstance(code, dict) and "S3Bucket" in code:
                local = local_path_from_s3(str(code["S3Bucket"]), str(code["S3Key"]))
                if local is not None:
                    paths.append(local if local.is_dir() else local.parent)
        for p in paths:
            if str(p) not in sys.path:
                sys.path.insert(0, str(p))
                self._added_paths.append(str(p))

    def remove_code_paths(self) -> None:
        for p in self._added_paths:
            with contextlib.suppress(ValueError):
                sys.path.remove(p)
        self._added_paths.clear()

    # -- creation ----------------------------------------------------------------------------------
    def create_all(self) -> None:
        resources: dict[str, Any] = self.template.get("Resources", {})
        self._resolver = Resolver(self.template, self.region, self.stack_name, self.parameters)
        for lid in creation_order(resources):
            res = resources[lid]
            rtype = res["Type"]
            if res.get("Condition") and not self._resolver.condition(res["Condition"]):
                self.excluded[lid] = rtype
                continue
            if rtype in NO_OP_TYPES:
                self.ignored[lid] = rtype
                self._resolver.refs[lid] = lid
                self._resolver.attrs[lid] = {}
                continue
            creator = getattr(self, "_create_" + rtype.replace("AWS::", "").replace("::", "_"), None)
            if creator is None:
                LOG.warning("resource %s of type %s is not emulated locally", lid, rtype)
                self.skipped[lid] = rtype
                continue
            props = self._resolver.resolve(res.get("Properties") or {})
            try:
                ref, attrs = creator(lid, props)
            except TemplateError:
                raise
            except Exception as exc:  # name the resource: a bare botocore error says nothing about which
                raise TemplateError(f"creating {lid} ({rtype}) failed: {exc}") from exc
            self._resolver.refs[lid] = ref
            self._resolver.attrs[lid] = attrs
            self.resources[lid] = (rtype, attrs.get("Arn") or ref)
        if self.ignored:
            LOG.info("no-op resources: %s", ", ".join(f"{k} ({v})" for k, v in sorted(self.ignored.items())))
        self.routes[:] = self._build_routes(resources)

    def _name(self, lid: str, max_len: int = 64) -> str:
        return f"{self.stack_name}-{lid}"[:max_len]

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT_ID}:{resource}"

    @staticmethod
    def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
        tags = props.get("Tags") or []
        if isinstance(tags, dict):
            return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
        return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags]

    def _create_IAM_Role(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        iam = self.client("iam")
        name = props.get("RoleName") or self._name(lid)
        role = iam.create_role(RoleName=name, Path=props.get("Path", "/"),
                               AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument") or {}))
        for pol in props.get("Policies") or []:
            doc = {"Version": "2012-10-17", **pol["PolicyDocument"]}  # SAM policy templates omit it
            try:
                iam.put_role_policy(RoleName=name, PolicyName=pol["PolicyName"], PolicyDocument=json.dumps(doc))
            except Exception as exc:  # IAM is not enforced locally; a policy moto rejects is only noted
                LOG.warning("role %s: policy %s not stored: %s", lid, pol.get("PolicyName"), exc)
        # ManagedPolicyArns are not attached: IAM is not enforced and moto lacks most AWS policies.
        return name, {"Arn": role["Role"]["Arn"], "RoleId": role["Role"]["RoleId"]}

    def _create_DynamoDB_Table(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        ddb = self.client("dynamodb")
        name = props.get("TableName") or self._name(lid, 255)
        kwargs: dict[str, Any] = {
            "TableName": name, "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput",
                    "StreamSpecification", "TableClass", "DeletionProtectionEnabled"):
            if key in props:
                kwargs[key] = props[key]
        if kwargs["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in kwargs:
            kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        if props.get("Tags"):
            kwargs["Tags"] = self._tags(props)
        desc = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        self.tables[lid] = name
        return name, {"Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")}

    def _create_Lambda_Function(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        lam = self.client("lambda")
        name = props.get("FunctionName") or self._name(lid)
        env = {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("README", f"{lid} runs in-process from {props.get('Code')}")
        kwargs: dict[str, Any] = {
            "FunctionName": name, "Runtime": props.get("Runtime", "python3.11"), "Role": props["Role"],
            "Handler": props["Handler"], "Code": {"ZipFile": buf.getvalue()},
            "Timeout": int(props.get("Timeout", 3)), "MemorySize": int(props.get("MemorySize", 128)),
            "Environment": {"Variables": env},
        }
        for key in ("Architectures", "Description", "DeadLetterConfig", "TracingConfig"):
            if key in props:
                kwargs[key] = props[key]
        if props.get("Tags"):
            kwargs["Tags"] = {t["Key"]: t["Value"] for t in self._tags(props)}
        fn = lam.create_function(**kwargs)
        arn = fn["FunctionArn"]
        self._functions.add(FunctionSpec(lid, name, arn, props["Handler"], kwargs["MemorySize"], kwargs["Timeout"],
                                         env, (props.get("DeadLetterConfig") or {}).get("TargetArn")))
        return name, {"Arn": arn}

    def _create_Lambda_EventSourceMapping(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        keys = ("EventSourceArn", "FunctionName", "BatchSize", "Enabled", "StartingPosition",
                "MaximumBatchingWindowInSeconds", "FunctionResponseTypes")
        resp = self.client("lambda").create_event_source_mapping(**{k: props[k] for k in keys if k in props})
        return resp["UUID"], {"Id": resp["UUID"]}

    def _create_StepFunctions_StateMachine(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("StateMachineName") or self._name(lid, 80)
        definition = load_definition(props, self._resolver)
        kwargs: dict[str, Any] = {"name": name, "definition": definition, "roleArn": props["RoleArn"],
                                  "type": props.get("StateMachineType", "STANDARD")}
        if props.get("Tags"):
            kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in self._tags(props)]
        arn = self.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
        self._executions.state_machines[lid] = arn
        return arn, {"Arn": arn, "Name": name}

    def _create_Events_EventBus(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props["Name"]
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self._eventbridge.buses[lid] = name
        return name, {"Arn": arn, "Name": name}

    def _create_Events_Rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        events = self.client("events")
        name = props.get("Name") or self._name(lid)
        bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("ScheduleExpression", "RoleArn", "Description"):
            if key in props:
                kwargs[key] = props[key]
        arn = events.put_rule(**kwargs)["RuleArn"]
        targets = props.get("Targets") or []
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if "ScheduleExpression" in props:
            self._scheduler.add(Schedule(lid, name, arn, props["ScheduleExpression"], targets, "rule",
                                        kwargs["State"] == "ENABLED"))
        self.rules[lid] = name
        return (name if bus == "default" else f"{bus}|{name}"), {"Arn": arn}

    def _create_Scheduler_Schedule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._name(lid)
        kwargs: dict[str, Any] = {
            "Name": name, "ScheduleExpression": props["ScheduleExpression"], "Target": props["Target"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            "State": props.get("State", "ENABLED"),
        }
        for key in ("GroupName", "Description", "ScheduleExpressionTimezone"):
            if key in props:
                kwargs[key] = props[key]
        arn = self.client("scheduler").create_schedule(**kwargs)["ScheduleArn"]
        self._scheduler.add(Schedule(lid, name, arn, props["ScheduleExpression"], [props["Target"]], "scheduler",
                                    kwargs["State"] == "ENABLED"))
        return name, {"Arn": arn}

    def _create_SQS_Queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        sqs = self.client("sqs")
        name = props.get("QueueName") or self._name(lid, 80 - (5 if props.get("FifoQueue") else 0))
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
                      for k, v in props.items() if k not in ("QueueName", "Tags")}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        self.queues[lid] = url
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_KMS_Key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        meta = self.client("kms").create_key(Description=str(props.get("Description", lid)))["KeyMetadata"]
        return meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def _create_SNS_Topic(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("TopicName") or self._name(lid, 256)
        attrs = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
        arn = self.client("sns").create_topic(Name=name, Attributes=attrs)["TopicArn"]
        for sub in props.get("Subscription") or []:
            self.client("sns").subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        self.topics[lid] = arn
        return arn, {"TopicArn": arn, "TopicName": name, "Arn": arn}

    def _create_SES_EmailIdentity(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Verified in SES v1 and v2 so both APIs accept it as a sender."""
        identity = props["EmailIdentity"]
        if "@" in identity:
            self.client("ses").verify_email_identity(EmailAddress=identity)
        else:
            self.client("ses").verify_domain_identity(Domain=identity)
        with contextlib.suppress(Exception):  # moto shares the store; v2 may already know it
            self.client("sesv2").create_email_identity(EmailIdentity=identity)
        return identity, {}

    def _create_SES_ConfigurationSet(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._name(lid)
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        return name, {}

    def _create_SES_ConfigurationSetEventDestination(
        self, lid: str, props: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """Recorded in moto; moto never produces bounces, so tests publish SES notifications to the
        topic themselves (see tests/e2e/test_bounces.py)."""
        dest = dict(props["EventDestination"])
        name = dest.pop("Name", None) or self._name(lid)
        sns = dest.pop("SnsDestination", None)
        destination: dict[str, Any] = {"Name": name, "Enabled": bool(dest.get("Enabled", True)),
                                       "MatchingEventTypes": [t.lower() for t in dest.get("MatchingEventTypes", [])]}
        if sns:
            destination["SNSDestination"] = {"TopicARN": sns["TopicARN"]}
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=props["ConfigurationSetName"], EventDestination=destination)
        return name, {}

    def _create_SNS_Subscription(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """SNS → Lambda deliveries go through moto's SNS, which invokes the (patched, in-process) Lambda."""
        arn = self.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                           Endpoint=props["Endpoint"])["SubscriptionArn"]
        return arn, {"Arn": arn}

    def _create_CloudWatch_Alarm(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("AlarmName") or self._name(lid, 255)
        kwargs = {k: v for k, v in props.items() if k not in ("AlarmName", "Tags")}
        if "Threshold" in kwargs:
            kwargs["Threshold"] = float(kwargs["Threshold"])
        for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if k in kwargs:
                kwargs[k] = int(kwargs[k])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
        return name, {"Arn": self._arn("cloudwatch", f"alarm:{name}")}

    def _create_Logs_LogGroup(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("LogGroupName") or self._name(lid, 512)
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return name, {"Arn": self._arn("logs", f"log-group:{name}:*")}

    def _create_ApiGatewayV2_Api(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Recorded only: moto has no HTTP API data plane; :mod:`infra.httpapi` serves the routes."""
        api_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.stack_name}.{lid}").hex[:10]
        endpoint = f"https://{api_id}.execute-api.{self.region}.amazonaws.com"
        return api_id, {"ApiId": api_id, "ApiEndpoint": endpoint, "Arn": self._arn("apigateway", f"/apis/{api_id}")}

    def _record_apigw(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        rid = uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.stack_name}.{lid}").hex[:7]
        return (props.get("StageName") or rid), {"Id": rid}

    _create_ApiGatewayV2_Stage = _record_apigw
    _create_ApiGatewayV2_Route = _record_apigw
    _create_ApiGatewayV2_Integration = _record_apigw
    _create_ApiGatewayV2_Authorizer = _record_apigw

    def _build_routes(self, resources: dict[str, Any]) -> list[Any]:
        from infra.httpapi import routes_from_template

        resolved = {}
        for lid, res in resources.items():
            if res["Type"].startswith("AWS::ApiGatewayV2::") and lid in self.resources:
                resolved[lid] = {"Type": res["Type"], "Properties": self._resolver.resolve(res.get("Properties") or {})}
        return routes_from_template(resolved)
