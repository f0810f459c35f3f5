"""Local JWT issuer: a key pair under ``.local/`` and tokens the local HTTP API accepts.

The deployed API trusts the real identity provider; locally the API Gateway JWT authorizer is
emulated against this key pair, with the issuer and audience read from ``template.yaml``.

Usage: ``python -m infra.devtoken EMAIL [--sub S] [--name N] [--unverified] [--ttl SECONDS]``.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEY_PATH = REPO_ROOT / ".local" / "jwt-private.pem"
KEY_ID = "accessflow-local"
SUB_NAMESPACE = uuid.UUID("6b1f7c1e-2f5d-4c49-9a7e-0c1f3b7a9d10")


def default_sub(email: str) -> str:
    """Deterministic subject for an e-mail, so the same person logs in as the same user."""
    return str(uuid.uuid5(SUB_NAMESPACE, email.strip().lower()))


def load_or_create_private_key(path: Path = DEFAULT_KEY_PATH) -> bytes:
    """PEM of the local RSA signing key, generated once (atomically, safe across xdist workers)."""
    if path.exists():
        return path.read_bytes()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pem)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def public_key_pem(private_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def mint(
    private_pem: bytes,
    *,
    issuer: str,
    audience: str,
    email: str,
    sub: str | None = None,
    email_verified: bool = True,
    name: str | None = None,
    ttl: int = 3600,
    extra: dict[str, Any] | None = None,
) -> str:
    """An RS256 ID-token-like JWT with the claims the app reads."""
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub or default_sub(email),
        "email": email,
        "email_verified": email_verified,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "token_use": "id",
    }
    if name is not None:
        claims["name"] = name
    claims.update(extra or {})
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": KEY_ID})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a JWT accepted by the local AccessFlow API.")
    parser.add_argument("email")
    parser.add_argument("--sub")
    parser.add_argument("--name")
    parser.add_argument("--unverified", action="store_true", help="email_verified = false")
    parser.add_argument("--ttl", type=int, default=3600)
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "template.yaml")
    args = parser.parse_args(argv)

    from infra.httpapi import jwt_settings_from_template

    issuer, audience = jwt_settings_from_template(args.template)
    print(
        mint(
            load_or_create_private_key(),
            issuer=issuer,
            audience=audience,
            email=args.email,
            sub=args.sub,
            email_verified=not args.unverified,
            name=args.name,
            ttl=args.ttl,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
