"""Synthetic tokens for guard tests (random per call, never real)."""

from __future__ import annotations

import secrets
import string

from vault.demo_tokens import auth0_mgmt_jwt, fake_jwt

NOW = 1_800_000_000.0  # the clock the guard tests pin
ALNUM = string.ascii_letters + string.digits


def jwt(claims: dict | None = None, alg: str = "RS256") -> str:
    return fake_jwt(claims if claims is not None else {"sub": "user-1", "exp": int(NOW) + 3600}, alg)


def auth0_mgmt(scope: str = "read:users delete:users", exp: float = NOW + 3600,
               tenant: str = "acme-dev.eu") -> str:
    return auth0_mgmt_jwt(f"{tenant}.auth0.com", scope, exp, sub="x@clients")


def opaque(n: int = 40) -> str:
    while True:
        v = "".join(secrets.choice(ALNUM) for _ in range(n))
        if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
            return v


def client_secret() -> str:
    return "".join(secrets.choice(ALNUM + "-_") for _ in range(64)) + "Z9"


# -- published formats with a checksum (vault/guard/providers.py), built here independently --
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def crc_token(prefix: str, body: str | None = None) -> str:
    """GitHub's `ghp_`… and npm's `npm_` format: 30 random base62 characters, then the CRC32
    of those 30 in base62 (6 characters, zero-padded). Never a real token: made up here."""
    import zlib

    body = body if body is not None else opaque(30)
    assert len(body) == 30
    return prefix + body + base62(zlib.crc32(body.encode()))


def wrong_checksum(token: str) -> str:
    """The same token with its last checksum character changed."""
    last = token[-1]
    return token[:-1] + ("0" if last != "0" else "1")
