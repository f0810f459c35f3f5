"""The HTML shell every browser page shares, and the static assets.

Every page answers with a strict Content-Security-Policy: scripts and styles only from this origin's
``/assets/`` (no inline script, no style attribute, no third-party origin), network calls only to
this origin and the OpenID Connect issuer the JWT authorizer trusts. The issuer and the client id
reach the browser as data attributes of ``<body>`` (``data-oidc-authority``, ``data-oidc-client-id``),
read from the settings the template sets. Pages are never cached (they show personal data) and
send no referrer (the accept page's URL carries the invitation's link token).

Assets are the files in ``static/`` beside this module, packaged with the function: looked up by
exact name in a listing made at load time, so no request can name anything outside it.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response

STATIC = Path(__file__).resolve().parent / "static"
HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
ASSET_CACHE = "public, max-age=300, must-revalidate"
# The browser OIDC client (vendored, see web/README.md), then the shared helpers, then the page's own.
BASE_SCRIPTS = ("oidc-client-ts.min.js", "app.js")

escape = html.escape


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    etag: str


@cache
def assets() -> dict[str, Asset]:
    """Every servable file, by name: the flat listing of ``static/`` with a known content type."""
    found: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        ctype = CONTENT_TYPES.get(path.suffix.lower())
        if not path.is_file() or path.name.startswith(".") or ctype is None:
            continue
        body = path.read_bytes()
        found[path.name] = Asset(path.name, body, ctype, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
    return found


def asset(name: str) -> Asset | None:
    return assets().get(name)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(issuer: str, endpoints: Sequence[str] = ()) -> str:
    """``endpoints``: more IdP origins the page's script calls (a token endpoint off the issuer's origin)."""
    idp = " ".join(dict.fromkeys([origin(issuer), *(origin(e) for e in endpoints)]))
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {idp}; form-action 'self' {idp}; frame-ancestors 'none'; base-uri 'none'")


def security_headers(issuer: str, endpoints: Sequence[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(issuer, endpoints),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def render(
    *, title: str, main: str, script: str, issuer: str, client_id: str, status: int = 200, page: str = "",
    endpoints: Sequence[str] = (),
) -> Response[str]:
    """A whole page: ``main`` is trusted HTML the caller built with :func:`escape` around every value;
    ``script`` is the page's own asset (e.g. ``accept.js``), loaded after the shared ones."""
    scripts = "".join(f'<script src="/assets/{escape(name)}" defer></script>'
                      for name in (*BASE_SCRIPTS, script))
    body = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} · AccessFlow</title>"
        '<link rel="stylesheet" href="/assets/app.css">'
        f"{scripts}</head>"
        f'<body data-page="{escape(page)}" data-oidc-authority="{escape(issuer)}" '
        f'data-oidc-client-id="{escape(client_id)}">'
        '<a class="skip" href="#main">Skip to content</a>'
        '<header class="site"><span class="brand">AccessFlow</span></header>'
        f'<main id="main" tabindex="-1">{main}</main>'
        '<footer class="site"><p>AccessFlow: access to your business\'s accounts, with an audit trail.</p></footer>'
        "</body></html>\n"
    )
    return Response(status_code=status, content_type=HTML, body=body, headers=security_headers(issuer, endpoints))

