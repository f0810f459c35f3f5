"""A real OpenID Connect provider on a loopback port: the local stack's IdP.

``oidc-provider-mock`` serves discovery, JWKS, the authorization form, the token endpoint and
userinfo; the template's JWT authorizer (emulated in ``infra/httpapi.py``) trusts it through its
discovery document exactly as it would trust Cognito, Okta or Entra. Tests, ``make serve`` and
``dev-token`` all get their ID tokens from it.

What this module adds around the mock, and why:

* the issuer string is exactly ``http://127.0.0.1:PORT`` (the mock derives ``iss`` from the
  request's host, so every client uses that URL);
* PKCE is enforced (S256, public clients without a secret), as Cognito does for a public app
  client: the mock alone ignores ``code_challenge`` and demands a client secret;
* CORS on discovery, JWKS, token and userinfo, so browser pages on another origin can run the flow
  from JavaScript, as with a real IdP;
* local convenience: an e-mail address typed in the sign-in form that is not a registered subject
  signs in as ``default_sub(e-mail)`` (the same subject ``dev-token`` and ``mint_token`` use), which
  is registered on the fly with ``email_verified: true`` and ``name`` = the address's local part.
  Registered subjects keep their claims;
* request lines are logged without their query string (it carries ``state``);
* its pages come from ``infra/oidc_templates/``: a labelled sign-in form that names recent people by
  e-mail, and no stylesheet from a CDN (the mock's pages fetch one; nothing here uses the network).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from werkzeug.serving import WSGIRequestHandler

from accessflow import devlogin

LOG = logging.getLogger("infra.oidc")

DEFAULT_PORT = 3001
CLIENT_ID = devlogin.DEFAULT_CLIENT_ID
TOKEN_LIFETIME = timedelta(hours=12)
CORS_PATHS = ("/.well-known/openid-configuration", "/jwks", "/oauth2/token", "/userinfo")

_lock = threading.Lock()
_provider: LocalIdP | None = None


def provider(port: int = 0) -> LocalIdP:
    """This process's IdP, started on ``port`` (0: any free port) the first time.

    One per process: the stacks of a test session share it, like an organisation's one IdP.
    """
    global _provider
    with _lock:
        if _provider is None:
            _provider = LocalIdP(port)
            _provider.start()
        elif port and _provider.port != port:
            raise RuntimeError(f"the local IdP already runs on port {_provider.port}, not {port}")
        return _provider


def mint(idp: LocalIdP, audience: str, email: str, *, sub: str | None = None, email_verified: bool = True,
         name: str | None = None, ttl: int | None = None, extra: dict[str, Any] | None = None) -> str:
    """An ID token for ``audience`` (the client id) from a real sign-in at ``idp``.

    ``sub`` defaults to ``default_sub(email)``; ``extra`` claims (e.g. ``amr``) are registered with
    the person, except ``aud``, which signs in through that client id instead; ``ttl`` (seconds,
    negative for an already expired token) replaces the IdP's lifetime.
    """
    extra = dict(extra or {})
    client_id = str(extra.pop("aud", audience))
    kwargs: dict[str, Any] = {"sub": sub, "email_verified": email_verified, "name": name, "extra": extra,
                              "client_id": client_id}
    if ttl is not None:
        return idp.id_token_with_lifetime(email, ttl=ttl, **kwargs)
    return idp.id_token(email, **kwargs)


class LocalIdP:
    def __init__(self, port: int = 0, *, token_lifetime: timedelta = TOKEN_LIFETIME) -> None:
        import warnings

        import authlib.deprecate  # it installs an "always" filter for its warnings: import it first
        from werkzeug.serving import make_server

        with warnings.catch_warnings():  # authlib's notes about its own modules, not about our use
            warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
            import oidc_provider_mock

        self.flask_app = oidc_provider_mock.app(access_token_max_age=token_lifetime)
        _use_local_pages(self.flask_app, self)
        self._storage, server = _internals(self.flask_app)
        _enforce_pkce(server)
        self._server = make_server("127.0.0.1", port, _LocalConveniences(self.flask_app, self),
                                   threaded=True, request_handler=_QuietRequestHandler)
        self.port: int = self._server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="local-idp", daemon=True)
        self._tokens: dict[tuple[Any, ...], str] = {}
        self._discovery: dict[str, dict[str, Any]] = {}
        self._mint_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()
        LOG.info("local OpenID Connect provider at %s", self.issuer)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- people ----------------------------------------------------------------------------------
    def is_registered(self, sub: str) -> bool:
        return self._storage.get_user(sub) is not None

    def register(self, sub: str, claims: dict[str, Any]) -> None:
        """Set the claims of ``sub``'s tokens (over HTTP, the mock's ``PUT /users/{sub}``)."""
        devlogin.register_user(self.issuer, sub, claims)

    def id_token(self, email: str, *, sub: str | None = None, email_verified: bool = True,
                 name: str | None = None, extra: dict[str, Any] | None = None,
                 client_id: str = CLIENT_ID, base_url: str | None = None) -> str:
        """An ID token for this person from a real authorization-code + PKCE sign-in.

        Identical requests within the process reuse the token (it is valid for hours). ``base_url``
        reaches the IdP under another host name: the token's ``iss`` is then that URL.
        """
        subject = sub or devlogin.default_sub(email)
        claims = devlogin.person_claims(email, email_verified=email_verified, name=name, extra=extra)
        key = (subject, base_url, client_id, repr(sorted(claims.items())))
        with self._mint_lock:
            user = self._storage.get_user(subject)
            if user is None or user.claims != claims:
                self.register(subject, claims)
            token = self._tokens.get(key)
            if token is None:
                url = base_url or self.issuer
                if url not in self._discovery:
                    self._discovery[url] = devlogin.discovery(url)
                token = devlogin.sign_in(url, subject, client_id=client_id, config=self._discovery[url])["id_token"]
                if not {"exp", "iat", "nbf"} & claims.keys():
                    self._tokens[key] = token
            return token

    def id_token_with_lifetime(self, email: str, *, ttl: int, **kwargs: Any) -> str:
        """A token the IdP signed with a lifetime of ``ttl`` seconds from now (negative: expired).

        The mock lets a user's claims override the token's own, so the person is registered with
        ``iat``/``exp`` for one sign-in and restored right after.
        """
        import time

        now = int(time.time())
        extra = dict(kwargs.pop("extra", None) or {})
        token = self.id_token(email, extra=extra | {"iat": now, "exp": now + ttl}, **kwargs)
        subject = kwargs.get("sub") or devlogin.default_sub(email)
        with self._mint_lock:
            self.register(subject, devlogin.person_claims(email, email_verified=kwargs.get("email_verified", True),
                                                          name=kwargs.get("name"), extra=extra))
        return token

    # -- the sign-in form's convenience ----------------------------------------------------------
    def person_label(self, sub: str) -> str:
        """How the sign-in page names a known subject: e-mail and name rather than an opaque id."""
        user = self._storage.get_user(sub)
        claims = user.claims if user is not None else {}
        email, name = claims.get("email"), claims.get("name")
        label = f"{name} <{email}>" if email and name else str(email or sub)
        return label if email and sub in (email, devlogin.default_sub(str(email))) else f"{label} ({sub})"

    def subject_for_typed(self, typed: str) -> str:
        """The subject a value typed in the sign-in form signs in as (see the module docstring)."""
        typed = typed.strip()
        if self.is_registered(typed) or "@" not in typed:
            return typed
        sub = devlogin.default_sub(typed)
        if not self.is_registered(sub):
            from oidc_provider_mock import User

            claims = devlogin.person_claims(typed, email_verified=True, name=typed.split("@", 1)[0])
            self._storage.store_user(User(sub=sub, claims=claims))
        return sub


# ------------------------------------------------------------------------------------------------
# around the mock
# ------------------------------------------------------------------------------------------------
def _internals(app: Any) -> tuple[Any, Any]:
    """The mock's user storage and authlib authorization server (it keeps them on ``flask.g``)."""
    import flask

    with app.test_request_context("/"):
        app.preprocess_request()
        return flask.g.oidc_provider_mock_storage, flask.g._authlib_authorization_server


