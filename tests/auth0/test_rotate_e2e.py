"""`auth0 rotate-secret` and `auth0 revoke-token` against the stand-in's management endpoints."""

from __future__ import annotations

from tests.auth0.conftest import CLIENT_ID, SECRET, assert_clean, login


def test_rotate_secret_stores_new_secret_and_fetches_token(ts, tenant):
    login(ts, tenant, "--audience", "https://api.example.com/")  # stored token is not a mgmt token
    assert ts("auth0", "token").returncode == 0
    r = ts("auth0", "rotate-secret")
    assert r.returncode == 0, r.stderr
    new = tenant.client_secret
    assert new != SECRET
    assert tenant.counts[f"/api/v2/clients/{CLIENT_ID}/rotate-secret"] == 1
    # one token for `token`, one management token, one with the new secret
    assert tenant.counts["/oauth/token"] == 3
    assert ts("get", "auth0_client_secret").stdout.decode().strip() == new
    assert b"update every other place" in r.stderr
    assert b"Fetched a new auth0_token" in r.stderr
    ts.assert_no_leak(new, allow_stdout_of=("get",))
    assert_clean(ts, tenant)


def test_rotate_uses_stored_management_token(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    assert ts("auth0", "rotate-secret").returncode == 0
    assert tenant.counts["/oauth/token"] == 2  # no extra management token


def test_rotate_refused_by_api_is_auth_status(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    tenant.issued.clear()  # the stand-in no longer accepts the stored token
    r = ts("auth0", "rotate-secret")
    assert r.returncode == 3
    assert b"refused the call (401 Unauthorized: Invalid token)" in r.stderr
    assert ts("get", "auth0_client_secret").stdout.decode().strip() == SECRET  # unchanged


def test_revoke_by_jti_and_by_entry(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    r = ts("auth0", "revoke-token", "--jti", "abc123")
    assert r.returncode == 0, r.stderr
    assert tenant.revoked[-1] == {"jti": "abc123"}
    leaked = tenant.token(aud="https://api.example.com/")
    assert ts("set", "leaked_token", input=leaked).returncode == 0
    r = ts("auth0", "revoke-token", "--entry", "leaked_token")
    assert r.returncode == 0, r.stderr
    assert tenant.revoked[-1]["aud"] == "https://api.example.com/"
    assert len(tenant.revoked[-1]["jti"]) == 16
    assert ts("auth0", "revoke-token").returncode == 2
    assert_clean(ts, tenant)
    ts.assert_no_leak(leaked)


def test_commands_without_credentials_say_how(ts, tenant):
    for args in (["auth0", "token"], ["auth0", "rotate-secret"], ["auth0", "revoke-token", "--jti", "x"]):
        r = ts(*args)
        assert r.returncode == 4
        assert b"tokensafe auth0 login" in r.stderr
