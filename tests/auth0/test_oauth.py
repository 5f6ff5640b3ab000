"""Unit tests of the generic grant: parsing, expiry, Retry-After, URL checks (no network)."""

from __future__ import annotations

import json
import time

import pytest

from vault.demo_tokens import fake_jwt
from vault.errors import NetworkError, UsageError
from vault.inject import oauth


def test_expiry_is_the_earlier_of_expires_in_and_exp():
    now = time.time()
    tok = fake_jwt({"exp": int(now) + 60, "scope": "a b"})
    t = oauth.parse_token(json.dumps({"access_token": tok, "expires_in": 3600}).encode(), now)
    assert t.expires_at == int(now) + 60
    assert t.scope == "a b"
    t = oauth.parse_token(json.dumps({"access_token": tok, "expires_in": 30}).encode(), now)
    assert t.expires_at == now + 30
    assert tok not in repr(t)


def test_opaque_token_without_expiry():
    t = oauth.parse_token(b'{"access_token": "opaque-value-123"}', 0)
    assert t.expires_at is None and t.scope is None


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"access_token": ""}', b'{"token": "x"}'])
def test_bad_bodies_are_network_errors(body):
    with pytest.raises(NetworkError):
        oauth.parse_token(body, 0)


def test_retry_after_forms():
    now = 1_000_000.0
    assert oauth._retry_after({"retry-after": "7"}, now) == 7
    assert oauth._retry_after({"x-ratelimit-reset": str(int(now) + 5)}, now) == 5
    assert oauth._retry_after({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}, now) == 0
    assert oauth._retry_after({}, now) is None


@pytest.mark.parametrize("url", ["http://tenant.auth0.com/oauth/token", "ftp://x/y", "https:///x", "https://h:99999/"])
def test_token_url_refused(url):
    with pytest.raises(UsageError):
        oauth.check_token_url(url)


def test_token_url_loopback_http_allowed():
    assert oauth.check_token_url("http://127.0.0.1:8080/oauth/token")


def test_grant_repr_and_body():
    g = oauth.Grant("https://t.example/oauth/token", "cid", "s3cret-value", "aud", None)
    assert "s3cret" not in repr(g)
    assert json.loads(g.body()) == {"grant_type": "client_credentials", "client_id": "cid",
                                    "client_secret": "s3cret-value", "audience": "aud"}


def test_server_text_is_cleaned_and_masked():
    from vault.secret import Secret, forget

    forget()
    Secret("hunter2-secret")
    assert oauth._server_error(b'{"error": "x\\u001b[31m", "error_description": "got hunter2-secret"}') \
        == "x [31m: got ***"
