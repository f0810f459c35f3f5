"""The template's HTTP API on localhost (moto has no HTTP API data plane) and tokens its authorizer accepts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from infra import devtoken


class HttpApi:
    """The routes of the template's HTTP API, served by :class:`infra.httpapi.HttpApiServer`."""

    def __init__(self, routes: list[Any], invoke_arn: Callable[[str, Any], Any], *, key_path: Path,
                 port: int = 0) -> None:
        self.routes = routes
        self.invoke_arn = invoke_arn
        self.key_path = key_path
        self.port = port
        self.url: str | None = None
        self._server: Any = None
        self._private_pem = b""
        self._signing_key: Any = None

    def load_key(self) -> None:
        from cryptography.hazmat.primitives import serialization

        self._private_pem = devtoken.load_or_create_private_key(self.key_path)
        # PyJWT signs with a loaded key as well as with PEM; loading (and checking) the PEM costs
        # tens of milliseconds per token, and tests mint one per person.
        self._signing_key = serialization.load_pem_private_key(self._private_pem, password=None)

    def start(self) -> None:
        from infra.httpapi import HttpApiServer

        self._server = HttpApiServer(self.routes, self.invoke_arn, devtoken.public_key_pem(self._private_pem),
                                     port=self.port)
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
                   name: str | None = None, ttl: int = 3600, extra: dict[str, Any] | None = None) -> str:
        """A JWT the local API's authorizer accepts (negative ``ttl`` gives an expired one)."""
        issuer, audience = self.jwt_settings()
        key = self._signing_key or devtoken.load_or_create_private_key(self.key_path)
        return devtoken.mint(cast(bytes, key),
                             issuer=issuer, audience=audience, email=email, sub=sub,
                             email_verified=email_verified, name=name, ttl=ttl, extra=extra)
