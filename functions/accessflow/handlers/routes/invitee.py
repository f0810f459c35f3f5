"""Routes: the invitee's accept page and acceptance (no admin rights needed)."""

from __future__ import annotations

import html
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import DomainError
from accessflow.handlers.http import (
    app,
    caller,
    ctx,
    workflow,
)
from accessflow.schemas import AcceptBody
from accessflow.usecases import onboarding

# --- routes: invitee -------------------------------------------------------------------------------


@app.post("/invitations/accept")
def accept(body: Annotated[AcceptBody, Body()]) -> dict[str, Any]:
    """The invitee, signed in with the invited (verified) e-mail, accepts the invitation."""
    return onboarding.accept(body.token, caller(), workflow=workflow(), ctx=ctx(), now=utcnow())


_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
_PAGE_RESPONSES = {
    200: {"description": "The invitation: who invites, which roles, until when, how to accept."} | _HTML,
    404: {"description": "The link is not valid (reveals nothing about other invitations)."} | _HTML,
    409: {"description": "The invitation was already used."} | _HTML,
    410: {"description": "The invitation expired or was revoked."} | _HTML,
}


@app.get("/accept", responses=_PAGE_RESPONSES)  # type: ignore[arg-type]
def accept_page(token: Annotated[str, Query(min_length=1, max_length=200)]) -> Response[str]:
    """The page the e-mail links to. Shows the invitation; never consumes it (mail scanners open
    links): acceptance is an authenticated POST to /invitations/accept."""
    try:
        info = onboarding.preview(token)
    except DomainError as error:
        page = f"<h1>{html.escape(error.title)}</h1><p>{html.escape(error.detail)}</p>"
        return Response(status_code=error.status, content_type="text/html; charset=utf-8", body=_page(page))
    roles = "".join(f"<li>{html.escape(g['role'])} on {html.escape(g['account_id'])}</li>" for g in info["grants"])
    page = (
        f"<h1>{html.escape(info['business'])} invites {html.escape(info['display_name'])}</h1>"
        f"<ul>{roles}</ul><p>Status: {html.escape(info['status'])}. Valid until {info['expires_at']}.</p>"
        f"<p>Sign in with <b>{html.escape(info['email'])}</b>, then accept: "
        f"<code>POST /invitations/accept {{\"token\": \"...\"}}</code> with your login's bearer token.</p>"
    )
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_page(page))


def _page(inner: str) -> str:
    return f"<!doctype html><html><head><title>AccessFlow</title></head><body>{inner}</body></html>"


