"""The browser pages' pure parts: what a role may do (from the permission table), the security
headers, the asset listing, and the redaction of link tokens from log lines."""

from __future__ import annotations

import logging

from accessflow.domain.roles import PERMISSIONS, Permission, Role, describe
from accessflow.observability import REDACTED, RedactTokens, redact
from accessflow.web import pages


def test_every_role_has_one_line_that_follows_the_permission_table() -> None:
    for role in Role:
        line = describe(role)
        assert line.startswith("Can ") and line.endswith(".") and "\n" not in line
        held = PERMISSIONS[role]
        if held == frozenset(Permission):
            assert line.startswith("Can do everything"), line
            continue
        can = line.split(";")[0]
        assert ("billing" in can) == (Permission.BILLING in held), (role, line)
        assert ("analytics" in can) == (Permission.READ_ANALYTICS in held), (role, line)
        assert ("publish" in can) == (Permission.PUBLISH_CONTENT in held), (role, line)
        assert ("moderate" in can or "comments" in can) == (Permission.MODERATE_COMMUNITY in held), (role, line)
    assert describe(Role.ANALYST) == "Can read analytics; cannot manage members, billing or settings."


def test_csp_allows_only_this_origin_and_the_issuer() -> None:
    csp = pages.content_security_policy("https://login.example.com/pool/abc")
    assert "connect-src 'self' https://login.example.com;" in csp
    assert "form-action 'self' https://login.example.com;" in csp
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp
    assert "unsafe" not in csp
    cognito = pages.content_security_policy("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
                                            ["https://signin.auth.eu-west-1.amazoncognito.com"])
    assert ("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com "
            "https://signin.auth.eu-west-1.amazoncognito.com;") in cognito
    headers = pages.security_headers("https://login.example.com/")
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_flat_static_files_are_assets() -> None:
    names = set(pages.assets())
    assert {"app.css", "app.js", "accept.js", "callback.js", "console.js", "oidc-client-ts.min.js"} <= names
    assert all("/" not in n and not n.startswith(".") for n in names)
    for outside in ("..", "../pages.py", "pages.py", "__init__.py", "README.md", "", "%2e%2e"):
        assert pages.asset(outside) is None
    assert pages.asset("app.js").content_type == "text/javascript; charset=utf-8"  # type: ignore[union-attr]


def test_page_escapes_its_settings() -> None:
    response = pages.render(title="<x>", main="<p>ok</p>", script="accept.js", issuer='https://i.example/"><b>',
                            client_id="c")
    body = str(response.body)
    assert "<title>&lt;x&gt; · AccessFlow</title>" in body and '"><b>' not in body
    assert response.headers["Content-Security-Policy"]


def test_link_tokens_never_reach_a_log_line() -> None:
    token = "Zm9vYmFyYmF6cXV4_-1234567890abcdefABCDEF"
    assert token not in redact(f"GET /accept?token={token} HTTP/1.1")
    assert token not in redact(f'{{"token": "{token}"}}')
    assert redact({"queryStringParameters": {"token": token}}) == {"queryStringParameters": {"token": REDACTED}}
    assert token not in str(redact({"rawQueryString": f"token={token}&x=1", "body": f'{{"token":"{token}"}}'}))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "opened %s", (f"/accept?token={token}",), None)
    RedactTokens().filter(record)
    assert token not in record.getMessage()
    assert redact("task_token=AAAAAAAAAAAAAAAA") == "task_token=AAAAAAAAAAAAAAAA"  # not a link token
