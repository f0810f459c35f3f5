"""Routes: what an auditor reads — the access review (JSON or CSV) and the list of invitations."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from accessflow.adapters.clock import utcnow
from accessflow.api_models import AccessReview, InvitationsPage
from accessflow.domain.model import InvitationStatus
from accessflow.handlers.http import CSV, ID_PATTERN, app, caller_member, csv_attachment, invitation_view, wants_csv
from accessflow.store import repository as store
from accessflow.usecases import members

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]

_REVIEW_RESPONSES = {200: {"description": "The access review: JSON by default, CSV with ?format=csv or "
                                          "Accept: text/csv.",
                           "content": {"application/json": {"model": AccessReview},
                                       CSV: {"schema": {"type": "string"}}}}}


@app.get("/businesses/<business_id>/access-review", responses=_REVIEW_RESPONSES)  # type: ignore[arg-type]
def access_review(
    business_id: IdPath, format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Response[str]:
    """Every member, their role per account, who invited and who confirmed them, and the last change
    of each grant. ``?format=csv`` (or ``Accept: text/csv``) exports it as CSV."""
    me = caller_member(business_id)
    members.require_reader(business_id, me)
    rows = members.access_review(business_id)
    if wants_csv(format):
        return csv_attachment(members.review_csv(rows), f"access-review-{business_id}.csv")
    review = AccessReview.model_validate({"business_id": business_id, "generated_at": store._iso(utcnow()),
                                         "rows": rows})
    return Response(status_code=200, content_type="application/json", body=review.model_dump_json())


@app.get("/businesses/<business_id>/invitations")
def list_invitations(
    business_id: IdPath, status: Annotated[InvitationStatus | None, Query()] = None,
) -> InvitationsPage:
    """The business's invitations, newest first, optionally only those with one status."""
    me = caller_member(business_id)
    members.require_reader(business_id, me)
    items = store.list_invitations(business_id, status.value if status else None)
    items.sort(key=lambda i: (i.created_at, i.invitation_id), reverse=True)
    business = store.get_business(business_id)
    policy = store.policy_of(business) if business else None
    people = members.People(business_id, store.list_members(business_id))
    return InvitationsPage.model_validate({"invitations": [invitation_view(i, policy, people) for i in items]})
