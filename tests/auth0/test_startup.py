"""`get` and `run` with client credentials stored decide on metadata alone: no httpx, no grant
code, unless a token must actually be fetched."""

from __future__ import annotations

import subprocess
import sys

from tests.auth0.conftest import login
from tests.auth0.test_auth0_e2e import expire_token

PROBE = ("import sys; from vault.cli import run; rc = run({args!r}); "
         "sys.stderr.write(' '.join(m for m in ('httpx', 'vault.inject.oauth', 'vault.service.auth0') "
         "if m in sys.modules) or 'LIGHT'); sys.exit(rc)")


def _probe(ts, args: list[str]) -> bytes:
    r = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, env=ts.env,
                       cwd=ts.cwd, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return r.stderr


def test_valid_token_costs_no_heavy_import(ts, tenant):
    login(ts, tenant)
    assert ts("auth0", "token").returncode == 0
    assert _probe(ts, ["get", "auth0_token"]).endswith(b"LIGHT")
    assert _probe(ts, ["run", "--", "true"]).endswith(b"LIGHT")
    assert tenant.counts["/oauth/token"] == 1


def test_expired_token_loads_the_grant(ts, tenant):
    login(ts, tenant)
    expire_token(ts, tenant)
    assert b"httpx" in _probe(ts, ["run", "--", "true"])
    assert tenant.counts["/oauth/token"] == 1
