"""Everyday flows of #14 through the installed command: message, exit status, prompts.

audit on a typo, hosts add/rm after a refused request, export into a file, TLS with
--cacert, backup restore's keyslot warning, help and messages, a domain with a port.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, PLANTED, create_passphrase_vault
from tests.e2e.ptyproc import PtyProc, pty_run
from tests.inject.conftest import Recorder, _serve, make_vault, tls  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

AUTH = "Authorization: Bearer {{auth0_token}}"


@pytest.fixture
def server():
    yield from _serve(None)


@pytest.fixture
def https_server(tls):  # noqa: F811 - the fixture imported above
    yield from _serve(None, tls[1])


@pytest.fixture
def loopback(session):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        session.env.pop(var, None)
    session.env["NO_PROXY"] = "*"
    session.env.pop("SSL_CERT_FILE", None)
    return session


def err(r: subprocess.CompletedProcess) -> str:
    return r.stderr.decode()


# 1. audit ------------------------------------------------------------------------------

def test_audit_typo_is_an_error_and_strict_fails_on_unreadable(session, tmp_path: Path) -> None:
    (tmp_path / "Downloads").mkdir()
    (tmp_path / "Downloads" / "ok.txt").write_text("nothing here\n")
    r = session("audit", "Dowloads")
    assert r.returncode == 4, err(r)
    assert err(r) == ("tokensafe: error: no such file or folder: Dowloads\n"
                      "tokensafe: hint: did you mean Downloads?\n")
    (tmp_path / "Downloads" / "gone.env").symlink_to(tmp_path / "nowhere")
    r = session("audit", "Downloads")
    assert r.returncode == 0 and "skipped" in err(r)  # inside a tree: a warning
    r = session("audit", "--strict", "Downloads")
    assert r.returncode == 7 and "1 file could not be read (--strict)" in err(r)


# 4. hosts --------------------------------------------------------------------------------

def test_refused_host_hint_works_and_keeps_the_tenant(loopback, server: Recorder, other_server) -> None:
    session = loopback
    # plain-http test servers: the domain and the rules name the scheme (https:// only otherwise)
    make_vault(session, {"dev": {"auth0_domain": f"http://{server.host}", "auth0_token": PLANTED}}, "dev")
    r = session("list")
    assert r.returncode == 0 and "auth0_domain's host (implicit)" in r.stdout.decode()
    r = session("request", "GET", f"{other_server.url}/x", "-H", AUTH)
    assert r.returncode == 9, err(r)
    hint = next(line for line in err(r).splitlines() if line.startswith("tokensafe: hint:"))
    suggested = hint.split("`")[1]
    assert suggested == f"tokensafe hosts add auth0_token http://{other_server.host}"
    # Run the hint as printed: no prompt for the value, the tenant stays allowed.
    r = session(*suggested.split()[1:])
    assert r.returncode == 0, err(r)
    assert "that host stays allowed" in err(r)
    for target in (other_server, server):
        r = session("request", "GET", f"{target.url}/x", "-H", AUTH)
        assert r.returncode == 0, err(r)
        assert target.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    r = session("hosts", "list", "auth0_token")
    assert r.stdout.decode().split(None, 1) == ["auth0_token", ", ".join(sorted([f"http://{other_server.host}", f"http://{server.host}"])) + "\n"]
    r = session("hosts", "rm", "auth0_token", f"http://{other_server.host}")
    assert r.returncode == 0 and f"it may go to: http://{server.host}" in err(r)
    assert session("request", "GET", f"{other_server.url}/x", "-H", AUTH).returncode == 9
    assert session("get", "auth0_token").stdout == f"{PLANTED}\n".encode()  # value untouched
    session.assert_no_leak(PLANTED)


@pytest.fixture
def other_server():
    yield from _serve(None)


# 7. export -------------------------------------------------------------------------------

def test_export_into_a_file(session, tmp_path: Path) -> None:
    make_vault(session, {"dev": {"auth0_token": PLANTED}}, "dev")
    target = tmp_path / "x.json"
    exe = shutil.which("tokensafe")
    with open(target, "wb") as fh:  # `tokensafe export --format postman > x.json`
        p = subprocess.run([exe, "export", "--format", "postman"], stdout=fh, stderr=subprocess.PIPE,
                           env=session.env, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)
    session.transcript.append(([exe, "export"], b"", p.stderr))
    assert p.returncode == 9 and target.read_bytes() == b""
    assert "refusing to write secret values into a file through stdout" in p.stderr.decode()
    assert "-o FILE" in p.stderr.decode() and "--force" in p.stderr.decode()
    out = tmp_path / "private.json"
    r = session("export", "--format", "postman", "-o", str(out))
    assert r.returncode == 0 and r.stdout == b"" and out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["values"][0]["value"] == PLANTED
    r = session("export", "--format", "postman")  # a pipe: as before
    assert r.returncode == 0 and PLANTED.encode() in r.stdout
    session.assert_no_leak(PLANTED)


# 8. TLS ----------------------------------------------------------------------------------

def test_tls_error_names_the_host_and_cacert_fixes_it(loopback, https_server, tls) -> None:  # noqa: F811
    session = loopback
    make_vault(session, {"dev": {"auth0_domain": https_server.host, "auth0_token": PLANTED}}, "dev")
    r = session("request", "GET", "https://{{auth0_domain}}/v", "-H", AUTH)
    assert r.returncode == 8
    lines = err(r).splitlines()
    assert lines[0].startswith(f"tokensafe: error: TLS: the certificate of {https_server.host} is not trusted")
    assert "--cacert FILE" in lines[1] and "SSL_CERT_FILE" in lines[1] and len(lines) == 2
    assert https_server.seen == []
    r = session("request", "GET", "https://{{auth0_domain}}/v", "-H", AUTH, "--cacert", str(tls[0]))
    assert r.returncode == 0, err(r)
    assert https_server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    session.assert_no_leak(PLANTED)


def test_max_time_bounds_the_whole_request(loopback, tmp_path: Path) -> None:
    """A server that trickles its answer, a byte every 0.3 s: -m 1 stops it after ~1 s."""
    import socket
    import threading
    import time

    session = loopback
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def trickle() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        try:
            for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100:
                conn.send(bytes([b]))
                time.sleep(0.3)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    make_vault(session, {"dev": {"auth0_domain": f"127.0.0.1:{port}", "t": PLANTED}}, "dev")
    start = time.monotonic()
    r = session("request", "GET", f"http://127.0.0.1:{port}/", "-m", "1")
    took = time.monotonic() - start
    srv.close()
    assert r.returncode == 8 and "timed out after 1 s (--max-time)" in err(r)
    assert took < 6, took


# 6. backup restore -----------------------------------------------------------------------

def test_backup_restore_names_the_keyslot_change_and_asks(session) -> None:
    path = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(path, "dev", {"auth0_token": PLANTED})
    r = session("keys", "add", "recovery", "--recovery-key-file", str(session.cwd / "recovery.txt"))
    assert r.returncode == 0, err(r)
    del session.env["TOKENSAFE_PASSPHRASE"]
    before = path.read_bytes()
    # No terminal: refused without --yes, nothing unlocked, nothing changed.
    r = session("backup", "restore")
    assert r.returncode == 9 and "keyslot k2 (recovery) would be removed" in err(r)
    assert "add --yes" in err(r) and path.read_bytes() == before
    # On a terminal: it says so, asks; "n" changes nothing, asked before any passphrase.
    proc = PtyProc(["backup", "restore"], session.env, session.cwd, answer=PASSPHRASE)
    proc.expect(rb"keyslot changes\? \[y/N\]")
    proc.send("n\n")
    code = proc.wait()
    session.transcript.append((proc.argv, b"", bytes(proc.out)))
    assert "keyslot k2 (recovery) would be removed" in proc.text and "nothing was changed" in proc.text
    assert code == 9 and proc.prompts == 0 and path.read_bytes() == before
    r = session("backup", "restore", "--yes", env={"TOKENSAFE_PASSPHRASE": PASSPHRASE})
    assert r.returncode == 0 and "restored generation" in err(r)
    session.assert_no_leak(PLANTED)


# 9. help and messages --------------------------------------------------------------------

def test_help_and_messages(session, tmp_path: Path) -> None:
    path = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(path, "dev", {"auth0_token": PLANTED})
    env_without = {k: v for k, v in session.env.items() if k != "TOKENSAFE_VAULT"}
    r = session("--vault", str(path), "list", env=env_without)  # a global --vault
    assert r.returncode == 0 and "auth0_token" in r.stdout.decode()
    r = session("env", "list")
    assert r.stdout.decode().strip() == "* dev (1 entry)"
    r = session("help", "env", "list")
    assert r.returncode == 0 and r.stdout.decode().startswith("Usage: tokensafe env list")
    r = session("help")
    assert r.returncode == 0 and "Commands:" in r.stdout.decode()
    r = session("lsit")
    assert r.returncode == 2 and err(r) == ("tokensafe: error: no such command 'lsit'\n"
                                           "tokensafe: hint: did you mean `tokensafe list`?\n")
    r = session("get")
    assert r.returncode == 2 and err(r) == ("tokensafe: error: missing argument 'NAME'\n"
                                           "tokensafe: hint: see `tokensafe get --help`\n")
    r = session("get", "auth0_tokne")
    assert r.returncode == 4 and "did you mean auth0_token?" in err(r)
    r = session("run", "--help")
    assert "Usage: tokensafe run [OPTIONS] -- CMD [ARG]…" in r.stdout.decode()
    r = session("--help")
    for line in r.stdout.decode().split("Commands:")[1].split("Exit statuses")[0].splitlines():
        assert not line.rstrip().endswith("..."), line  # descriptions are not cut
    code, out, prompts = pty_run(session, "get", "auth0_token")
    assert code == 9 and prompts == 0
    assert "tokensafe get auth0_token | " in out and "newman" not in out
    session.assert_no_leak(PLANTED)


# 10. domain with a port -------------------------------------------------------------------

def test_domain_with_a_port_is_a_domain(session) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]), "dev")
    for value in ("127.0.0.1:8443", "localhost:3000", "tenant.eu.auth0.com:443"):
        r = session("set", "d", input=value)
        assert r.returncode == 0 and "(domain," in err(r), err(r)

