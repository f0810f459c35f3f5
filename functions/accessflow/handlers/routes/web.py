"""Routes: the browser pages' shared parts (static assets, the page shell bound to the settings) and
the admin console's pages. Public (no authorizer): a page carries no data until its script signs in
and calls the API with the bearer token."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from accessflow.domain.errors import NotFound
from accessflow.handlers.http import app, settings
from accessflow.web import pages

_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
PAGE_RESPONSES: dict[int, dict[str, Any]] = {200: {"description": "The page (HTML)."} | _HTML}


def render_page(*, title: str, main: str, script: str, status: int = 200, page: str = "") -> Response[str]:
    """A page with the shared shell, the security headers and the OIDC settings (issuer, client id)."""
    config = settings()
    return pages.render(title=title, main=main, script=script, issuer=config.oidc_issuer,
                        client_id=config.oidc_client_id, status=status, page=page,
                        endpoints=config.oidc_endpoint_origins.split())


@app.get("/assets/<file>", responses={  # type: ignore[arg-type]
    200: {"description": "A static asset (script, style sheet, image).",
          "content": {"*/*": {"schema": {"type": "string"}}}},
    304: {"description": "Not modified (If-None-Match matched the ETag)."},
})
def asset(file: str) -> Response[Any]:
    """A file of the package's ``web/static/`` by exact name (nothing else is reachable), revalidated
    by ETag."""
    found = pages.asset(file)
    if found is None:
        raise NotFound("No such asset.")
    headers = {"Cache-Control": pages.ASSET_CACHE, "ETag": found.etag, "X-Content-Type-Options": "nosniff"}
    if found.etag in (app.current_event.headers or {}).get("if-none-match", ""):
        return Response(status_code=304, body="", headers=headers)
    text = found.content_type.startswith(("text/", "application/json", "image/svg"))
    body: str | bytes = found.body.decode() if text else found.body
    return Response(status_code=200, content_type=found.content_type, body=body, headers=headers)


@app.get("/console", responses=PAGE_RESPONSES)  # type: ignore[arg-type]
def console_page() -> Response[str]:
    """The admin console (signs in, then uses the documented admin API)."""
    main = ('<h1>Admin console</h1><div id="console" aria-live="polite">'
            '<noscript><p>The console needs JavaScript to sign in.</p></noscript></div>')
    return render_page(title="Admin console", main=main, script="console.js", page="console")


@app.get("/console/callback", responses=PAGE_RESPONSES)  # type: ignore[arg-type]
def console_callback() -> Response[str]:
    """Where the identity provider sends the admin back after sign-in (code and state in the query)."""
    return render_page(title="Signing in", main=_CALLBACK, script="callback.js", page="callback")


_CALLBACK = ('<h1>Signing you in…</h1><div id="callback" role="status" aria-live="polite">'
             '<noscript><p>Signing in needs JavaScript.</p></noscript></div>')
