"""Offline SAM translation and a small CloudFormation intrinsic-function resolver.

The local stack must treat ``template.yaml`` as the only source of what exists, so it translates
the SAM template with ``aws-sam-translator`` (no AWS access needed) and then walks the resulting
plain CloudFormation itself. moto's own CloudFormation support is not used because it skips
``AWS::ApiGatewayV2::*`` and ``AWS::Scheduler::Schedule``, ignores ``DefinitionSubstitutions`` and
DynamoDB TTL, and its ``Fn::Sub`` mangles the ``$$.`` context paths of state-machine definitions.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote

ACCOUNT_ID = "123456789012"
CODE_BUCKET = "accessflow-local-code"
DEFINITION_BUCKET = "accessflow-local-definitions"
NO_VALUE = object()  # marker produced by ``Ref: AWS::NoValue``; removed from lists and dicts


class TemplateError(Exception):
    """The template uses something the local stack cannot resolve."""


class _AnyManagedPolicy(dict[str, str]):
    """Policy loader map for the translator: every managed policy name is "known".

    The real loader lists AWS managed policies through IAM, which needs an account. IAM is not
    enforced on moto, so any plausible ARN will do.
    """

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> str:
        return f"arn:aws:iam::aws:policy/{key}"

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return self[key]


class _StubPolicyLoader:
    def load(self) -> dict[str, str]:
        return _AnyManagedPolicy()


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a (SAM) CloudFormation YAML file, understanding the short ``!Ref`` style tags."""
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

    data = yaml_parse(path.read_text())
    if not isinstance(data, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return data


def _local_uri(bucket: str, value: Any, base: Path) -> Any:
    """Encode a local path as an S3 URI the translator accepts; the key carries the path."""
    if isinstance(value, str) and not value.startswith("s3://"):
        return f"s3://{bucket}/{quote(str((base / value).resolve()), safe='')}"
    return value


def local_path_from_s3(bucket: str, key: str) -> Path | None:
    """Inverse of :func:`_local_uri`: the local path a translated S3 location stands for."""
    if bucket in (CODE_BUCKET, DEFINITION_BUCKET):
        return Path(unquote(key))
    return None


def translate(template_path: Path, region: str) -> dict[str, Any]:
    """Translate a SAM template to plain CloudFormation, offline.

    ``CodeUri`` / ``DefinitionUri`` local paths are rewritten to S3 URIs whose key is the
    absolute local path, because the translator insists on S3 locations; the stack decodes them.
    """
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    sam = load_yaml(template_path)
    base = template_path.parent
    globals_fn = sam.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_fn:
        globals_fn["CodeUri"] = _local_uri(CODE_BUCKET, globals_fn["CodeUri"], base)
    for res in sam.get("Resources", {}).values():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = _local_uri(CODE_BUCKET, props["CodeUri"], base)
        if res.get("Type") == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["DefinitionUri"] = _local_uri(DEFINITION_BUCKET, props["DefinitionUri"], base)
    if "Transform" not in sam:
        return sam
    old_region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator reads the region from here
    try:
        result: dict[str, Any] = transform(sam, {}, _StubPolicyLoader())
    finally:
        if old_region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = old_region
    return result


@dataclass
class Resolver:
    """Resolves CloudFormation intrinsics against parameters and already-created resources.

    ``refs`` maps logical id → what ``Ref`` returns; ``attrs`` maps logical id → attribute dict for
    ``Fn::GetAtt``. Both are filled by the stack as it creates resources in dependency order.
    """

    template: dict[str, Any]
    region: str
    stack_name: str
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pseudo: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/"
            f"{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.parameters: dict[str, Any] = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in self.parameter_overrides:
                value: Any = self.parameter_overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no override was given")
            if spec.get("Type") == "CommaDelimitedList" or str(spec.get("Type", "")).startswith("List<"):
                value = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
            elif not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, bool) else str(value)
            self.parameters[name] = value
        for name in (self.template.get("Conditions") or {}):
            self.condition(name)

    # -- conditions -------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(spec))
        return self.conditions[name]

    # -- resolution -------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            fn = self._FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg)
        out = {}
        for k, v in value.items():
            r = self.resolve(v)
            if r is not NO_VALUE:
                out[k] = r
        return out

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"Ref to {name!r}, which is neither a parameter nor a created resource")

    def get_att(self, logical_id: str, attr: str) -> Any:
        attrs = self.attrs.get(logical_id)
        if attrs is None:
            raise TemplateError(f"GetAtt {logical_id}.{attr}: {logical_id} was not created")
        if attr not in attrs:
            raise TemplateError(f"GetAtt {logical_id}.{attr}: unsupported attribute (have {sorted(attrs)})")
        return attrs[attr]

    def _ref(self, arg: Any) -> Any:
        return self.ref(self.resolve(arg))

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            logical_id, attr = arg.split(".", 1)
        else:
            logical_id, attr = arg[0], self.resolve(arg[1])
        return self.get_att(logical_id, attr)

    _SUB: ClassVar[re.Pattern[str]] = re.compile(r"\$\{([^}]+)\}")

    def sub(self, text: str, variables: dict[str, Any] | None = None) -> str:
        """``Fn::Sub``: replace ``${Name}`` / ``${Res.Attr}``; ``${!Literal}`` stays ``${Literal}``."""
        variables = variables or {}

        def repl(m: re.Match[str]) -> str:
            name = m.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and name.split(".", 1)[0] in self.attrs:
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return self._SUB.sub(repl, text)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            return self.sub(arg)
        text, variables = arg
        return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})

    def _join(self, arg: Any) -> str:
        sep, items = arg
        return str(sep).join(str(v) for v in self.resolve(items))

    def _select(self, arg: Any) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, arg: Any) -> list[str]:
        sep, text = arg
        return str(self.resolve(text)).split(sep)

    def _if(self, arg: Any) -> Any:
        name, yes, no = arg
        return self.resolve(yes if self.condition(name) else no)

    def _equals(self, arg: Any) -> bool:
        a, b = self.resolve(arg)
        return bool(str(a) == str(b))

    def _not(self, arg: Any) -> bool:
        return not self.resolve(arg)[0]

    def _and(self, arg: Any) -> bool:
        return all(self.resolve(arg))

    def _or(self, arg: Any) -> bool:
        return any(self.resolve(arg))

    def _condition(self, arg: Any) -> bool:
        return self.condition(arg)

    def _find_in_map(self, arg: Any) -> Any:
        m, k1, k2 = self.resolve(arg)
        return self.template["Mappings"][m][k1][k2]

    def _base64(self, arg: Any) -> str:
        import base64

        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _get_azs(self, arg: Any) -> list[str]:
        return [f"{self.region}{z}" for z in "abc"]

    def _to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

    def _import_value(self, arg: Any) -> Any:
        raise TemplateError(f"Fn::ImportValue {arg!r}: cross-stack imports do not exist locally")

    _FUNCTIONS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::Not": _not,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Condition": _condition,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Fn::ToJsonString": _to_json_string,
        "Fn::ImportValue": _import_value,
    }


