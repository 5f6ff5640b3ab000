"""`tokensafe send` of Postman collections against real servers on 127.0.0.1, and real
newman fed by `tokensafe export --format postman` on stdin."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from .conftest import DATA, PLANTED, make_vault

pytestmark = pytest.mark.e2e
MGMT = str(DATA / "auth0-management.postman_collection.json")
AUTHN = str(DATA / "auth0-authentication.postman_collection.json")
SINK = str(DATA / "kitchen-sink.v2.0.postman_collection.json")
PATHS = str(DATA / "auth0-path-variables.postman_collection.json")


@pytest.fixture
def tls_ts(session, https_server, tls):
    """An Auth0-shaped vault whose domain is an HTTPS server trusted through a test CA."""
    session.env["NO_PROXY"] = "*"
    session.env["SSL_CERT_FILE"] = str(tls[0])
    make_vault(session, {"dev": {"auth0_domain": https_server.host, "auth0_token": PLANTED,
                                 "client_id": "cid-0123456789", "client_secret": "cs-" + PLANTED[::-1]}},
               "dev")
    return session


def test_send_the_management_collection_over_https(tls_ts, https_server) -> None:
    r = tls_ts("send", MGMT, "--var", "id=auth0|42")
    assert r.returncode == 0, r.stderr
    paths = [s.path for s in https_server.seen]
    assert paths == ["/api/v2/users?per_page=10&search_engine=v3", "/api/v2/users/auth0%7C42",
                     "/api/v2/users/auth0%7C42", "/api/v2/stats/active-users"]
    assert all(s.headers["Authorization"] == f"Bearer {PLANTED}" for s in https_server.seen)
    assert [s.method for s in https_server.seen] == ["GET", "GET", "PATCH", "GET"]
    err = r.stderr.decode()
    assert err.count("scripts") == 1 and "not execute" in err
    assert "Users/Get a user: GET https://" in err and "→ 200 OK" in err
    assert r.stdout.count(b'"authorization": "Bearer <redacted:auth0_token>"') == 4
    tls_ts.assert_no_leak(PLANTED)


def test_send_one_item_and_a_folder(tls_ts, https_server) -> None:
    assert tls_ts("send", MGMT, "Users/Get users").returncode == 0
    assert len(https_server.seen) == 1
    assert tls_ts("send", MGMT, "Stats").returncode == 0
    assert https_server.seen[-1].path == "/api/v2/stats/active-users"
    r = tls_ts("send", MGMT, "Nope")
    assert r.returncode == 4 and len(https_server.seen) == 2


def test_send_the_authentication_collection(tls_ts, https_server) -> None:
    r = tls_ts("send", AUTHN)
    assert r.returncode == 0, r.stderr
    body = urllib.parse.parse_qs(https_server.seen[0].body.decode(), keep_blank_values=True)
    assert body["client_secret"] == ["cs-" + PLANTED[::-1]] and body["audience"] == [""]
    assert "Authorization" not in https_server.seen[0].headers
    assert PLANTED[::-1].encode() not in r.stdout
    tls_ts.assert_no_leak(PLANTED)
    tls_ts.assert_no_leak(PLANTED[::-1])


def test_list_and_dry_run(tls_ts, https_server) -> None:
    r = tls_ts("send", MGMT, "--list")
    assert b"        Users/\n" in r.stdout and b"PATCH   Users/Update a user\n" in r.stdout
    r = tls_ts("send", MGMT, "--dry-run", "--var", "id=1")
    assert r.returncode == 0 and https_server.seen == []
    assert r.stdout.count(b"Authorization: Bearer <redacted:auth0_token>") == 4
    tls_ts.assert_no_leak(PLANTED)


def test_a_folder_with_one_refused_request_sends_nothing(session, server, other_server) -> None:
    session.env["NO_PROXY"] = "*"
    make_vault(session, {"dev": {"auth0_domain": server.host, "auth0_token": PLANTED}}, "dev")
    col = {"info": {"name": "mixed"}, "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}"}]},
           "item": [{"name": "ok", "request": {"url": "http://{{auth0_domain}}/ok"}},
                    {"name": "typo", "request": {"url": f"{other_server.url}/typo"}}]}
    path = session.cwd / "mixed.json"
    path.write_text(json.dumps(col))
    r = session("send", str(path))
    assert r.returncode == 9 and b"refusing to send 'auth0_token'" in r.stderr
    assert server.seen == [] and other_server.seen == []
    session.assert_no_leak(PLANTED)


def test_kitchen_sink_v2_0_against_the_server(ts, server) -> None:
    # client_secret is not in this vault: --var provides it (and beats the vault).
    r = ts("send", SINK, "--var", "client_secret=s3cret-from-var")
    assert r.returncode == 0, r.stderr
    seen = {s.path.split("?")[0]: s for s in server.seen}
    assert set(seen) == {"/basic", "/apikey", "/q", "/none", "/graphql", "/upload"}
    assert seen["/apikey"].headers["X-Api-Key"] == PLANTED
    assert b"hello upload" in seen["/upload"].body and b"abcdefghij0123456789" in seen["/upload"].body
    assert PLANTED.encode() not in r.stdout
    ts.assert_no_leak(PLANTED)


NEWMAN_COLLECTION = {
    "info": {"name": "newman via tokensafe export",
             "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}", "type": "string"}]},
    "item": [{
        "name": "Get users",
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
            "pm.test('status 200', () => pm.response.to.have.status(200));",
            "pm.test('token from the environment reached the server', () => {",
            "  pm.expect(pm.response.json().authorization).to.eql('Bearer ' + pm.environment.get('auth0_token'));",
            "});",
            "pm.test('domain resolved', () => pm.expect(pm.response.json().path).to.eql('/api/v2/users'));",
        ]}}],
        "request": {"method": "GET", "url": {"raw": "http://{{auth0_domain}}/api/v2/users",
                                              "protocol": "http", "host": ["{{auth0_domain}}"],
                                              "path": ["api", "v2", "users"]}},
    }],
}


@pytest.mark.newman
def test_real_newman_reads_the_exported_environment_from_stdin(ts, server) -> None:
    newman = shutil.which("newman")
    if newman is None:
        pytest.skip("newman is not installed (.ci/run installs it)")
    col = ts.cwd / "c.json"
    col.write_text(json.dumps(NEWMAN_COLLECTION))
    exe = shutil.which("tokensafe")
    exp = subprocess.Popen([exe, "export", "--format", "postman"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=ts.env)
    nm = subprocess.run([newman, "run", str(col), "-e", "/dev/stdin", "--color", "off", "--disable-unicode"],
                        stdin=exp.stdout, capture_output=True, env=ts.env, cwd=ts.cwd, timeout=120)
    exp.stdout.close()
    exp_err = exp.stderr.read()
    exp.wait(timeout=30)
    assert exp.returncode == 0, exp_err
    assert nm.returncode == 0, nm.stdout.decode()[-3000:]
    out = nm.stdout.decode()
    # newman's summary table: "│ assertions │ 3 │ 0 │" (executed, failed)
    row = next(line for line in out.splitlines() if "assertions" in line)
    assert [c.strip() for c in row.split("|") if c.strip()][1:] == ["3", "0"], out
    assert server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    assert PLANTED.encode() not in nm.stdout + nm.stderr + exp_err
    assert not list(ts.cwd.rglob("*.postman_environment.json"))  # nothing written to disk


@pytest.mark.parametrize("name", ["example-v2.1.0-apikeyAuthTest.json", "example-v2.1.0-bearerAuthTest.json",
                                  "example-v2.1.0-formdata-body.json"])
def test_shared_fixture_collections_list_and_dry_run(ts, name) -> None:
    from .conftest import FIXTURES

    path = str(FIXTURES / name)
    r = ts("send", path, "--list")
    assert r.returncode == 0 and r.stdout.count(b"\n") >= 2
    r = ts("send", path, "--dry-run")  # dry run only: these point at postman-echo.com
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"# ")
    assert b"postman-echo.com" in r.stdout or b"echo.getpostman.com" in r.stdout
    env_file = str(FIXTURES / "newman-globals-env-data-files.postman_environment.json")
    r = ts("send", env_file, "--list")
    assert r.returncode == 2 and b"environment, not a collection" in r.stderr


# --- path variables and addresses ------------------------------------------------------------

def test_a_path_variable_without_a_value_is_refused_and_nothing_is_sent(tls_ts, https_server) -> None:
    r = tls_ts("send", PATHS, "Clients/Delete a client")
    assert r.returncode == 2 and https_server.seen == []
    err = r.stderr.decode()
    assert "tokensafe: error: Clients/Delete a client: no value for path variable(s) :id\n" in err
    assert "tokensafe: hint: give a value with --var id=VALUE; --keep-path-vars" in err
    # A whole run: every request is checked first, each offender is named, nothing goes out.
    r = tls_ts("send", PATHS)
    assert r.returncode == 2 and https_server.seen == []
    err = r.stderr.decode()
    assert ("3 requests have path variables without a value: Clients/Delete a client (:id), "
            "Users/Remove roles from a user (:id), Users/Unlink a user identity (:id :user_id)") in err
    assert "--var id=VALUE --var user_id=VALUE" in err
    tls_ts.assert_no_leak(PLANTED)


def test_path_variables_given_or_kept_literally(tls_ts, https_server) -> None:
    r = tls_ts("send", PATHS, "Clients/Delete a client", "--var", "id=cid-9")
    assert r.returncode == 0, r.stderr
    r = tls_ts("send", PATHS, "Clients/Delete a client", "Users/Unlink a user identity", "--keep-path-vars")
    assert r.returncode == 0, r.stderr
    assert [(s.method, s.path) for s in https_server.seen] == [
        ("DELETE", "/api/v2/clients/cid-9"), ("DELETE", "/api/v2/clients/:id"),
        ("DELETE", "/api/v2/users/:id/identities/google-oauth2/:user_id")]
    tls_ts.assert_no_leak(PLANTED)


def test_addressed_with_the_escape_by_id_and_ambiguous(tls_ts, https_server) -> None:
    r = tls_ts("send", PATHS, "--list")
    assert b"POST    Database/Signup using a username\\/password  id:0c2b6f3e-3333-4000-8000-000000000001" in r.stdout
    r = tls_ts("send", PATHS, "Database/Signup using a username\\/password")
    assert r.returncode == 0, r.stderr
    assert (https_server.seen[-1].method, https_server.seen[-1].path) == ("POST", "/dbconnections/signup")
    assert "Authorization" not in https_server.seen[-1].headers  # the folder says noauth
    r = tls_ts("send", PATHS, "id:0c2b6f3e-3333-4000-8000-000000000002")
    assert r.returncode == 0 and https_server.seen[-1].path == "/dbconnections/change_password"
    r = tls_ts("send", PATHS, "Logs \\\\ exports/Ping")
    assert r.returncode == 2 and len(https_server.seen) == 2
    err = r.stderr.decode()
    assert "'Logs \\\\\\\\ exports/Ping' fits 2 items" in err
    assert "id:0c2b6f3e-4444-4000-8000-000000000001" in err and "id:0c2b6f3e-4444-4000-8000-000000000002" in err
    r = tls_ts("send", PATHS, "id:0c2b6f3e-4444-4000-8000-000000000002")
    assert r.returncode == 0 and https_server.seen[-1].path == "/api/v2/logs?page=2"
    r = tls_ts("send", PATHS, "Database/Nope")
    assert r.returncode == 4 and b"write a / inside a name as \\/" in r.stderr
    tls_ts.assert_no_leak(PLANTED)


def _given_path_variables(src: str, dest) -> None:
    """The collection with a value for every path variable that has none, so that newman (which
    takes path variables only from the collection) and `send` get the same input."""
    doc = json.loads(Path(src).read_text(encoding="utf-8"))

    def fill(items: list) -> None:
        for it in items:
            fill(it.get("item") or [])
            url = (it.get("request") or {}).get("url")
            for v in url.get("variable") or [] if isinstance(url, dict) else []:
                if not v.get("value"):
                    v["value"] = f"given-{v['key']}"
    fill(doc["item"])
    dest.write_text(json.dumps(doc))


@pytest.mark.newman
@pytest.mark.parametrize(("src", "flags"), [(MGMT, ()), (AUTHN, ()), (PATHS, ()), (PATHS, ("--keep-path-vars",))],
                         ids=["management", "authentication", "path-variables", "path-variables-kept"])
def test_send_and_newman_put_the_same_request_lines_on_the_wire(tls_ts, https_server, tls, src, flags) -> None:
    """Path variables given in the collection; or, with --keep-path-vars, left without a
    value, which newman sends as `:name`."""
    newman = shutil.which("newman")
    if newman is None:
        pytest.skip("newman is not installed (.ci/run installs it)")
    col = tls_ts.cwd / "c.json"
    if flags:
        col.write_bytes(Path(src).read_bytes())
    else:
        _given_path_variables(src, col)
    exe = shutil.which("tokensafe")
    exp = subprocess.Popen([exe, "export", "--format", "postman"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=tls_ts.env)
    nm = subprocess.run([newman, "run", str(col), "-e", "/dev/stdin", "--ssl-extra-ca-certs", str(tls[0]),
                         "--color", "off", "--disable-unicode"],
                        stdin=exp.stdout, capture_output=True, env=tls_ts.env, cwd=tls_ts.cwd, timeout=120)
    exp.stdout.close()
    exp.wait(timeout=30)
    assert exp.returncode == 0 and nm.returncode == 0, nm.stdout.decode()[-3000:]
    by_newman = [(s.method, s.path) for s in https_server.seen]
    https_server.seen.clear()
    r = tls_ts("send", str(col), *flags)
    assert r.returncode == 0, r.stderr
    by_send = [(s.method, s.path) for s in https_server.seen]
    assert len(by_send) == len(by_newman) == len(list(col_requests(col)))
    # newman leaves "|" raw in a path (the WHATWG URL rules); httpx sends it as %7C (RFC 3986).
    # The server decodes both to the same target; every other byte of the line is the same.
    assert [(m, p.replace("%7C", "|")) for m, p in by_send] == by_newman
    assert any(":id" in p for _, p in by_send) == bool(flags)
    assert PLANTED.encode() not in nm.stdout + nm.stderr
    tls_ts.assert_no_leak(PLANTED)


def col_requests(path):
    from vault.formats.collection import load

    return load(path).root.requests()
