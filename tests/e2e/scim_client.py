"""Helpers for the SCIM tests: a business's SCIM token (created through the admin API) and a small
SCIM client bound to the local HTTP API, speaking ``application/scim+json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.world import World

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def new_token(world: World, api: Any, name: str) -> dict[str, Any]:
    r = api.post(f"/businesses/{world.business_id}/scim-tokens", token=world.admin.token, json={"name": name})
    assert r.status_code == 201, r.text
    return dict(r.json())


@dataclass
class Scim:
    api: Any
    business_id: str
    token: str

    @property
    def base(self) -> str:
        return f"/scim/v2/businesses/{self.business_id}"

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             raw: str | None = None, params: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/scim+json", "Accept": "application/scim+json"}
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        return self.api.request(method, self.base + path, token=token or self.token, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, operations: list[dict[str, Any]], **kw: Any) -> Any:
        return self.call("PATCH", path, {"schemas": [PATCH], "Operations": operations}, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


def user_body(email: str, *, external_id: str | None = None, active: bool = True, given: str = "Pat",
              family: str = "Lee", employee: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [USER], "userName": email, "active": active,
                            "name": {"givenName": given, "familyName": family},
                            "displayName": f"{given} {family}",
                            "emails": [{"value": email, "type": "work", "primary": True}]}
    if external_id:
        body["externalId"] = external_id
    if employee:
        body["schemas"].append(ENTERPRISE)
        body[ENTERPRISE] = {"employeeNumber": employee}
    return body


def bundle(world: World, api: Any, name: str, grants: list[dict[str, str]]) -> dict[str, Any]:
    r = api.post(f"/businesses/{world.business_id}/bundles", token=world.admin.token,
                 json={"display_name": name, "grants": grants})
    assert r.status_code == 201, r.text
    return dict(r.json())
