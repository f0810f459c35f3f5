"""The template's HTTP API served on localhost, with API Gateway's JWT authorizer emulated.

moto has no HTTP API data plane, so this module reads the routes from the translated
``AWS::ApiGatewayV2::Api`` (its OpenAPI ``Body``, as SAM generates it, or explicit
``AWS::ApiGatewayV2::Route``/``Integration``/``Authorizer`` resources), turns each request into a
payload-format-2.0 event, runs the integrated function in-process and maps its result back, the
way API Gateway does. Authorizer rejections never reach the function: 401 ``Unauthorized``.

The JWT authorizer verifies bearer tokens as API Gateway does with a real IdP: the issuer's discovery
document names its JWKS, the token's ``kid`` picks the RS256 key, and ``iss``, ``aud``, ``exp`` and
``nbf`` must hold. Locally the issuer is the loopback IdP of ``infra/oidc.py``.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from urllib.request import urlopen

LOG = logging.getLogger("infra.httpapi")

_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")
# Query parameters that carry secrets (the invitation link's token=...): never logged.
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|code|state|access_token|id_token)=)[^&\s]+")


def redact_secrets(text: str) -> str:
    """A request line or URL without the values of secret query parameters."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + "[redacted]", text)

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")


@dataclass
class JwtAuthorizer:
    name: str
    issuer: str
    audience: list[str]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class Throttle:
    """A route's throttling, as the stage's ``DefaultRouteSettings``/``RouteSettings`` set it."""

    rate: float  # ThrottlingRateLimit: steady requests per second
    burst: int  # ThrottlingBurstLimit: bucket size


class TokenBucket:
    """API Gateway's throttling algorithm (a token bucket per route): ``burst`` tokens, refilled at
    ``rate`` per second; a request takes one or is refused."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle = throttle
        self._clock = clock
        self._tokens = float(throttle.burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> float | None:
        """None if the request may pass, else the seconds until a token is back (for Retry-After)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.throttle.burst), self._tokens + (now - self._at) * self.throttle.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            if self.throttle.rate <= 0:
                return 60.0
            return (1 - self._tokens) / self.throttle.rate


