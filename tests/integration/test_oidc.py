"""Sign-in through the local OpenID Connect provider, and the API's JWT authorizer trusting it the way
API Gateway trusts a real IdP (discovery → JWKS → RS256 by ``kid``; ``iss``, ``aud``, ``exp``, ``nbf``).

Everything goes over HTTP, as a browser page or the CLI would do it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
import requests

from accessflow.devlogin import default_sub
from tests.conftest import MINI_TEMPLATE

STACK_TEMPLATE = MINI_TEMPLATE
AUDIENCE = "mini-api"  # the fixture template's JwtAudience
REDIRECT = "http://127.0.0.1:3000/console/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(issuer: str, typed: str, challenge: str, *, client_id: str = AUDIENCE) -> tuple[str, str, str]:
    """Open the IdP's sign-in form, type ``typed`` as the subject, press Authorize: (code, state, nonce)."""
    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid email profile", "state": state, "nonce": nonce,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    form = requests.get(config["authorization_endpoint"], params=params, timeout=10)
    assert form.status_code == 200
    assert re.search(r'<input[^>]*name="sub"', form.text) and "Authorize" in form.text
    assert '<label for="sub">E-mail address</label>' in form.text
    assert not re.search(r'(src|href)="https?://', form.text), "the sign-in page fetches from the network"
    done = requests.post(config["authorization_endpoint"], params=params, data={"sub": typed},
                         allow_redirects=False, timeout=10)
    assert done.status_code == 302, done.text
    location = urlsplit(done.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    back = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert back["state"] == state
    return back["code"], state, nonce


def _exchange(issuer: str, code: str, verifier: str | None, *, client_id: str = AUDIENCE) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client_id}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(f"{issuer}/oauth2/token", data=data, headers={"Origin": "http://127.0.0.1:3000"},
                         timeout=10)


def _me(api: Any, token: str) -> requests.Response:
    resp: requests.Response = api.get("/me", token=token)
    return resp


def test_discovery_names_the_jwks_that_verifies_the_tokens(stack: Any) -> None:
    issuer = stack.idp.issuer
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", issuer)
    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == issuer and "code" in config["response_types_supported"]
    token = stack.mint_token("ana@example.com", name="Ana")
    key = pyjwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(token)
    assert key.key_id == pyjwt.get_unverified_header(token)["kid"]
    claims = pyjwt.decode(token, key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer)
    assert (claims["email"], claims["email_verified"], claims["name"]) == ("ana@example.com", True, "Ana")
    assert claims["sub"] == default_sub("ana@example.com")
    assert claims["exp"] - claims["iat"] >= 12 * 3600  # a `make serve` session outlives an hour


