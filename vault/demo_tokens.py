"""Fake tokens for the demos and the tests: unsigned JWTs that open nothing.

Shaped like the real thing (an Auth0 Management API token with write scopes), so the
guard flags them and the vault sees their kind and expiry; the signature is random bytes.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any


def b64url_json(obj: Mapping[str, Any]) -> str:
    """A JWT segment: compact JSON, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def fake_jwt(claims: Mapping[str, Any], alg: str = "RS256") -> str:
    """A JWT with these claims and a random 64-byte signature."""
    sig = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    return f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}.{sig}"


def auth0_mgmt_jwt(domain: str, scope: str = "read:users update:users delete:users",
                   exp: float | None = None, sub: str = "demo@clients") -> str:
    """Like an Auth0 Management API token for `domain`; expires in a day unless `exp`."""
    exp = time.time() + 86400 if exp is None else exp
    return fake_jwt({"iss": f"https://{domain}/", "aud": f"https://{domain}/api/v2/",
                     "sub": sub, "scope": scope, "exp": int(exp), "gty": "client-credentials"})
