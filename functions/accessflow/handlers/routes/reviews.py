"""Routes: access review campaigns (issue 11) — start one, list them, a campaign's items (a
reviewer's inbox with ``assigned_to=me``), decisions one by one or in bulk, the report (JSON or CSV).
Every route is for the business's Admins (Admin of at least one account); who may decide which grant
is the campaign's assignment (its account's Admins, never its holder). See docs/reviews.md."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from accessflow.adapters.clock import utcnow
from accessflow.handlers.http import (
    CSV,
    ID_PATTERN,
    admin_caller,
    app,
    csv_attachment,
    json_response,
    wants_csv,
    workflow,
)
from accessflow.settings import ReviewSettings, load
from accessflow.usecases import reviews

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


class StartReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, description="Shown to reviewers; default "
                             "'Access review YYYY-MM-DD'.")
    duration_days: int = Field(default=reviews.DEFAULT_DURATION_DAYS, ge=1, le=90,
                               description="Days until the deadline (the reminder goes out halfway).")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=300, pattern=ID_PATTERN)
    decision: Literal["keep", "remove"]
    note: str | None = Field(default=None, max_length=500)


class DecisionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[DecisionBody] = Field(min_length=1, max_length=500)


def _reader(business_id: str) -> str:
    return admin_caller(business_id).member_id


@app.post("/businesses/<business_id>/reviews")
def start_review(business_id: IdPath, body: Annotated[StartReviewBody, Body()]) -> Response[str]:
    """Start an access review now: every active grant is snapshotted and assigned to the Admins of
    its account (never its holder); reviewers are e-mailed, reminded halfway, and the campaign closes
    at its deadline. 201 with the campaign; 409 ``review-in-progress`` while one is open."""
    me = _reader(business_id)
    campaign = reviews.start_campaign(
        business_id, started_by=me, name=body.name, duration_days=body.duration_days, workflow=workflow(),
        state_machine_arn=load(ReviewSettings).review_state_machine_arn, now=utcnow(),
        request_id=app.current_event.request_context.request_id)
    return json_response(201, campaign, {"Location": f"/businesses/{business_id}/reviews/{campaign['campaign_id']}"})


@app.get("/businesses/<business_id>/reviews")
def list_reviews(business_id: IdPath) -> Response[str]:
    """The business's review campaigns, newest first, with their counts."""
    _reader(business_id)
    return json_response(200, {"campaigns": reviews.list_campaigns(business_id)})


@app.get("/businesses/<business_id>/reviews/<campaign_id>")
def get_review(business_id: IdPath, campaign_id: IdPath) -> Response[str]:
    """One campaign: status, deadline, undecided policy, counts (decided, keep, remove, flagged...)."""
    _reader(business_id)
    return json_response(200, reviews.campaign_view(reviews.require_campaign(business_id, campaign_id)))


@app.get("/businesses/<business_id>/reviews/<campaign_id>/items")
def list_review_items(
    business_id: IdPath, campaign_id: IdPath,
    assigned_to: Annotated[Literal["me"] | None, Query(description="'me': only the grants you review")] = None,
    decided: Annotated[bool | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response[str]:
    """The campaign's grants (a page; ``next_cursor`` continues), each with its reviewers, decision,
    the holder's last activity and the idle flag. ``assigned_to=me`` narrows to yours."""
    me = _reader(business_id)
    page = reviews.list_items(business_id, campaign_id, reviewer_id=me if assigned_to == "me" else None,
                              decided=decided, cursor=cursor, limit=limit, now=utcnow())
    return json_response(200, page)


@app.post("/businesses/<business_id>/reviews/<campaign_id>/decisions")
def decide_review_items(business_id: IdPath, campaign_id: IdPath,
                        body: Annotated[DecisionsBody, Body()]) -> Response[str]:
    """Keep or remove grants you review (1 to 500 at once, each with an optional note). Each result
    is ``recorded`` or ``refused`` with the reason; a decision may be changed until the campaign
    closes (409 ``review-closed`` after)."""
    me = admin_caller(business_id)
    results = reviews.decide(business_id, campaign_id, me,
                             [reviews.DecisionInput(d.item_id, d.decision, d.note) for d in body.decisions],
                             now=utcnow(), request_id=app.current_event.request_context.request_id)
    return json_response(200, {"results": results})


_REPORT_RESPONSES = {200: {"description": "The report: JSON by default, CSV with ?format=csv or Accept: text/csv.",
                           "content": {"application/json": {"schema": {"type": "object"}},
                                       CSV: {"schema": {"type": "string"}}}}}


@app.get("/businesses/<business_id>/reviews/<campaign_id>/report", responses=_REPORT_RESPONSES)  # type: ignore[arg-type]
def review_report(business_id: IdPath, campaign_id: IdPath,
                  format: Annotated[Literal["json", "csv"] | None, Query()] = None,
                  cursor: Annotated[str | None, Query(max_length=2000)] = None,
                  limit: Annotated[int | None, Query(ge=1, le=5000)] = None) -> Response[str]:
    """Every snapshotted grant exactly once: decision, reviewer, time, note, and (once closed) the
    outcome and what was applied. All of it by default; with ``limit`` (and then ``cursor``) a page,
    ``next_cursor`` continuing it (for campaigns of many thousand grants)."""
    _reader(business_id)
    as_csv = wants_csv(format)
    campaign, rows, next_cursor = reviews.report(business_id, campaign_id, now=utcnow(),
                                                 cursor=None if as_csv else cursor, limit=None if as_csv else limit)
    if as_csv:  # always the whole report (a spreadsheet has no cursor)
        return csv_attachment(reviews.report_csv(rows), f"review-{campaign_id}.csv")
    return json_response(200, {"campaign": campaign, "items": rows, "next_cursor": next_cursor})
