"""When a token counts as stale, and what the refresh decides from metadata alone."""

from __future__ import annotations

import pytest

from vault.service import refresh
from vault.store.model import Entry, Environment


def _env(**entries: str) -> Environment:
    return Environment("dev", {n: Entry.new(n, v) for n, v in entries.items()})


CREDS = {"auth0_domain": "t.example.com", "auth0_client_id": "cid", "auth0_client_secret": "s" * 20}


def test_renewable_needs_id_secret_and_a_server():
    assert refresh.renewable(_env(**CREDS))
    assert not refresh.renewable(_env(auth0_client_id="cid", auth0_client_secret="x" * 20))
    assert refresh.renewable(_env(auth0_client_id="cid", auth0_client_secret="x" * 20,
                                  auth0_token_url="https://kc.example/token"))


@pytest.mark.parametrize("expires, now, margin, want", [
    (None, 0, 300, False),  # no expiry known: never renewed on its own
    (1000, 0, 300, False),
    (1000, 701, 300, True),  # within the margin
    (1000, 1001, 0, True),  # expired
])
def test_stale(expires, now, margin, want):
    env = _env(auth0_token="opaque-token-value-123456")
    env.entries["auth0_token"].expires = expires
    assert refresh.stale(env, now, margin) is want


def test_missing_token_is_stale():
    assert refresh.stale(_env(**CREDS))


@pytest.mark.parametrize("value, want", [(None, 300.0), ("60", 60.0), ("0", 0.0), ("-5", 300.0), ("x", 300.0)])
def test_margin_from_environment(monkeypatch, value, want):
    if value is None:
        monkeypatch.delenv(refresh.MARGIN_ENV, raising=False)
    else:
        monkeypatch.setenv(refresh.MARGIN_ENV, value)
    assert refresh.margin() == want
