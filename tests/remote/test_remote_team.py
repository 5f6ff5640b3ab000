"""Two people share an environment through a real OpenBao dev server, with the installed command.

Each person has their own HOME and vault. Every output of both sessions, and every file
under both HOMEs, is searched for the planted secret and the planted token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import (
    NO_KEYRING,
    PASSPHRASE,
    PLANTED,
    Session,
    create_passphrase_vault,
    files_containing,
)
from tests.inject.conftest import Recorder
from tests.remote.bao import dev_server, free_port

pytestmark = pytest.mark.e2e

DOMAIN = "tenant.example.auth0.com"


def person(root: Path, name: str) -> Session:
    home = root / name
    for sub in ("", ".local/share", ".config", ".cache", "run"):
        (home / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TOKENSAFE_", "BAO_", "VAULT_"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_RUNTIME_DIR=str(home / "run"),
               TOKENSAFE_VAULT=str(home / "vaultdir" / "vault.tokensafe"),
               TOKENSAFE_PASSPHRASE=PASSPHRASE, PYTHON_KEYRING_BACKEND=NO_KEYRING,
               TOKENSAFE_REMOTE_TIMEOUT="5")
    create_passphrase_vault(home / "vaultdir" / "vault.tokensafe", "dev")  # cheap KDF: fast commands
    return Session(env, home)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, (r.returncode, r.stderr.decode())
    return r


@pytest.fixture
def team(bao_dev, tmp_path: Path):
    """Ana (writer, own token stored in her vault) and Ben (a read-only token in BAO_TOKEN)."""
    c = bao_dev.client()
    path = f"teams/{uuid.uuid4().hex[:8]}"
    c.sys.create_or_update_policy(f"ro-{path[6:]}", f'''
        path "secret/data/{path}/*" {{ capabilities = ["read"] }}
        path "secret/metadata/{path}/*" {{ capabilities = ["read", "list"] }}''')
    token = "tsPLANTED-baotoken-" + uuid.uuid4().hex  # Ana's token: must leak nowhere either
    c.auth.token.create(id=token, policies=["root"], ttl="1h")
    ro = c.auth.token.create(policies=[f"ro-{path[6:]}"], ttl="1h")["auth"]["client_token"]
    ana, ben = person(tmp_path, "ana"), person(tmp_path, "ben")
    ok(ana("remote", "add", "team", "--url", bao_dev.url, "--path", path, input=token + "\n"))
    ok(ben("remote", "add", "team", "--url", bao_dev.url, "--path", path, "--auth", "env"))
    yield ana, ben, path, ro, token
    for s in (ana, ben):
        for secret in (PLANTED, token):
            s.assert_no_leak(secret, allow_stdout_of=("get", "inject", "export"))
            assert not files_containing(s.cwd, secret.encode()), "plaintext on disk"


def test_one_pushes_the_other_pulls_and_runs(team, bao_dev) -> None:
    ana, ben, path, ro, _ = team
    ok(ana("set", "auth0_domain", input=DOMAIN))
    ok(ana("set", "auth0_token", "--allow-host", DOMAIN, input=PLANTED))
    r = ok(ana("push", "dev", "--remote", "team"))
    assert b"added auth0_domain, auth0_token" in r.stderr and b"version 1" in r.stderr
    # What the server holds is readable with bao's own CLI, values as plain fields.
    shown = bao_dev.bao("kv", "get", "-format=json", f"secret/{path}/dev")
    assert shown.returncode == 0 and json.loads(shown.stdout)["data"]["data"]["auth0_domain"] == DOMAIN

    env = {"BAO_TOKEN": ro}
    ok(ben("pull", "dev", "--remote", "team", env=env))
    listing = json.loads(ok(ben("list", "--env", "dev", "--json")).stdout)
    token = next(e for e in listing["environments"][0]["entries"] if e["name"] == "auth0_token")
    assert token["allowed_hosts"] == [DOMAIN] and token["kind"] == "token"  # hosts and kinds travel
    probe = "import os,sys; sys.exit(0 if os.environ['AUTH0_TOKEN'] == sys.argv[1][::-1] else 5)"
    ok(ben("run", "--env", "dev", "--", sys.executable, "-c", probe, PLANTED[::-1]))
    # --remote reads straight from the server, nothing stored locally
    assert ok(ben("get", "--remote", "team", "--env", "dev", "auth0_token", env=env)).stdout.decode() == PLANTED + "\n"
    ok(ben("run", "--remote", "team", "--env", "dev", "--", sys.executable, "-c", probe, PLANTED[::-1], env=env))
    out = ok(ben("export", "--remote", "team", "--env", "dev", "--format", "dotenv", env=env)).stdout.decode()
    assert f"AUTH0_DOMAIN={DOMAIN}" in out
    listed = ok(ben("list", "--remote", "team", "--env", "dev", env=env)).stdout.decode()
    assert "auth0_token" in listed and DOMAIN in listed


def test_a_read_only_token_can_read_but_not_push(team) -> None:
    ana, ben, path, ro, _ = team
    ok(ana("set", "auth0_token", input=PLANTED))
    ok(ana("push", "dev", "--remote", "team"))
    env = {"BAO_TOKEN": ro}
    ok(ben("pull", "dev", "--remote", "team", env=env))
    ok(ben("set", "extra", input="more"))
    r = ben("push", "dev", "--remote", "team", env=env)
    err = r.stderr.decode()
    assert r.returncode == 3, err
    assert "permission denied" in err and "'update' capability" in err and f"secret/data/{path}/dev" in err


def test_a_concurrent_change_is_shown_by_name_and_never_overwritten(team) -> None:
    ana, ben, path, _, token = team
    ok(ana("set", "auth0_token", input=PLANTED))
    ok(ana("push", "dev", "--remote", "team"))
    env = {"BAO_TOKEN": token}  # Ben may write too, here
    ok(ben("pull", "dev", "--remote", "team", env=env))
    ok(ana("set", "auth0_domain", input=DOMAIN))
    ok(ana("push", "dev", "--remote", "team"))  # v2
    ok(ben("set", "client_id", input="ben-client-id"))
    r = ben("push", "dev", "--remote", "team", env=env)
    err = r.stderr.decode()
    assert r.returncode == 6, err
    assert "version 2" in err and "added auth0_domain" in err and "your push would" in err and "--force" in err
    assert DOMAIN not in err  # names only, never values
    # pulling now would drop Ben's unpushed entry: refused too
    r = ben("pull", "dev", "--remote", "team", env=env)
    assert r.returncode == 6 and b"added client_id" in r.stderr
    r = ok(ben("push", "dev", "--remote", "team", "--force", env=env))
    assert b"replaced version 2" in r.stderr and b"added auth0_domain" in r.stderr
    hist = ok(ana("remote", "history", "dev", "--remote", "team", "--json")).stdout
    assert [v["version"] for v in json.loads(hist)] == [3, 2, 1]
    assert PLANTED.encode() not in hist


def test_failures_map_to_exit_statuses(team, tmp_path: Path) -> None:
    ana, ben, path, _, token = team
    r = ana("get", "--remote", "team", "--env", "nope", "auth0_token")
    assert r.returncode == 4 and b"no environment 'nope' on remote 'team'" in r.stderr
    r = ben("get", "--remote", "team", "--env", "dev", "x")
    assert r.returncode == 3 and b"BAO_TOKEN" in r.stderr  # no credentials at all
    r = ben("get", "--remote", "team", "--env", "dev", "x", env={"BAO_TOKEN": "bogus-token"})
    assert r.returncode == 3 and b"permission denied" in r.stderr
    # a server that is down: the network status, within the timeout
    ok(ana("remote", "add", "gone", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "1", input="t\n"))
    started = time.monotonic()
    r = ana("get", "--remote", "gone", "x", env={"TOKENSAFE_REMOTE_TIMEOUT": "1"})
    assert r.returncode == 8 and b"connection refused" in r.stderr, r.stderr
    assert time.monotonic() - started < 5
    # a sealed server: the network status too
    with dev_server(tmp_path / "sealed") as other:
        assert other.bao("operator", "seal").returncode == 0
        ok(ana("remote", "add", "sealed", "--url", other.url, input="root\n"))
        started = time.monotonic()
        r = ana("get", "--remote", "sealed", "x", env={"TOKENSAFE_REMOTE_TIMEOUT": "1"})
        assert r.returncode == 8 and b"sealed" in r.stderr, r.stderr
        assert time.monotonic() - started < 5


def test_approle_login(team, bao_dev) -> None:
    ana, ben, path, _, token = team
    c = bao_dev.client()
    if "approle/" not in c.sys.list_auth_methods()["data"]:
        c.sys.enable_auth_method("approle")
    c.auth.approle.create_or_update_approle("ts-" + path[6:], token_policies=[f"ro-{path[6:]}"])
    role_id = c.auth.approle.read_role_id("ts-" + path[6:])["data"]["role_id"]
    secret_id = c.auth.approle.generate_secret_id("ts-" + path[6:])["data"]["secret_id"]
    ok(ana("set", "auth0_token", input=PLANTED))
    ok(ana("push", "dev", "--remote", "team"))
    ok(ben("remote", "add", "team", "--url", bao_dev.url, "--path", path, "--auth", "approle",
           input=f"{role_id}\n{secret_id}\n"))
    assert ok(ben("get", "--remote", "team", "--env", "dev", "auth0_token")).stdout.decode() == PLANTED + "\n"
    listed = ok(ben("remote", "list", "--json")).stdout.decode()
    assert secret_id not in listed and json.loads(listed)[0]["credentials"] == ["role_id", "secret_id"]
    ben.assert_no_leak(secret_id)


def test_host_bindings_travel_and_hold_for_request_inject_and_send(team, server: Recorder,
                                                                   other_server: Recorder) -> None:
    """Ana binds the token to one server; Ben's `request --remote` sends it there and nowhere else."""
    ana, ben, path, ro, _ = team
    # a plain-http test server: the rule names the scheme
    ok(ana("set", "auth0_token", "--allow-host", "http://" + server.host, input=PLANTED))
    ok(ana("push", "dev", "--remote", "team"))
    env = {"BAO_TOKEN": ro}
    auth = "Authorization: Bearer {{auth0_token}}"
    r = ok(ben("request", "--remote", "team", "--env", "dev", "GET", server.url + "/users", "-H", auth, env=env))
    assert server.seen[-1].headers["Authorization"] == "Bearer " + PLANTED
    assert PLANTED.encode() not in r.stdout  # the echoing server's answer is masked
    r = ben("request", "--remote", "team", "--env", "dev", "GET", other_server.url + "/x", "-H", auth, env=env)
    assert r.returncode == 9 and not other_server.seen, r.stderr
    out = ok(ben("inject", "--remote", "team", "--env", "dev", input="t={{auth0_token}}", env=env)).stdout
    assert out == f"t={PLANTED}".encode()


def test_re_adding_a_remote_keeps_its_sync_state_and_rm_forgets_it(team, bao_dev) -> None:
    ana, ben, path, _, token = team
    ok(ana("set", "auth0_token", input=PLANTED))
    ok(ana("push", "dev", "--remote", "team"))
    # a new token for the same place: the next push still knows the version it synced
    ok(ana("remote", "add", "team", "--url", bao_dev.url, "--path", path, input=token + "\n"))
    ok(ana("set", "more", input="m"))
    assert b"version 2" in ok(ana("push", "dev", "--remote", "team")).stderr
    listed = json.loads(ok(ana("remote", "list", "--json")).stdout)
    assert listed[0]["synced"] == {"dev": 2} and listed[0]["credentials"] == ["token"]
    ok(ana("remote", "rm", "team"))
    assert ok(ana("remote", "list")).stdout.startswith(b"(no remotes")
    r = ana("get", "--remote", "team", "auth0_token")
    assert r.returncode == 4 and b"no remote 'team'" in r.stderr
