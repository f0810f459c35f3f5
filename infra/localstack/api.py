"""The template's HTTP API on localhost (moto has no HTTP API data plane) and ID tokens its authorizer accepts.

Tokens come from a real sign-in at the process's local OpenID Connect provider (:mod:`infra.oidc`), the
issuer the stack passes to the template as ``JwtIssuer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra import oidc


class HttpApi:
    """The routes of the template's HTTP API, served by :class:`infra.httpapi.HttpApiServer`."""

    def __init__(self, routes: list[Any], invoke_arn: Callable[[str, Any], Any], *, port: int = 0,
                 lock_key: Callable[[str], str] | None = None) -> None:
        self.routes = routes
        self.lock_key = lock_key
        self.invoke_arn = invoke_arn
        self.port = port
        self.url: str | None = None
        self.idp: oidc.LocalIdP | None = None
        self._server: Any = None

    def start_idp(self, parameters: dict[str, str]) -> None:
        """The process's IdP (``make serve`` starts it on its fixed port first), as the template's issuer."""
        self.idp = oidc.provider()
        parameters.setdefault("JwtIssuer", self.idp.issuer)

    def start(self) -> None:
        from infra.httpapi import HttpApiServer

        self._server = HttpApiServer(self.routes, self.invoke_arn, port=self.port, lock_key=self.lock_key)
        self._server.start()
        self.url = self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def jwt_settings(self) -> tuple[str, str]:
        for route in self.routes:
            if route.authorizer is not None:
                return route.authorizer.issuer, (route.authorizer.audience or [""])[0]
        raise LookupError("the template's HTTP API has no JWT authorizer")

    def mint_token(self, email: str, *, sub: str | None = None, email_verified: bool = True,
                   name: str | None = None, ttl: int | None = None, extra: dict[str, Any] | None = None) -> str:
        """An ID token from the stack's IdP, by a real sign-in (see ``oidc.mint``)."""
        assert self.idp is not None, "the stack is not started"
        return oidc.mint(self.idp, self.jwt_settings()[1], email, sub=sub, email_verified=email_verified,
                         name=name, ttl=ttl, extra=extra)
