"""Synthetic tokens for guard tests (random per call, never real)."""

from __future__ import annotations

import base64
import json
import secrets
import string

NOW = 1_800_000_000.0  # the clock the guard tests pin
ALNUM = string.ascii_letters + string.digits


def _seg(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(claims: dict | None = None, alg: str = "RS256") -> str:
    claims = claims if claims is not None else {"sub": "user-1", "exp": int(NOW) + 3600}
    sig = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    return f"{_seg({'alg': alg, 'typ': 'JWT'})}.{_seg(claims)}.{sig}"


def auth0_mgmt(scope: str = "read:users delete:users", exp: float = NOW + 3600,
               tenant: str = "acme-dev.eu") -> str:
    return jwt({"iss": f"https://{tenant}.auth0.com/", "aud": f"https://{tenant}.auth0.com/api/v2/",
                "sub": "x@clients", "scope": scope, "exp": int(exp), "gty": "client-credentials"})


def opaque(n: int = 40) -> str:
    while True:
        v = "".join(secrets.choice(ALNUM) for _ in range(n))
        if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
            return v


def client_secret() -> str:
    return "".join(secrets.choice(ALNUM + "-_") for _ in range(64)) + "Z9"