@dataclass
class Route:
    method: str  # upper case, or ANY
    path: str  # "/items/{id}", "/files/{proxy+}" or "$default"
    function_arn: str
    authorizer: JwtAuthorizer | None = None
    scopes: list[str] = field(default_factory=list)
    api_logical_id: str = ""
    throttle: Throttle | None = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        if self.path == "$default":
            return {}
        names: list[str] = []
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                greedy = name.endswith("+")
                names.append(name.rstrip("+"))
                pattern += "(.+)" if greedy else "([^/]+)"
            else:
                pattern += re.escape(part)
        m = re.fullmatch(pattern, path)
        return dict(zip(names, m.groups(), strict=True)) if m else None

    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers exact paths, then fewer/greedier-last params, then a real method."""
        greedy = int("+}" in self.path or self.path == "$default")
        params = self.path.count("{")
        return (greedy, params, int(self.method == "ANY"))


def routes_from_template(resources: dict[str, Any]) -> list[Route]:
    """Routes of every HTTP API in a *resolved* CloudFormation resource map."""
    routes: list[Route] = []
    for lid, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") != "AWS::ApiGatewayV2::Api" or "Body" not in props:
            continue
        body = props["Body"]
        schemes = (body.get("components") or {}).get("securitySchemes") or {}
        authorizers = {}
        for name, scheme in schemes.items():
            cfg = scheme.get("x-amazon-apigateway-authorizer") or {}
            if cfg.get("type") == "jwt":
                jc = cfg.get("jwtConfiguration") or {}
                aud = jc.get("audience") or []
                authorizers[name] = JwtAuthorizer(name, str(jc.get("issuer", "")),
                                                  [aud] if isinstance(aud, str) else list(aud),
                                                  cfg.get("identitySource", "$request.header.Authorization"))
        default_security = body.get("security") or []
        for path, ops in (body.get("paths") or {}).items():
            for op_name, op in ops.items():
                if not isinstance(op, dict) or "x-amazon-apigateway-integration" not in op:
                    continue
                method = "ANY" if op_name == "x-amazon-apigateway-any-method" else op_name.upper()
                uri = str(op["x-amazon-apigateway-integration"].get("uri", ""))
                m = _FUNCTION_IN_URI.search(uri)
                if not m:
                    LOG.warning("route %s %s: integration %s is not a Lambda proxy; skipped", method, path, uri)
                    continue
                security = op.get("security", default_security)
                authorizer, scopes = None, []
                for entry in security:
                    for name, entry_scopes in entry.items():
                        if name in authorizers:
                            authorizer, scopes = authorizers[name], list(entry_scopes or [])
                routes.append(Route(method, "$default" if path == "/$default" else path, m.group(1),
                                    authorizer, scopes, lid))
    routes.extend(_routes_from_resources(resources))
    _apply_throttling(routes, resources)
    return sorted(routes, key=Route.specificity)


def _throttle(settings: Any) -> Throttle | None:
    if not isinstance(settings, dict):
        return None
    rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return None
    return Throttle(float(rate if rate is not None else 10000), int(float(burst if burst is not None else 5000)))


def _apply_throttling(routes: list[Route], resources: dict[str, Any]) -> None:
    """Each route gets its stage's ``RouteSettings`` for its route key, else the stage's
    ``DefaultRouteSettings`` (API Gateway applies the default to every route separately). A stage
    belongs to the API whose logical id starts its own (SAM: ``{Api}ApiGatewayDefaultStage``), or to
    the only API there is."""
    apis = [lid for lid, res in resources.items() if res.get("Type") == "AWS::ApiGatewayV2::Api"]
    for lid, res in resources.items():
        if res.get("Type") != "AWS::ApiGatewayV2::Stage":
            continue
        props = res.get("Properties") or {}
        owner = next((a for a in apis if lid.startswith(a)), apis[0] if len(apis) == 1 else None)
        default = _throttle(props.get("DefaultRouteSettings"))
        per_route = {key: _throttle(value) for key, value in (props.get("RouteSettings") or {}).items()}
        for route in routes:
            if owner is not None and route.api_logical_id not in (owner, ""):
                continue
            route.throttle = per_route.get(route.route_key) or default


def _routes_from_resources(resources: dict[str, Any]) -> list[Route]:
    """Routes declared as explicit ``AWS::ApiGatewayV2::Route`` resources (non-SAM style)."""
    integrations: dict[str, str] = {}
    authorizers: dict[str, JwtAuthorizer] = {}
    for lid, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::ApiGatewayV2::Integration":
            integrations[lid] = str(props.get("IntegrationUri", ""))
        elif res.get("Type") == "AWS::ApiGatewayV2::Authorizer" and props.get("AuthorizerType") == "JWT":
            jc = props.get("JwtConfiguration") or {}
            srcs = props.get("IdentitySource") or ["$request.header.Authorization"]
            authorizers[lid] = JwtAuthorizer(str(props.get("Name", lid)), str(jc.get("Issuer", "")),
                                             list(jc.get("Audience") or []), srcs[0])
    routes = []
    for res in resources.values():
        props = res.get("Properties") or {}
        if res.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        target = str(props.get("Target", ""))
        integration = integrations.get(target.split("/", 1)[-1], "")
        arn = _FUNCTION_IN_URI.search(integration)
        fn_arn = arn.group(1) if arn else integration
        key = str(props["RouteKey"])
        method, _, path = key.partition(" ") if key != "$default" else ("ANY", "", "$default")
        auth = authorizers.get(str(props.get("AuthorizerId", ""))) if props.get("AuthorizationType") == "JWT" else None
        routes.append(Route(method, path, fn_arn, auth, list(props.get("AuthorizationScopes") or [])))
    return routes


def claims_as_strings(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands JWT claims to the function as strings (arrays as ``[a b]``)."""
    out = {}
    for k, v in claims.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, list):
            out[k] = "[" + " ".join(str(x) for x in v) + "]"
        elif isinstance(v, dict):
            out[k] = json.dumps(v)
        else:
            out[k] = str(v)
    return out


