"""Print an ID token from the local stack's identity provider (the one ``make serve`` starts).

The token comes from a real sign-in (authorization code + PKCE) at the local OpenID Connect provider,
the issuer the local API's JWT authorizer trusts; see ``accessflow.devlogin``.

Usage: ``python -m infra.devtoken EMAIL [--sub S] [--name N] [--unverified] [--idp-url URL]``.
"""

from __future__ import annotations

import argparse
import os

from accessflow import devlogin
from accessflow.devlogin import default_sub

__all__ = ["default_sub", "main"]  # default_sub: the subject of an e-mail, as before (tests import it here)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print an ID token the local AccessFlow API accepts.")
    parser.add_argument("email")
    parser.add_argument("--sub", help="subject (default: derived from the e-mail)")
    parser.add_argument("--name", help="display name claim")
    parser.add_argument("--unverified", action="store_true", help="email_verified = false")
    parser.add_argument("--idp-url", default=os.environ.get("ACCESSFLOW_IDP_URL", devlogin.DEFAULT_IDP_URL))
    parser.add_argument("--client-id", default=os.environ.get("ACCESSFLOW_CLIENT_ID", devlogin.DEFAULT_CLIENT_ID))
    args = parser.parse_args(argv)
    try:
        token = devlogin.id_token(args.idp_url, args.email, sub=args.sub, email_verified=not args.unverified,
                                  name=args.name, client_id=args.client_id)
    except devlogin.SignInError as exc:
        parser.exit(1, f"devtoken: {exc} (is `make serve` running?)\n")
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
