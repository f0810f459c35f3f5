"""Routes: the invitee's accept page and acceptance (no admin rights needed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import AlreadyUsed, DomainError, Gone, NotFound
from accessflow.handlers.http import (
    app,
    caller,
    ctx,
    workflow,
)
from accessflow.handlers.routes.web import _CALLBACK, PAGE_RESPONSES, render_page
from accessflow.schemas import AcceptBody
from accessflow.store import repository as store
from accessflow.usecases import onboarding
from accessflow.web.pages import escape

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
NEXT_STEP = "Ask your admin to send you a new invitation."  # (HTML)


@app.get("/accept", responses=_PAGE_RESPONSES)  # type: ignore[arg-type]
def accept_page(token: Annotated[str | None, Query(max_length=200)] = None) -> Response[str]:
    """The page the e-mail links to. Shows the invitation; never consumes it (mail scanners open
    links): acceptance is an authenticated POST to /invitations/accept, made by ``accept.js`` after
    the invitee signs in. Without a token (the script removed it from the address bar and the page
    was reloaded) the script brings it back from the tab's session storage."""
    if not token:
        return _refusal(NotFound("Open the link from your invitation e-mail to see your invitation."),
                        title="Open the link from your invitation e-mail", problem="no-token",
                        next_step="If you have no invitation e-mail, ask your admin to send you one.")
    try:
        info = onboarding.preview(token, utcnow())
    except NotFound as error:
        return _refusal(error, title="This invitation link is not valid", next_step=NEXT_STEP,
                        detail_html="The link may be incomplete, or a newer invitation e-mail replaced it "
                                    "(each new e-mail makes the previous link stop working). If you have a "
                                    "newer invitation e-mail, open its link.")
    if info.refusal is not None:
        return _refused_invitation(info, info.refusal)
    return render_page(title=f"Invitation from {info.business}", main=_invitation(info), script="accept.js",
                       page="accept")


@app.get("/accept/callback", responses=PAGE_RESPONSES)  # type: ignore[arg-type]
def accept_callback() -> Response[str]:
    """Where the identity provider sends the invitee back (code and state in the query); the script
    completes the sign-in and returns to the invitation it kept in the tab's session storage."""
    return render_page(title="Signing in", main=_CALLBACK, script="callback.js", page="callback")


# --- the page's parts ------------------------------------------------------------------------------


def human_date(value: datetime) -> str:
    return f"{value:%A} {value.day} {value:%B %Y} at {value:%H:%M} UTC"


def _invitation(info: onboarding.Preview) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{escape(g.account_name)}</th><td>{escape(_platform(g.platform))}</td>"
        f"<td><strong>{escape(g.role)}</strong></td><td>{escape(g.may)}</td></tr>" for g in info.grants)
    confirmation = (
        '<p class="note">After you accept, an admin of the business confirms your role before it takes effect.</p>'
        if info.needs_confirmation else "")
    return (
        f'<section id="invitation" data-business="{escape(info.business)}" '
        f'data-invited-email="{escape(info.email)}" data-inviter="{escape(info.inviter)}" '
        f'data-needs-confirmation="{str(info.needs_confirmation).lower()}">'
        f"<h1>{escape(info.business)} invites you to its team</h1>"
        f'<p class="lead">Hello {escape(info.display_name)}: <strong>{escape(info.inviter)}</strong> invited you '
        f"to work on these accounts of {escape(info.business)}.</p>"
        '<table class="grants"><caption>The accounts and the role offered on each</caption>'
        '<thead><tr><th scope="col">Account</th><th scope="col">Platform</th><th scope="col">Role</th>'
        f'<th scope="col">What the role may do</th></tr></thead><tbody>{rows}</tbody></table>'
        f"<p>This invitation is for <strong>{escape(info.email)}</strong> and is valid until "
        f'<time datetime="{escape(store._iso(info.expires_at) or "")}">{escape(human_date(info.expires_at))}</time>.'
        f"</p>{confirmation}</section>"
        '<section id="acceptance" aria-labelledby="acceptance-title">'
        '<h2 id="acceptance-title">Accept the invitation</h2>'
        "<noscript><p>Signing in and accepting need JavaScript. Turn it on and reload this page.</p></noscript>"
        '<div id="signed-out" hidden>'
        f"<p>Sign in with <strong>{escape(info.email)}</strong> to accept. Opening this page changed nothing: "
        "the invitation is only accepted when you press Accept.</p>"
        '<p><button type="button" id="sign-in">Sign in to accept</button></p></div>'
        '<div id="signed-in" hidden><p>Signed in as <strong id="signed-in-as"></strong>.</p>'
        '<p class="actions"><button type="button" id="accept">Accept</button> '
        '<button type="button" id="switch-account" class="secondary">Use another account</button></p></div>'
        '<div id="outcome" role="status" aria-live="polite"></div>'
        "</section>"
    )


def _platform(platform: str) -> str:
    names = {"tiktok": "TikTok", "instagram": "Instagram", "facebook": "Facebook", "youtube": "YouTube",
             "linkedin": "LinkedIn", "x": "X", "twitter": "X (Twitter)", "pinterest": "Pinterest",
             "snapchat": "Snapchat", "google-ads": "Google Ads", "meta-ads": "Meta Ads"}
    return names.get(platform.lower(), platform) if platform else "—"


def _refused_invitation(info: onboarding.Preview, refusal: DomainError) -> Response[str]:
    business = escape(info.business)
    if isinstance(refusal, AlreadyUsed):
        title = "This invitation was already used"
        detail = (f"This invitation to {business} has already been accepted. If you accepted it, there is nothing "
                  "more to do.")
        next_step = f"If you still need access, ask an admin of {business} to send you a new invitation."
    elif isinstance(refusal, Gone) and refusal.extensions.get("reason") == "revoked":
        title = "This invitation was withdrawn"
        detail = f"An admin of {business} revoked this invitation; the link no longer works."
        next_step = f"If you still need access, ask an admin of {business} to send you a new invitation."
    else:
        title = "This invitation has expired"
        detail = f"This invitation to {business} was valid until {escape(human_date(info.expires_at))}."
        next_step = f"Ask an admin of {business} to send it again; the new e-mail has a fresh link."
    return _refusal(refusal, title=title, next_step=next_step, detail_html=detail)


def _refusal(error: DomainError, *, title: str, next_step: str, detail_html: str | None = None,
             problem: str | None = None) -> Response[str]:
    """A page that says why the link cannot be used and what to do. ``detail_html`` and ``next_step``
    are HTML (values escaped by the caller); without ``detail_html`` the error's detail is shown."""
    detail = detail_html if detail_html is not None else escape(error.detail)
    main = (f'<section id="refusal" class="refusal" data-problem="{escape(problem or error.slug)}">'
            f"<h1>{escape(title)}</h1><p>{detail}</p><p class=\"next\"><strong>Next step:</strong> "
            f"{next_step}</p></section>")
    return render_page(title=title, main=main, script="accept.js", status=error.status, page="accept")
