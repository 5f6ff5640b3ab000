"""The remotes' own credentials live in a reserved environment (`_remotes`): `env` and
`list --all` neither show it nor let it be used, created or removed; `remote` manages it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PLANTED

pytestmark = pytest.mark.e2e


def test_the_remotes_environment_is_not_a_user_environment(session) -> None:
    assert session("init").returncode == 0
    r = session("remote", "add", "team", "--url", "http://127.0.0.1:1", input=PLANTED + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(session("env", "list", "--json").stdout)["environments"] == [
        {"name": "default", "entries": 0}]
    assert b"_remotes" not in session("env", "list").stdout
    assert b"_remotes" not in session("list", "--all").stdout
    for args in (["env", "use", "_remotes"], ["env", "create", "_remotes"], ["env", "rm", "--force", "_remotes"]):
        r = session(*args)
        assert r.returncode == 2 and b"tokensafe's own" in r.stderr, (args, r.stderr)
    # removing the current (only user) environment never makes _remotes current
    assert session("env", "create", "dev").returncode == 0
    assert session("env", "rm", "default").returncode == 0
    assert json.loads(session("env", "list", "--json").stdout)["current"] == "dev"
    assert b"team" in session("remote", "list").stdout
    session.assert_no_leak(PLANTED)