class IssuerKeys:
    """Signing keys of JWT issuers, found through each issuer's OpenID discovery document.

    Discovery and key sets are cached (a key set is fetched again when a token names an unknown
    ``kid``, which is how key rotation reaches a verifier); an unreachable issuer is asked again on
    the next request.
    """

    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def signing_key(self, issuer: str, token: str) -> Any:
        import jwt

        with self._lock:
            client = self._clients.get(issuer)
        if client is None:
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
            with urlopen(url, timeout=self._timeout) as resp:
                config = json.load(resp)
            if str(config.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
                raise LookupError(f"{url} names issuer {config.get('issuer')!r}, not {issuer!r}")
            client = jwt.PyJWKClient(str(config["jwks_uri"]), cache_keys=True, lifespan=300,
                                     timeout=int(self._timeout))
            with self._lock:
                self._clients[issuer] = client
        return client.get_signing_key_from_jwt(token).key


class HttpApiServer:
    """ThreadingHTTPServer on 127.0.0.1 that plays API Gateway for the given routes."""

    def __init__(
        self,
        routes: list[Route],
        invoke: Callable[[str, dict[str, Any]], Any],
        *,
        port: int = 0,
        api_id: str = "localapi01",
        account_id: str = "123456789012",
        issuer_keys: IssuerKeys | None = None,
        lock_key: Callable[[str], str] | None = None,
    ) -> None:
        self.routes = routes
        self._buckets = {id(r): TokenBucket(r.throttle) for r in routes if r.throttle is not None}
        self._invoke = invoke
        # One request at a time per function: in Lambda each execution environment serves one request
        # at a time, and Powertools' resolver keeps the request's state on the module-level app, which
        # every request shares here (a browser loading a page's scripts in parallel raced on it).
        # Two functions with the same handler share that module state in this one process (the review
        # routes' function runs the API's handler): ``lock_key`` maps a function to what it runs.
        self._lock_key = lock_key or (lambda arn: arn)
        self._function_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._keys = issuer_keys or IssuerKeys()
        self.api_id = api_id
        self.account_id = account_id
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; with Nagle on, the body waits for the client's
            # delayed ACK of the headers: about 40 ms added to every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                LOG.debug("%s " + format, self.address_string(), *(redact_secrets(str(a)) for a in args))

            def _handle(self) -> None:
                server.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="httpapi", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    # -- request handling --------------------------------------------------------------------
    def handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("content-length") or 0)
        raw_body = req.rfile.read(length) if length else b""
        split = urlsplit(req.path)
        method = req.command.upper()
        path = split.path or "/"
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                break
        else:
            return self._send(req, 404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        bucket = self._buckets.get(id(route))
        wait = bucket.take() if bucket is not None else None
        if wait is not None:
            return self._throttled(req, route, path, wait)
        claims: dict[str, Any] | None = None
        if route.authorizer is not None:
            claims = self._authorize(req, route.authorizer)
            if claims is None:
                return self._send(req, 401, {"content-type": "application/json",
                                             "www-authenticate": "Bearer"}, b'{"message":"Unauthorized"}')
            if route.scopes and not set(route.scopes) & set(self._token_scopes(claims)):
                return self._send(req, 403, {"content-type": "application/json"}, b'{"message":"Forbidden"}')
        event = self._event(req, route, params, split.query, raw_body, claims)
        try:
            with self._function_lock(route.function_arn):
                result = self._invoke(route.function_arn, event)
        except Exception:
            LOG.exception("function behind %s failed", route.route_key)
            return self._send(req, 500, {"content-type": "application/json"},
                              b'{"message":"Internal Server Error"}')
        status, headers, cookies, body = self._response(result)
        return self._send(req, status, headers, body, cookies)

    def _function_lock(self, arn: str) -> threading.Lock:
        with self._locks_lock:
            return self._function_locks.setdefault(self._lock_key(arn), threading.Lock())

    def _authorize(self, req: BaseHTTPRequestHandler, authorizer: JwtAuthorizer) -> dict[str, Any] | None:
        import jwt

        header = authorizer.identity_source.rsplit(".", 1)[-1]
        value = req.headers.get(header) or ""
        token = value[7:].strip() if value[:7].lower() == "bearer " else value.strip()
        if not token:
            return None
        try:
            key = self._keys.signing_key(authorizer.issuer, token)
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["RS256"], audience=authorizer.audience or None,
                issuer=authorizer.issuer, options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            LOG.info("JWT rejected: %s", exc)
            return None
        except (OSError, ValueError, LookupError) as exc:
            LOG.warning("JWT rejected: the keys of issuer %s are unavailable: %s", authorizer.issuer, exc)
            return None
        return claims

    @staticmethod
    def _token_scopes(claims: dict[str, Any]) -> list[str]:
        scope = claims.get("scope") or claims.get("scp") or []
        return scope.split() if isinstance(scope, str) else list(scope)

    def _event(self, req: BaseHTTPRequestHandler, route: Route, params: dict[str, str], query: str,
               raw_body: bytes, claims: dict[str, Any] | None) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for k, v in req.headers.items():
            key = k.lower()
            headers[key] = f"{headers[key]},{v}" if key in headers else v
        cookie_header = headers.pop("cookie", "")
        qs: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            qs[k] = f"{qs[k]},{v}" if k in qs else v
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": urlsplit(req.path).path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "domainName": headers.get("host", f"127.0.0.1:{self.port}"),
                "domainPrefix": headers.get("host", "127").split(".")[0],
                "http": {
                    "method": req.command.upper(),
                    "path": urlsplit(req.path).path,
                    "protocol": req.request_version,
                    "sourceIp": req.client_address[0],
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
                "routeKey": route.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookie_header:
            event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
        if qs:
            event["queryStringParameters"] = qs
        if params:
            event["pathParameters"] = params
        if claims is not None:
            event["requestContext"]["authorizer"] = {
                "jwt": {"claims": claims_as_strings(claims), "scopes": route.scopes or None}
            }
        if raw_body:
            ctype = headers.get("content-type", "").lower()
            textual = any(t in ctype for t in _TEXT_TYPES) or not ctype
            try:
                event["body"] = raw_body.decode("utf-8") if textual else None
            except UnicodeDecodeError:
                event["body"] = None
            if event["body"] is None:
                event["body"] = base64.b64encode(raw_body).decode()
                event["isBase64Encoded"] = True
        return event

    @staticmethod
    def _response(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
        """Map a Lambda result to HTTP the way payload format 2.0 does (incl. the inferred form)."""
        if not (isinstance(result, dict) and "statusCode" in result):
            return 200, {"content-type": "application/json"}, [], json.dumps(result).encode()
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(k).lower()] = ",".join(str(v) for v in values)
        body = result.get("body")
        if body is None:
            data = b""
        elif result.get("isBase64Encoded"):
            data = base64.b64decode(body)
        else:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        return int(result["statusCode"]), headers, [str(c) for c in result.get("cookies") or []], data

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes,
              cookies: list[str] | None = None) -> None:
        req.send_response(status)
        for k, v in headers.items():
            if k not in ("content-length", "connection", "transfer-encoding"):
                req.send_header(k, v)
        for c in cookies or []:
            req.send_header("set-cookie", c)
        req.send_header("content-length", str(len(body)))
        req.send_header("apigw-requestid", str(uuid.uuid4()))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(body)

    def _throttled(self, req: BaseHTTPRequestHandler, route: Route, path: str, wait: float) -> None:
        """429 before the authorizer and the function, as API Gateway throttles. API Gateway's own body
        is ``{"message":"Too Many Requests"}`` (no Retry-After); locally the answer is the product's
        problem+json with ``Retry-After``, so clients and tests see what to do. The path, never the
        query string (a link token), is echoed."""
        assert route.throttle is not None
        retry_after = max(1, math.ceil(wait))
        problem = {
            "type": "https://accessflow.dev/problems/too-many-requests", "title": "Too many requests",
            "status": 429, "instance": path, "retry_after": retry_after,
            "detail": f"{route.route_key} takes at most {route.throttle.rate:g} requests per second (bursts of "
                      f"{route.throttle.burst}); try again in {retry_after} s.",
        }
        LOG.info("throttled %s", route.route_key)
        self._send(req, 429, {"content-type": "application/problem+json", "retry-after": str(retry_after)},
                   json.dumps(problem).encode())
