"""Sign in at an OpenID Connect provider without a browser, for the local stack.

``accessflow dev-token`` and the repository's test and dev tooling get their ID tokens from the local
IdP of ``make serve`` (or of the test process) exactly as a browser does: the authorization-code flow
with PKCE, state and nonce checked, over plain HTTP. Only the standard library is used, because this
module ships with the CLI and must not need the repository's ``infra/``.

The local IdP (``oidc-provider-mock``) signs in whoever is named in its form's ``sub`` field and lets
anyone register a person's claims with ``PUT /users/{sub}``; a real IdP does neither, so this module
is only useful against the local one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

DEFAULT_IDP_URL = "http://127.0.0.1:3001"
DEFAULT_CLIENT_ID = "accessflow-api"  # the template's JwtAudience default
SCOPE = "openid email profile"
REDIRECT_URI = "http://127.0.0.1/dev-token/callback"  # never fetched: the code is read from the redirect
SUB_NAMESPACE = uuid.UUID("6b1f7c1e-2f5d-4c49-9a7e-0c1f3b7a9d10")
TIMEOUT = 10.0


class SignInError(RuntimeError):
    """The IdP refused or answered something a correct provider would not."""


def default_sub(email: str) -> str:
    """Deterministic subject for an e-mail, so the same person always signs in as the same user
    (the local IdP maps an e-mail typed in its form to this subject too)."""
    return str(uuid.uuid5(SUB_NAMESPACE, email.strip().lower()))


def person_claims(email: str, *, email_verified: bool = True, name: str | None = None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    claims: dict[str, Any] = {"email": email, "email_verified": email_verified}
    if name is not None:
        claims["name"] = name
    claims.update(extra or {})
    return claims


def register_user(idp_url: str, sub: str, claims: dict[str, Any]) -> None:
    """Set the claims the IdP puts in ``sub``'s tokens (the mock's ``PUT /users/{sub}``)."""
    req = urllib.request.Request(f"{idp_url.rstrip('/')}/users/{quote(sub, safe='')}", method="PUT",
                                 data=json.dumps(claims).encode(), headers={"content-type": "application/json"})
    _open(req)


def discovery(idp_url: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_open(f"{idp_url.rstrip('/')}/.well-known/openid-configuration"))
    return doc


def sign_in(idp_url: str, sub: str, *, client_id: str = DEFAULT_CLIENT_ID, scope: str = SCOPE,
            redirect_uri: str = REDIRECT_URI, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The token response of an authorization-code + PKCE sign-in as ``sub`` (``id_token`` checked
    for the nonce we sent). ``config``: the IdP's discovery document, if already fetched."""
    config = config or discovery(idp_url)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    form = urlencode({"sub": sub}).encode()
    location = _redirect_location(urllib.request.Request(f"{config['authorization_endpoint']}?{query}", data=form))
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "error" in params:
        raise SignInError(f"authorization refused: {params['error']} {params.get('error_description', '')}")
    if params.get("state") != state or not params.get("code"):
        raise SignInError(f"the authorization redirect lacks our state or a code: {location}")
    body = urlencode({"grant_type": "authorization_code", "code": params["code"], "redirect_uri": redirect_uri,
                      "client_id": client_id, "code_verifier": verifier}).encode()
    tokens: dict[str, Any] = json.loads(_open(urllib.request.Request(config["token_endpoint"], data=body)))
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str) or unverified_claims(id_token).get("nonce") != nonce:
        raise SignInError("the token response has no ID token carrying our nonce")
    return tokens


def id_token(idp_url: str, email: str, *, sub: str | None = None, email_verified: bool = True,
             name: str | None = None, extra: dict[str, Any] | None = None,
             client_id: str = DEFAULT_CLIENT_ID) -> str:
    """Register the person at the local IdP, sign in as them, and return the ID token (the bearer
    token the AccessFlow API accepts)."""
    subject = sub or default_sub(email)
    register_user(idp_url, subject, person_claims(email, email_verified=email_verified, name=name, extra=extra))
    token: str = sign_in(idp_url, subject, client_id=client_id)["id_token"]
    return token


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, NOT verified: only for reading back what we just asked for."""
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise SignInError("not a JWT") from exc
    return claims


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _redirect_location(req: urllib.request.Request) -> str:
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=TIMEOUT) as resp:
            raise SignInError(f"the IdP answered {resp.status} instead of redirecting back")
    except urllib.error.HTTPError as exc:
        if exc.code in (302, 303) and exc.headers.get("location"):
            return str(exc.headers["location"])
        raise SignInError(f"{req.full_url.split('?')[0]}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
    except urllib.error.URLError as exc:
        raise SignInError(f"cannot reach the IdP at {req.full_url.split('?')[0]}: {exc.reason}") from exc


def _open(req: urllib.request.Request | str) -> bytes:
    url = req.full_url if isinstance(req, urllib.request.Request) else req
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            data: bytes = resp.read()
            return data
    except urllib.error.HTTPError as exc:
        raise SignInError(f"{url}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
    except urllib.error.URLError as exc:
        raise SignInError(f"cannot reach the IdP at {url}: {exc.reason}") from exc
