"""`tokensafe auth0 login/token`, auto-refresh and status against the HTTPS stand-in tenant.

Every test runs the installed command and ends with the planted-secret check over all output.
"""

from __future__ import annotations

import json
import time

from tests.auth0.conftest import CLIENT_ID, SECRET, assert_clean, login
from vault.demo_tokens import fake_jwt


def expire_token(ts, tenant) -> str:
    """Store an expired JWT as auth0_token (as if fetched a day ago); returns it."""
    old = fake_jwt({"iss": f"https://{tenant.host}/", "exp": int(time.time()) - 60, "jti": "old"})
    r = ts("set", "auth0_token", input=old)
    assert r.returncode == 0, r.stderr
    return old


def test_login_token_summary_never_shows_secrets(ts, tenant):
    login(ts, tenant)
    r = ts("auth0", "token", "--scope", "read:users")
    assert r.returncode == 0, r.stderr
    assert tenant.counts["/oauth/token"] == 1
    assert b"expires in 23h" in r.stderr and b"read:users" in r.stderr
    sent = json.loads(tenant.bodies[-1])
    assert sent == {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
                    "audience": f"https://{tenant.host}/api/v2/", "scope": "read:users"}
    got = ts("get", "auth0_token")
    assert got.stdout.decode().strip() == tenant.issued[-1]
    assert tenant.counts["/oauth/token"] == 1  # fresh: get fetches nothing
    listed = ts("list", "--json")
    assert SECRET.encode() not in listed.stdout
    assert_clean(ts, tenant)


def test_secret_on_argv_is_refused(ts, tenant):
    r = ts("auth0", "login", "--domain", tenant.host, "--client-id", CLIENT_ID, "not-on-argv")
    assert r.returncode == 9
    assert b"argv" in r.stderr


def test_expired_token_renewed_on_get_run_and_send(ts, tenant, tmp_path):
    login(ts, tenant)
    old = expire_token(ts, tenant)
    r = ts("run", "--", "sh", "-c", 'test "$AUTH0_TOKEN" != "$OLD"', env={"OLD": old})
    assert r.returncode == 0, r.stderr
    assert tenant.counts["/oauth/token"] == 1
    new = tenant.issued[-1]
    assert ts("get", "auth0_token").stdout.decode().strip() == new
    # A token within the margin is renewed too; outside it, not.
    r = ts("get", "auth0_token", env={"TOKENSAFE_REFRESH_MARGIN": str(86400 * 2)})
    assert tenant.counts["/oauth/token"] == 2
    assert r.stdout.decode().strip() == tenant.issued[-1]
    # `get` of another entry fetches nothing, even when the token is stale.
    expire_token(ts, tenant)
    assert ts("get", "auth0_domain").returncode == 0
    assert tenant.counts["/oauth/token"] == 2
    # send: the expired token is renewed before the request goes out.
    col = tmp_path / "c.json"
    col.write_text(json.dumps({
        "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "users", "request": {
            "method": "GET", "url": "https://{{auth0_domain}}/api/v2/users",
            "header": [{"key": "Authorization", "value": "Bearer {{auth0_token}}"}]}}]}))
    r = ts("send", str(col), "--fail")
    assert r.returncode == 0, r.stderr
    assert tenant.counts["/oauth/token"] == 3
    assert tenant.seen_auth[-1] == f"Bearer {tenant.issued[-1]}"
    assert_clean(ts, tenant)


def test_inject_export_request_renew(ts, tenant):
    login(ts, tenant)
    for n, cmd in enumerate((["inject"], ["export", "--format", "json"],
                             ["request", "GET", "https://{{auth0_domain}}/api/v2/users",
                              "-H", "Authorization: Bearer {{auth0_token}}", "--fail"]), start=1):
        expire_token(ts, tenant)
        r = ts(*cmd, input="{{auth0_token}}" if cmd[0] == "inject" else None)
        assert r.returncode == 0, (cmd, r.stderr)
        assert tenant.counts["/oauth/token"] == n
        if cmd[0] != "request":
            assert tenant.issued[-1].encode() in r.stdout
    assert_clean(ts, tenant)


def test_eight_parallel_runs_fetch_once(ts, tenant):
    import shutil
    import subprocess

    login(ts, tenant)
    expire_token(ts, tenant)
    exe = shutil.which("tokensafe")
    procs = [subprocess.Popen([exe, "run", "--no-mask", "--", "sh", "-c", 'printf %s "$AUTH0_TOKEN"'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ts.env, cwd=ts.cwd,
                              stdin=subprocess.DEVNULL) for _ in range(8)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert tenant.counts["/oauth/token"] == 1
    assert [code for _, _, code in results] == [0] * 8, [e for _, e, _ in results]
    assert {out for out, _, _ in results} == {tenant.issued[0].encode()}
    for _, err, _ in results:
        assert SECRET.encode() not in err and tenant.issued[0].encode() not in err


def test_status_lists_tokens_and_exits_1_for_a_dead_one(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    r = ts("status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    tok = doc["tokens"][0]
    assert tok["name"] == "auth0_token" and tok["renewable"] and not tok["expired"]
    assert tok["issuer"] == f"https://{tenant.host}/" and "read:users" in tok["scopes"]
    assert 86000 < tok["expires_in"] <= 86400
    # A pasted token that expired and that nothing can renew: exit 1, named.
    dead = fake_jwt({"iss": "https://other.example/", "exp": int(time.time()) - 10, "scope": "x"})
    assert ts("set", "pasted_token", input=dead).returncode == 0
    r = ts("status")
    assert r.returncode == 1
    assert b"dev/pasted_token" in r.stderr and b"EXPIRED" in r.stdout and b"renews itself" in r.stdout
    assert dead.encode() not in r.stdout + r.stderr
    assert_clean(ts, tenant)


def test_status_without_credentials_an_expired_auth0_token_is_dead(ts, tenant):
    expire_token(ts, tenant)
    r = ts("status", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["expired_not_renewable"] == 1
