"""A refresh that fails leaves the old token in place and fails clearly, with the right status."""

from __future__ import annotations

import time

import pytest

from tests.auth0.conftest import SECRET, assert_clean, login
from tests.auth0.test_auth0_e2e import expire_token


@pytest.mark.parametrize("mode, code, said", [
    ("401", 3, b"access_denied: Unauthorized"),
    ("403", 3, b"unauthorized_client"),
    ("badjson", 8, b"not JSON"),
])
def test_failed_refresh_keeps_old_token(ts, tenant, mode, code, said):
    login(ts, tenant)
    old = expire_token(ts, tenant)
    tenant.script = [mode]
    r = ts("run", "--", "true")
    assert r.returncode == code, r.stderr
    assert said in r.stderr and b"has expired and could not be renewed" in r.stderr
    assert tenant.counts["/oauth/token"] == 1
    got = ts("get", "auth0_token", env={"TOKENSAFE_REFRESH_MARGIN": "0"})
    # the stand-in answers "ok" again: get renews now; before that the old token was kept
    assert got.returncode == 0
    assert old.encode() not in got.stdout
    assert_clean(ts, tenant)
    ts.assert_no_leak(old)


def test_token_command_401_is_auth_status(ts, tenant):
    login(ts, tenant)
    tenant.script = ["401"]
    r = ts("auth0", "token")
    assert r.returncode == 3
    assert b"refused the request (401 access_denied: Unauthorized)" in r.stderr
    assert b"tokensafe: hint:" in r.stderr
    assert_clean(ts, tenant)


def test_429_waits_for_retry_after(ts, tenant):
    login(ts, tenant)
    tenant.script = ["429"]
    start = time.monotonic()
    r = ts("auth0", "token")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start >= 1.0  # Retry-After: 1
    assert tenant.counts["/oauth/token"] == 2


def test_429_past_the_budget_is_a_network_error(ts, tenant):
    login(ts, tenant)
    tenant.script = ["429"] * 10
    r = ts("auth0", "token")
    assert r.returncode == 8
    assert b"rate limiting" in r.stderr
    assert 2 <= tenant.counts["/oauth/token"] <= 4


def test_5xx_then_success_is_retried(ts, tenant):
    login(ts, tenant)
    tenant.script = ["500", "500"]
    r = ts("auth0", "token")
    assert r.returncode == 0, r.stderr
    assert tenant.counts["/oauth/token"] == 3


def test_5xx_every_time_gives_up(ts, tenant):
    login(ts, tenant)
    tenant.script = ["500"] * 10
    r = ts("auth0", "token")
    assert r.returncode == 8
    assert b"failed 4 times (503 temporarily_unavailable)" in r.stderr
    assert tenant.counts["/oauth/token"] == 4


def test_slow_answer_past_the_timeout(ts, tenant):
    login(ts, tenant)
    expire_token(ts, tenant)
    tenant.script = ["slow"]
    r = ts("run", "--", "true", env={"TOKENSAFE_TOKEN_TIMEOUT": "0.5"})
    assert r.returncode == 8
    assert b"did not answer within 0.5 s" in r.stderr


def test_token_without_exp_uses_expires_in(ts, tenant):
    import json

    login(ts, tenant)
    tenant.script = ["noexp"]
    assert ts("auth0", "token").returncode == 0
    doc = json.loads(ts("status", "--json").stdout)
    assert 86000 < doc["tokens"][0]["expires_in"] <= 86400


def test_still_valid_token_is_used_when_renewal_fails(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    tenant.script = ["401"]
    r = ts("get", "auth0_token", env={"TOKENSAFE_REFRESH_MARGIN": str(86400 * 2)})
    assert r.returncode == 0
    assert r.stdout.decode().strip() == tenant.issued[0]
    assert b"warning: could not renew" in r.stderr
    assert_clean(ts, tenant)


def test_server_echoing_the_secret_is_masked(ts, tenant):
    """A hostile token server puts the client secret into error_description: never shown."""
    login(ts, tenant)
    tenant.script = ["echo"]
    r = ts("auth0", "token")
    assert r.returncode == 3
    assert b"wrong secret ***" in r.stderr
    assert SECRET.encode() not in r.stderr
