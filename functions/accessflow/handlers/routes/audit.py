"""Routes: the audit trail and the OpenAPI document."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from accessflow.handlers.http import (
    app,
    audit_view,
    caller_member,
)
from accessflow.store import repository as store

# --- routes: audit ---------------------------------------------------------------------------------


@app.get("/businesses/<business_id>/audit")
def audit(
    business_id: str,
    member_id: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """The audit trail, oldest first; filter by member, action, time range; paginated by cursor."""
    caller_member(business_id)
    start = json.loads(cursor) if cursor else None
    items, last = store.audit_trail(business_id, member_id=member_id, action=action, since=since, until=until,
                                    limit=limit, cursor=start)
    return {"entries": [audit_view(i) for i in items], "next_cursor": json.dumps(last) if last else None}


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    return app.get_openapi_json_schema(title="AccessFlow API", version="1.0.0")