def dependencies(resource: dict[str, Any], logical_ids: Iterable[str]) -> set[str]:
    """Logical ids a resource depends on (Ref, GetAtt, ``${X}`` in Sub, DependsOn)."""
    ids = set(logical_ids)
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k == "Ref" and isinstance(x, str):
                    found.add(x)
                elif k == "Fn::GetAtt":
                    found.add(x.split(".", 1)[0] if isinstance(x, str) else x[0])
                elif k == "Fn::Sub":
                    text = x if isinstance(x, str) else x[0]
                    for name in Resolver._SUB.findall(text):
                        found.add(name.split(".", 1)[0].strip())
                    if not isinstance(x, str):
                        walk(x[1])
                    continue
                walk(x)

    walk(resource.get("Properties") or {})
    depends = resource.get("DependsOn") or []
    found.update([depends] if isinstance(depends, str) else depends)
    return found & ids


def creation_order(resources: dict[str, Any]) -> list[str]:
    """Topological order of the template's resources (CloudFormation templates are acyclic)."""
    deps = {lid: dependencies(res, resources) - {lid} for lid, res in resources.items()}
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(lid: str) -> None:
        if lid in done:
            return
        if lid in visiting:
            raise TemplateError(f"circular dependency through {lid}")
        visiting.add(lid)
        for d in sorted(deps[lid]):
            visit(d)
        visiting.discard(lid)
        done.add(lid)
        order.append(lid)

    for lid in resources:
        visit(lid)
    return order


def load_definition(props: dict[str, Any], resolver: Resolver) -> str:
    """A state machine's ASL text with ``DefinitionSubstitutions`` applied.

    Substitution is a plain ``${Name}`` string replacement, as Step Functions does it; going
    through ``Fn::Sub`` would also rewrite unrelated ``$`` syntax of the definition.
    """
    if "DefinitionString" in props:
        text = resolver.resolve(props["DefinitionString"])
    elif "Definition" in props:
        text = json.dumps(resolver.resolve(copy.deepcopy(props["Definition"])))
    elif "DefinitionS3Location" in props:
        loc = resolver.resolve(props["DefinitionS3Location"])
        path = local_path_from_s3(loc["Bucket"], loc["Key"])
        if path is None:
            raise TemplateError(f"definition in real S3 ({loc}) is not reachable locally")
        text = path.read_text()
    else:
        raise TemplateError("state machine without a definition")
    subs = resolver.resolve(props.get("DefinitionSubstitutions") or {})
    for name, value in subs.items():
        rendered = value if isinstance(value, str) else json.dumps(value)
        text = text.replace("${" + name + "}", rendered)
    leftover = re.findall(r"\$\{[A-Za-z0-9_]+\}", text)
    if leftover:
        raise TemplateError(f"definition has unsubstituted placeholders: {sorted(set(leftover))}")
    return str(text)
