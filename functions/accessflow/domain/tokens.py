"""Invitation link tokens and e-mail normalisation.

A link token is 32 random bytes (256 bits), URL-safe. Only its SHA-256 is ever stored, so a leak of
the table does not leak usable links; a lookup hashes the presented token and queries by hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def mint_token() -> tuple[str, str]:
    """Return ``(token, token_hash)``: the token goes into the e-mail, the hash into the table."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def normalise_email(email: str) -> str:
    """Case-insensitive comparison of addresses: trimmed and lower-cased (local part included,
    as every mainstream provider treats it case-insensitively)."""
    return email.strip().lower()