def test_code_flow_with_pkce_yields_an_id_token_the_api_accepts(stack: Any, api: Any) -> None:
    stack.idp.register("flow-user", {"email": "flow@example.com", "email_verified": True, "name": "Flo Wu"})
    verifier, challenge = _pkce()
    code, _, nonce = _authorize(stack.idp.issuer, "flow-user", challenge)

    missing = _exchange(stack.idp.issuer, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = _exchange(stack.idp.issuer, code, _pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    tokens = _exchange(stack.idp.issuer, code, verifier)
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["access-control-allow-origin"] == "*"
    id_token = tokens.json()["id_token"]
    claims = pyjwt.decode(id_token, options={"verify_signature": False})
    assert claims["nonce"] == nonce and claims["aud"] in (AUDIENCE, [AUDIENCE])
    assert (claims["sub"], claims["email"], claims["email_verified"], claims["name"]) == \
        ("flow-user", "flow@example.com", True, "Flo Wu")
    assert _exchange(stack.idp.issuer, code, verifier).status_code == 400  # a code works once

    seen = _me(api, id_token)
    assert seen.status_code == 200
    assert seen.json()["claims"]["email"] == "flow@example.com"


def test_an_email_typed_at_the_idp_signs_in_as_that_person(stack: Any) -> None:
    verifier, challenge = _pkce()
    code, _, _ = _authorize(stack.idp.issuer, "Dana.Lee@Example.com", challenge)
    claims = pyjwt.decode(_exchange(stack.idp.issuer, code, verifier).json()["id_token"],
                          options={"verify_signature": False})
    assert claims["sub"] == default_sub("dana.lee@example.com")  # the subject dev-token and mint_token use
    assert (claims["email"], claims["email_verified"], claims["name"]) == ("Dana.Lee@Example.com", True, "Dana.Lee")


def test_registered_people_keep_their_claims(stack: Any, api: Any) -> None:
    unverified = stack.mint_token("unverified@example.com", email_verified=False)
    assert _me(api, unverified).json()["claims"]["email_verified"] == "false"
    other = stack.mint_token("ana@example.com", sub="another-login-of-ana")
    assert _me(api, other).json()["claims"]["sub"] == "another-login-of-ana"
    # typing the registered subject at the form signs in with the registered claims
    stack.mint_token("typed@example.com", email_verified=False)
    verifier, challenge = _pkce()
    code, _, _ = _authorize(stack.idp.issuer, "typed@example.com", challenge)
    claims = pyjwt.decode(_exchange(stack.idp.issuer, code, verifier).json()["id_token"],
                          options={"verify_signature": False})
    assert (claims["sub"], claims["email_verified"]) == (default_sub("typed@example.com"), False)


def test_extra_claims_reach_the_function(stack: Any, api: Any) -> None:
    token = stack.mint_token("mfa@example.com", extra={"amr": ["pwd", "mfa"]})
    assert _me(api, token).json()["claims"]["amr"] == "[pwd mfa]"


def _foreign_key_token(stack: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    genuine = stack.mint_token("ana@example.com")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = pyjwt.decode(genuine, options={"verify_signature": False})
    return pyjwt.encode(claims, other, algorithm="RS256", headers={"kid": pyjwt.get_unverified_header(genuine)["kid"]})


FORGERIES = {
    "signed by another key": _foreign_key_token,
    "another issuer": lambda s: s.idp.id_token("ana@example.com", client_id=AUDIENCE,
                                               base_url=s.idp.issuer.replace("127.0.0.1", "localhost")),
    "another audience": lambda s: s.mint_token("ana@example.com", extra={"aud": "someone-else"}),
    "expired": lambda s: s.mint_token("ana@example.com", ttl=-10),
    "not yet valid": lambda s: s.mint_token("ana@example.com", extra={"nbf": int(time.time()) + 600}),
    "unsigned": lambda s: pyjwt.encode(pyjwt.decode(s.mint_token("ana@example.com"),
                                                    options={"verify_signature": False}), None, algorithm="none"),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_tokens_the_authorizer_must_refuse(stack: Any, api: Any, forgery: str) -> None:
    assert _me(api, stack.mint_token("ana@example.com")).status_code == 200  # the genuine one passes
    token = FORGERIES[forgery](stack)
    resp = _me(api, token)
    assert resp.status_code == 401 and resp.json() == {"message": "Unauthorized"}


def test_browsers_on_another_origin_may_call_discovery_jwks_and_token(stack: Any) -> None:
    issuer = stack.idp.issuer
    pre = requests.options(f"{issuer}/oauth2/token", timeout=10, headers={
        "Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()
    for path in ("/.well-known/openid-configuration", "/jwks"):
        resp = requests.get(issuer + path, headers={"Origin": "http://127.0.0.1:3000"}, timeout=10)
        assert resp.status_code == 200 and resp.headers["access-control-allow-origin"] == "*"
    form = requests.get(f"{issuer}/oauth2/authorize", timeout=10)  # the sign-in page is navigated to, not fetched
    assert "access-control-allow-origin" not in form.headers


def test_the_idp_logs_no_query_string(stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The browser pages carry their own state through ``state``: the IdP must not write it to a log."""
    import logging

    secret = "state-" + secrets.token_urlsafe(24)
    caplog.set_level(logging.DEBUG)
    params = {"response_type": "code", "client_id": AUDIENCE, "redirect_uri": REDIRECT, "state": secret,
              "scope": "openid email profile", "code_challenge": _pkce()[1], "code_challenge_method": "S256"}
    assert requests.get(f"{stack.idp.issuer}/oauth2/authorize", params=params, timeout=10).status_code == 200
    done = requests.post(f"{stack.idp.issuer}/oauth2/authorize", params=params, data={"sub": "log@example.com"},
                         allow_redirects=False, timeout=10)
    assert done.status_code == 302 and secret in done.headers["location"]
    idp_side = [r.getMessage() for r in caplog.records
                if r.name.split(".")[0] in ("infra", "werkzeug", "oidc_provider_mock", "authlib", "flask")]
    assert any("/oauth2/authorize" in line for line in idp_side)  # requests are logged ...
    assert not [line for line in idp_side if secret in line]  # ... without their query string
