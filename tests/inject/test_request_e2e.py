"""`tokensafe request` against a real server on 127.0.0.1: the server gets the token, the
user never sees it, and a host that is not allowed never gets a connection."""

from __future__ import annotations

import json

import pytest

from .conftest import PLANTED, make_vault

pytestmark = pytest.mark.e2e
AUTH = "Authorization: Bearer {{auth0_token}}"


def test_request_sends_token_and_masks_the_echo(ts, server) -> None:
    r = ts("request", "GET", "http://{{auth0_domain}}/api/v2/users?q={{client_id}}", "-H", AUTH, "-i")
    assert r.returncode == 0, r.stderr
    assert server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    assert server.seen[-1].path == "/api/v2/users?q=abcdefghij0123456789"
    out = r.stdout.decode()
    assert out.startswith("HTTP/1.1 200 OK\n")
    body = json.loads(out.split("\n\n", 1)[1])
    assert body["authorization"] == "Bearer <redacted:auth0_token>"
    ts.assert_no_leak(PLANTED)


def test_body_from_stdin_with_templates(ts, server) -> None:
    r = ts("request", "POST", "http://{{auth0_domain}}/oauth/token", "-H", AUTH, "-d", "@-",
           input='{"client_secret": "{{auth0_token}}", "grant_type": "client_credentials"}')
    assert r.returncode == 0, r.stderr
    seen = server.seen[-1]
    assert json.loads(seen.body)["client_secret"] == PLANTED
    assert seen.headers["Content-Type"] == "application/json"
    assert PLANTED.encode() not in r.stdout
    ts.assert_no_leak(PLANTED)


def test_dry_run_sends_nothing_and_masks(ts, server) -> None:
    r = ts("request", "POST", "http://{{auth0_domain}}/x", "-H", AUTH, "-d", "t={{auth0_token}}", "--dry-run")
    assert r.returncode == 0
    assert server.seen == []
    assert b"Authorization: Bearer <redacted:auth0_token>" in r.stdout
    assert b"t=<redacted:auth0_token>" in r.stdout
    ts.assert_no_leak(PLANTED)


def test_host_not_allowed_never_reaches_any_server(ts, server, other_server) -> None:
    for url in (f"{other_server.url}/api/v2/users", "http://localhost:1/x",
                "http://{{auth0_domain}}.evil.test/x"):
        r = ts("request", "GET", url, "-H", AUTH)
        # `127.0.0.1:PORT.evil.test` is a port no parser accepts: a usage error, nothing sent.
        assert r.returncode in (2, 9), url
        assert b"refusing to send '" in r.stderr or b"not a valid URL (Invalid port)" in r.stderr
    assert server.seen == [] and other_server.seen == []
    ts.assert_no_leak(PLANTED)


def test_unbound_entries_refused_then_allowed_loudly(ts, server) -> None:
    url = f"{server.url}/x"
    r = ts("request", "GET", url, "-H", "X-Key: {{api_token}}", "--env", "loose")
    assert r.returncode == 9 and b"bound to no host" in r.stderr and server.seen == []
    r = ts("request", "GET", url, "-H", "X-Key: {{api_token}}", "--env", "loose", "--allow-unbound")
    assert r.returncode == 0
    assert b"warning: --allow-unbound: sending 'api_token'" in r.stderr
    assert server.seen[-1].headers["X-Key"] == PLANTED
    ts.assert_no_leak(PLANTED)


def test_explicit_allowed_hosts(session, server, other_server) -> None:
    session.env["NO_PROXY"] = "*"
    make_vault(session, {"dev": {"auth0_domain": server.host,
                                 "tok": (PLANTED, [f"http://{other_server.host}"])}}, "dev")
    ok = session("request", "GET", f"{other_server.url}/a", "-H", "X: {{tok}}")
    bad = session("request", "GET", f"{server.url}/a", "-H", "X: {{tok}}")
    assert ok.returncode == 0 and bad.returncode == 9
    assert len(other_server.seen) == 1 and server.seen == []
    session.assert_no_leak(PLANTED)


def test_unknown_variable_writes_nothing(ts, server) -> None:
    r = ts("request", "GET", "http://{{auth0_domain}}/{{nope}}")
    assert r.returncode == 4 and b"nope" in r.stderr and server.seen == []


def test_fail_flag_and_status(ts, server) -> None:
    r = ts("request", "GET", "http://{{auth0_domain}}/status/404", "-H", AUTH, "--fail")
    assert r.returncode == 10
    r = ts("request", "GET", "http://{{auth0_domain}}/status/404", "-H", AUTH)
    assert r.returncode == 0


def test_https_with_a_test_ca(session, https_server, tls) -> None:
    session.env["NO_PROXY"] = "*"
    make_vault(session, {"dev": {"auth0_domain": https_server.host, "auth0_token": PLANTED}}, "dev")
    bad = session("request", "GET", "https://{{auth0_domain}}/v", "-H", AUTH)
    assert bad.returncode == 8 and b"is not trusted" in bad.stderr  # unknown CA: refused
    assert https_server.seen == []
    session.env["SSL_CERT_FILE"] = str(tls[0])
    ok = session("request", "GET", "https://{{auth0_domain}}/v", "-H", AUTH)
    assert ok.returncode == 0, ok.stderr
    assert https_server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    session.assert_no_leak(PLANTED)


def test_inject_and_export_refuse_a_terminal_without_reveal(ts) -> None:
    import os
    import pty
    import shutil
    import subprocess

    for args in (["inject"], ["export"]):
        master, slave = pty.openpty()
        p = subprocess.run([shutil.which("tokensafe"), *args], stdin=subprocess.DEVNULL,
                           stdout=slave, stderr=subprocess.PIPE, env=ts.env, timeout=30)
        os.close(slave)
        os.close(master)
        assert p.returncode == 9 and b"terminal" in p.stderr


def test_inject_file_output_is_private_and_atomic(ts, tmp_path) -> None:
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    src = tmp_path / "t.tmpl"
    src.write_text("token={{auth0_token}}\nid={{$guid}}\n")
    dst = tmp_path / "out.cfg"
    ts.allowed_files.add(dst.resolve())  # the file the user named
    r = ts("inject", "-i", str(src), "-o", str(dst))
    assert r.returncode == 0 and r.stdout == b""
    assert dst.read_text() == f"token={PLANTED}\nid={{{{$guid}}}}\n"
    assert dst.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.cfg", "t.tmpl"]
    r = ts("inject", input="{{nope}} {{auth0_token}}")
    assert r.returncode == 4 and r.stdout == b""
    r = ts("inject", "--keep-unknown", input="{{nope}} {{auth0_token}}")
    assert r.stdout == f"{{{{nope}}}} {PLANTED}".encode()
    ts.assert_no_leak(PLANTED)


def test_json_pretty_printed_on_a_terminal_and_masked(ts, server) -> None:
    import os
    import pty
    import shutil
    import subprocess

    master, slave = pty.openpty()
    p = subprocess.Popen([shutil.which("tokensafe"), "request", "GET", "http://{{auth0_domain}}/x",
                          "-H", AUTH], stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                         env=ts.env)
    os.close(slave)
    buf = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    p.wait(timeout=30)
    os.close(master)
    assert p.returncode == 0
    assert b'\r\n  "authorization": "Bearer <redacted:auth0_token>",' in buf, buf
    assert PLANTED.encode() not in buf