def _use_local_pages(app: Any, idp: LocalIdP) -> None:
    """The sign-in page from ``oidc_templates/``: labelled for people (type an e-mail), and without the
    mock's stylesheet from a CDN (nothing is fetched from the network)."""
    import jinja2

    app.jinja_loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(Path(__file__).with_name("oidc_templates")),
                                            app.jinja_loader])
    app.jinja_env.globals["person_label"] = idp.person_label


def _enforce_pkce(server: Any) -> None:
    """Swap the mock's code grant for one that stores the PKCE challenge, checks the verifier and
    accepts public clients (``token_endpoint_auth_method`` none), as Cognito's public app clients."""
    from authlib.oauth2.rfc7636 import CodeChallenge
    from oidc_provider_mock import _app, _storage

    @dataclass(kw_only=True, frozen=True)
    class CodeWithChallenge(_storage.AuthorizationCode):
        code_challenge: str | None = None
        code_challenge_method: str | None = None

    class PkceCodeGrant(_app.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            _app.storage.store_authorization_code(CodeWithChallenge(
                code=code, user_id=request.user.sub, client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri, scope=request.payload.scope,
                nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            ))

    class OpenIDCodeWithKid(_app.OpenIDCode):  # type: ignore[misc]
        """Names the signing key in the ID token's header, as real IdPs do (verifiers pick the JWKS
        key by ``kid``)."""

        def get_jwt_config(self, grant: Any, client: Any = None) -> dict[str, Any]:
            config: dict[str, Any] = super().get_jwt_config(grant, client)
            config["kid"] = config["key"]["kid"]
            return config

    swapped = 0
    for registry in (server._authorization_grants, server._token_grants):
        for i, (cls, extensions) in enumerate(registry):
            if cls is _app.AuthorizationCodeGrant:
                for ext in extensions or []:
                    if type(ext) is _app.OpenIDCode:
                        ext.__class__ = OpenIDCodeWithKid
                registry[i] = (PkceCodeGrant, [*(extensions or []), CodeChallenge(required=True)])
                swapped += 1
    if swapped != 2:
        raise RuntimeError("oidc-provider-mock changed: its authorization-code grant was not found")


class _LocalConveniences:
    """WSGI middleware: CORS on the endpoints browsers call, and e-mails typed as the subject."""

    def __init__(self, app: Any, idp: LocalIdP) -> None:
        self.app = app
        self.idp = idp

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/oauth2/authorize" and method == "POST":
            self._map_typed_email(environ)
        if path not in CORS_PATHS:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        cors = [("Access-Control-Allow-Origin", "*")]
        if method == "OPTIONS":
            allow = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or "authorization, content-type"
            start_response("204 No Content", [*cors, ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                                              ("Access-Control-Allow-Headers", allow),
                                              ("Access-Control-Max-Age", "600"), ("Content-Length", "0")])
            return [b""]

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [h for h in headers if h[0].lower() != "access-control-allow-origin"]
            return start_response(status, kept + cors, exc_info)

        return self.app(environ, with_cors)  # type: ignore[no-any-return]

    def _map_typed_email(self, environ: dict[str, Any]) -> None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        fields = [(k, self.idp.subject_for_typed(v) if k == "sub" else v) for k, v in fields]
        new = urlencode(fields).encode() if fields else body
        environ["wsgi.input"] = io.BytesIO(new)
        environ["CONTENT_LENGTH"] = str(len(new))


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs method, path and status only: the query string carries the client's ``state``."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        LOG.debug("%s %s %s", self.command, self.path.split("?", 1)[0], getattr(code, "value", code))
