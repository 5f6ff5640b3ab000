"""A whole session through the installed `tokensafe`, with a planted secret that must leak nowhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import PLANTED, create_passphrase_vault, files_containing

pytestmark = pytest.mark.e2e

PROD_SECRET = "tsPROD-0b1c2d3e4f-SECRET-99887766554433221100ffee"


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, (r.args[1:3], r.stderr.decode())
    return r


def test_full_session_leaks_nothing(session, home: Path, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    session.env["TMPDIR"] = str(tmpdir)
    vault = Path(session.env["TOKENSAFE_VAULT"])
    started = time.time()

    # `init` for real (default Argon2id cost), on a vault of its own ...
    first = home / "first" / "vault.tokensafe"
    r = ok(session("init", "--env", "dev", "--vault", str(first)))
    assert b"passphrase" in r.stderr
    ok(session("set", "--vault", str(first), "auth0_token", input=PLANTED))
    assert ok(session("get", "--vault", str(first), "auth0_token")).stdout == PLANTED.encode() + b"\n"
    assert PLANTED.encode() not in first.read_bytes()

    # ... and the rest on a vault with a cheap keyslot, so that the session stays quick.
    create_passphrase_vault(vault)
    ok(session("set", "auth0_token", "--allow-host", "*.auth0.com", input=PLANTED + "\n"))
    ok(session("set", "auth0_domain", input="example.eu.auth0.com"))
    assert ok(session("get", "auth0_token")).stdout == PLANTED.encode() + b"\n"

    # A real pipe: the value flows from tokensafe's stdout into another program's stdin.
    exe = shutil.which("tokensafe")
    piped = subprocess.run(f"'{exe}' get -n auth0_token | sha256sum", shell=True, capture_output=True,
                           env=session.env, timeout=60, stdin=subprocess.DEVNULL)
    import hashlib

    assert piped.stdout.split()[0].decode() == hashlib.sha256(PLANTED.encode()).hexdigest()

    listed = ok(session("list")).stdout
    assert b"auth0_token" in listed and b"*.auth0.com" in listed
    doc = json.loads(ok(session("list", "--json", "--all")).stdout)
    assert {e["name"] for e in doc["environments"][0]["entries"]} == {"auth0_token", "auth0_domain"}

    ok(session("env", "create", "prod", "--use"))
    ok(session("set", "auth0_token", input=PROD_SECRET))
    assert ok(session("get", "auth0_token")).stdout == PROD_SECRET.encode() + b"\n"
    ok(session("env", "use", "dev"))
    assert b"* dev" in ok(session("env", "list")).stdout

    # A refused argv value (not the planted one: that must never be in argv at all).
    assert session("set", "other", "argv-value-refused").returncode == 9

    ok(session("keys", "add", "recovery", "--recovery-key-file", "rk.txt"))
    recovery = (session.cwd / "rk.txt").read_text().strip()
    no_pw = {"TOKENSAFE_PASSPHRASE": "", "TOKENSAFE_RECOVERY_KEY": recovery}
    assert ok(session("get", "-n", "auth0_token", env=no_pw)).stdout == PLANTED.encode()
    assert [k["type"] for k in json.loads(ok(session("keys", "list", "--json")).stdout)["keyslots"]] \
        == ["passphrase", "recovery"]

    ok(session("rm", "auth0_domain"))
    assert session("get", "auth0_domain").returncode == 4
    ok(session("backup", "restore"))
    assert ok(session("get", "-n", "auth0_domain")).stdout == b"example.eu.auth0.com"
    assert session("get", "auth0_token", env={"TOKENSAFE_PASSPHRASE": "wrong"}).returncode == 3

    ok(session("passwd", env={"TOKENSAFE_NEW_PASSPHRASE": "a new passphrase"}))
    assert session("get", "auth0_token").returncode == 3
    session.env["TOKENSAFE_PASSPHRASE"] = "a new passphrase"
    assert ok(session("get", "-n", "auth0_token")).stdout == PLANTED.encode()
    assert time.time() - started < 120  # does not hang

    # Every argv, stderr and non-`get` stdout of the session is free of the secret.
    session.assert_no_leak(PLANTED)
    session.assert_no_leak(PROD_SECRET)
    assert len(session.transcript) >= 20

    # No file anywhere under HOME or the session's TMPDIR holds it, the vault's own included.
    sidecars = [vault, *(vault.with_name(vault.name + s)
                         for s in (".bak", ".fp", ".lock", ".access.log", ".access.log.lock"))]
    assert all(p.exists() for p in sidecars)
    for p in sidecars:
        assert PLANTED.encode() not in p.read_bytes(), p.name
        assert PROD_SECRET.encode() not in p.read_bytes(), p.name
    for secret in (PLANTED, PROD_SECRET):
        assert files_containing(tmp_path, secret.encode()) == []
        for needle in (secret.encode("utf-16-le"), secret[8:40].encode()):
            assert files_containing(tmp_path, needle) == []
    assert files_containing(tmp_path, PLANTED.encode()) == []
    assert not any(home.rglob("*.tmp")), "a temporary file was left behind"
    for shared_tmp in (Path("/dev/shm"), Path(tempfile.gettempdir())):
        assert [p for p in shared_tmp.iterdir() if _recent_file_holding(p, started, PLANTED)] == []


def _recent_file_holding(p: Path, since: float, secret: str) -> bool:
    """A file (not a folder) changed since `since` that contains `secret`; others' files may
    come and go meanwhile."""
    try:
        return p.is_file() and p.stat().st_mtime >= since - 1 and secret.encode() in p.read_bytes()
    except OSError:
        return False


def test_secret_never_in_cmdline_of_a_running_set(session, vault: Path) -> None:
    """While `tokensafe set` waits for its value, /proc/PID/cmdline and environ hold no secret."""
    exe = shutil.which("tokensafe")
    p = subprocess.Popen([exe, "set", "auth0_token"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**session.env, "TOKENSAFE_VAULT": str(vault)})
    try:
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                seen.append(Path(f"/proc/{p.pid}/cmdline").read_bytes())
            except OSError:
                break
            if len(seen) > 20:
                break
            time.sleep(0.01)
        out, err = p.communicate(PLANTED.encode(), timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    seen = [c for c in seen if c]  # empty while the shim execs
    assert seen and all(b"set\x00auth0_token" in c for c in seen)
    assert not any(PLANTED.encode() in c for c in seen)
    assert PLANTED.encode() not in out + err
    r = session("get", "-n", "auth0_token", env={"TOKENSAFE_VAULT": str(vault)})
    assert r.stdout == PLANTED.encode()
    session.assert_no_leak(PLANTED)

