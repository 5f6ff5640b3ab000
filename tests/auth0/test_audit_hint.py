"""`audit` names revoke-token and rotate-secret under a live Auth0 token, not under an expired one."""

from __future__ import annotations

import json
import time

from vault.demo_tokens import auth0_mgmt_jwt


def _env_file(path, token: str) -> None:
    path.write_text(json.dumps({"name": "staging", "_postman_variable_scope": "environment",
                                "values": [{"key": "auth0_token", "value": token, "type": "secret",
                                            "enabled": True}]}))


def test_live_token_finding_names_the_auth0_commands(session, tmp_path):
    live = auth0_mgmt_jwt("demo-tenant.eu.auth0.com")
    _env_file(tmp_path / "live.postman_environment.json", live)
    r = session("audit", str(tmp_path / "live.postman_environment.json"))
    assert r.returncode == 1
    assert b"tokensafe auth0 revoke-token --entry NAME" in r.stderr
    assert b"tokensafe auth0 rotate-secret" in r.stderr
    session.assert_no_leak(live)


def test_expired_token_finding_has_no_such_hint(session, tmp_path):
    dead = auth0_mgmt_jwt("demo-tenant.eu.auth0.com", exp=time.time() - 100)
    _env_file(tmp_path / "dead.postman_environment.json", dead)
    r = session("audit", str(tmp_path / "dead.postman_environment.json"))
    assert b"revoke-token" not in r.stderr
