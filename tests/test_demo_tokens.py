"""The fake tokens the demos plant: JWT-shaped, flagged by the guard, never equal twice."""

from __future__ import annotations

import base64
import json

from vault.demo_tokens import auth0_mgmt_jwt, fake_jwt


def _claims(token: str) -> dict:
    seg = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def test_fake_jwt_carries_its_claims_and_a_random_signature() -> None:
    a, b = fake_jwt({"sub": "x", "exp": 5}), fake_jwt({"sub": "x", "exp": 5})
    assert a.startswith("eyJ") and a.count(".") == 2 and "=" not in a
    assert _claims(a) == {"sub": "x", "exp": 5}
    assert a.split(".")[:2] == b.split(".")[:2] and a != b


def test_auth0_mgmt_jwt_is_shaped_like_the_management_api_token() -> None:
    c = _claims(auth0_mgmt_jwt("t.eu.auth0.com", exp=2_000_000_000))
    assert list(c)[0] == "iss"  # the demo test looks for the payload's `{"iss"` prefix
    assert c["aud"] == "https://t.eu.auth0.com/api/v2/" and c["exp"] == 2_000_000_000
    assert "delete:users" in c["scope"].split()
