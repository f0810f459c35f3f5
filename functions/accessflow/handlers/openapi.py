"""The API's OpenAPI document: what Powertools generates from the routes, completed with what every
route shares so that every answer the API gives is documented (Schemathesis checks exactly that).

- Errors: every operation may answer ``application/problem+json`` (RFC 9457) with 400, 401, 403,
  404, 409, 410 or 429; validation errors are 400 problems, never Powertools' 422. A 401 from the
  JWT authorizer (before our code runs) is API Gateway's ``{"message": "Unauthorized"}``.
- A route that returns a raw ``Response`` (its own status and content type) and declares nothing
  else is documented as ``2XX`` with any body, rather than as a 200 string it never sends.
- Bearer JWT security on every route except the public ones (the accept page, this document).

``python -m accessflow.handlers.openapi > docs/openapi.json`` (``make openapi``) regenerates the
committed copy; a test keeps the two equal.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from accessflow.handlers.http import PROBLEM, REQUEST_ID_HEADER, app

PUBLIC_PATHS = frozenset({"/accept", "/accept/callback", "/console", "/console/callback", "/assets/{file}",
                          "/openapi.json"})
ERROR_STATUSES = {
    "400": "The request is not valid.",
    "401": "Authentication required.",
    "403": "Not allowed (the caller lacks the permission the route needs).",
    "404": "Not found, or not visible to the caller (a caller from another business sees nothing).",
    "409": "Conflict with the current state (admin limit, last Admin, already used, concurrent change).",
    "410": "The invitation has expired or was revoked.",
    "429": "Too many requests (see Retry-After).",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
GATEWAY_401: dict[str, Any] = {"type": "object", "properties": {"message": {"type": "string"}}}


def _problem(description: str, status: str) -> dict[str, Any]:
    content: dict[str, Any] = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if status == "401":
        content["application/json"] = {"schema": GATEWAY_401}
    return {"description": description, "content": content}


def _complete(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    ok = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if set(responses) == {"200"} and ok.get("type") == "string":
        responses.pop("200")
        responses["2XX"] = {"description": "Success (the route sets its own status and content type)."}
    for status, description in ERROR_STATUSES.items():
        responses.setdefault(status, _problem(description, status))
    for response in responses.values():
        response.setdefault("headers", {})[REQUEST_ID_HEADER] = {"$ref": "#/components/headers/RequestId"}
    if path in PUBLIC_PATHS:
        operation["security"] = []


def document() -> dict[str, Any]:
    doc: dict[str, Any] = app.get_openapi_schema(
        title="AccessFlow API", version="1.0.0",
        description="Admin and invitee API of AccessFlow. Errors are application/problem+json (RFC 9457).",
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["headers"] = {"RequestId": {
        "description": "The request id; the audit entries this request wrote carry it.", "schema": {"type": "string"}}}
    components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    doc["security"] = [{"bearerAuth": []}]
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            _complete(path, operation)
    return doc


def document_json() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    from accessflow.handlers import routes  # noqa: F401  (registers every route)

    sys.stdout.write(document_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
