"""Exit statuses a script can tell apart (vault.errors.ExitStatus), through the installed
command where it matters and in-process where a failure has to be provoked."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, PLANTED, create_passphrase_vault
from vault.errors import EXIT_STATUS_HELP, ExitStatus
from vault.store.paths import lock_path

README = Path(__file__).resolve().parents[2] / "README.md"


def _err(r) -> str:
    return r.stderr.decode() if isinstance(r.stderr, bytes) else r.stderr


def _one_error_line(stderr: str) -> None:
    """One `error:` line (plus an optional hint), never a traceback."""
    lines = stderr.splitlines()
    assert "Traceback" not in stderr, stderr
    assert [ln for ln in lines if not ln.startswith("tokensafe: hint: ")] == \
        [ln for ln in lines if ln.startswith("tokensafe: error: ")], stderr
    assert len([ln for ln in lines if ln.startswith("tokensafe: error: ")]) == 1, stderr


@pytest.fixture
def sess(session):
    """The installed command, loopback only, with a vault holding the planted token bound
    to a port where nothing listens."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        session.env.pop(var, None)
    session.env["NO_PROXY"] = "*"
    session.closed = _closed_port()
    _vault_with(Path(session.env["TOKENSAFE_VAULT"]), hosts=[f"http://127.0.0.1:{session.closed}"])
    return session


def _vault_with(path: Path, hosts: list[str]) -> None:
    """A vault whose `dev` environment holds the planted token, allowed to `hosts` only."""
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    data = VaultData(current="dev")
    data.ensure_env("dev").entries["tok"] = Entry.new("tok", PLANTED, hosts)
    create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, PASSPHRASE)], data)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def not_found_server() -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request with 404."""

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"no")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# One test per status -------------------------------------------------------------------

@pytest.mark.parametrize("args", [["get", "--no-such-option", "tok"],
                                  ["request", "GET", "ftp://127.0.0.1:1/"],  # not the network's fault
                                  ["request", "GET", "http://[::1/"]],  # not a bug either
                         ids=["option", "scheme", "bracket"])
def test_usage_is_2(sess, args: list[str]) -> None:
    r = sess(*args)
    assert r.returncode == ExitStatus.USAGE == 2, r.stderr
    assert "Traceback" not in _err(r)


def test_wrong_passphrase_is_3(sess) -> None:
    r = sess("get", "tok", env={"TOKENSAFE_PASSPHRASE": "wrong"})
    assert r.returncode == ExitStatus.AUTH == 3, r.stderr


def test_not_found_is_4(sess) -> None:
    r = sess("get", "nope")
    assert r.returncode == ExitStatus.NOT_FOUND == 4, r.stderr


def test_tampered_vault_is_5(sess) -> None:
    path = Path(sess.env["TOKENSAFE_VAULT"])
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01  # a byte of the sealed payload
    path.write_bytes(bytes(raw))
    r = sess("get", "tok")
    assert r.returncode == ExitStatus.INTEGRITY == 5, r.stderr


def test_lock_held_too_long_is_6(cli, vault, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    monkeypatch.setenv("TOKENSAFE_LOCK_WAIT", "0.2")
    fd = os.open(lock_path(vault), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = cli(["set", "x"], input="value-123456\n")
    finally:
        os.close(fd)
    assert r.code == ExitStatus.BUSY == 6, r.stderr
    assert "locked by another tokensafe process" in r.stderr


def test_output_into_a_missing_folder_is_7_in_one_line(sess, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x"
    r = sess("inject", "-o", str(target), input="Bearer {{tok}}\n")
    assert r.returncode == ExitStatus.FILESYSTEM == 7, r.stderr
    err = _err(r)
    _one_error_line(err)
    assert re.match(r"tokensafe: error: cannot .*: No such file or directory \(.*/missing/", err), err
    assert not target.parent.exists()
    sess.assert_no_leak(PLANTED)


def _as_nobody(args: list[str]) -> tuple[int, str]:
    """`tokensafe ARGS` in-process in a forked child that dropped root (CI runs as root)."""
    from vault.cli import run

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 255
        try:
            sys.stderr = os.fdopen(w, "w")  # pytest has replaced sys.stderr
            os.setgid(65534)
            os.setuid(65534)
            code = int(run(args))
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        err = f.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_unreadable_vault_folder_is_7(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="ts-perm-")) if root else tmp_path
    try:
        base.chmod(0o755)
        folder = base / "vaultdir"
        create_passphrase_vault(folder / "vault.tokensafe", entries={"tok": PLANTED})
        if root:  # the folder is the user's own, so only the missing permission can fail
            for p in (folder, folder / "vault.tokensafe"):
                os.chown(p, 65534, 65534)
        folder.chmod(0)
        monkeypatch.setenv("TOKENSAFE_VAULT", str(folder / "vault.tokensafe"))
        monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "unused")
        code, err = _as_nobody(["get", "tok"]) if root else _in_process(["get", "tok"])
    finally:
        (base / "vaultdir").chmod(0o700)
        if base != tmp_path:
            shutil.rmtree(base)
    assert code == ExitStatus.FILESYSTEM == 7, err
    assert "permission denied" in err.lower()
    _one_error_line(err)


def _in_process(args: list[str]) -> tuple[int, str]:
    from click.testing import CliRunner

    from vault.cli import run

    with CliRunner().isolation() as (_, err, _):
        return int(run(args)), err.getvalue().decode()


def test_unreachable_server_is_8(sess) -> None:
    r = sess("request", "GET", f"http://127.0.0.1:{sess.closed}/", "-H", "Authorization: Bearer {{tok}}",
             "--connect-timeout", "5")
    assert r.returncode == ExitStatus.NETWORK == 8, r.stderr
    _one_error_line(_err(r))
    sess.assert_no_leak(PLANTED)


def test_host_not_allowed_is_9(sess, not_found_server: str) -> None:
    r = sess("request", "GET", f"http://{not_found_server}/", "-H", "Authorization: Bearer {{tok}}")
    assert r.returncode == ExitStatus.REFUSED == 9, r.stderr
    assert b"refusing to send" in r.stderr
    sess.assert_no_leak(PLANTED)


def test_fail_on_a_404_is_10(sess, not_found_server: str) -> None:
    plain = sess("request", "GET", f"http://{not_found_server}/x")
    failed = sess("request", "GET", f"http://{not_found_server}/x", "--fail")
    assert plain.returncode == 0, plain.stderr
    assert failed.returncode == ExitStatus.HTTP_STATUS == 10, failed.stderr
    assert failed.stdout == b"no"  # the body is still shown (curl -f would drop it)


# Internal errors: one masked line, the traceback only when asked for ----------------------

@pytest.fixture
def buggy(cli, vault_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`get` raises an unexpected exception whose text holds the value in several encodings."""
    from vault.store import model

    create_passphrase_vault(vault_path, entries={"tok": PLANTED})

    def broken_get(self, name: str):
        v = PLANTED
        raise RuntimeError(f"unexpected {v} b64={base64.b64encode(v.encode()).decode()} "
                           f"url={urllib.parse.quote(v + '/x', safe='')} json={json.dumps({'v': v})}")

    monkeypatch.setattr(model.Environment, "get", broken_get)
    return cli


def _leaks(text: str) -> list[str]:
    forms = [PLANTED, base64.b64encode(PLANTED.encode()).decode(), urllib.parse.quote(PLANTED, safe="")]
    return [f for f in forms if f in text]


def test_unexpected_exception_is_70_in_one_masked_line(buggy) -> None:
    r = buggy(["get", "tok"])
    assert r.code == ExitStatus.INTERNAL == 70
    _one_error_line(r.stderr)
    assert r.stderr.startswith("tokensafe: error: internal error: RuntimeError: unexpected *** b64=*** ")
    assert "--debug" in r.stderr and "TOKENSAFE_DEBUG=1" in r.stderr
    assert _leaks(r.stdout + r.stderr) == []


@pytest.mark.parametrize("how", ["option", "env"])
def test_debug_shows_the_masked_traceback(buggy, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "env":
        monkeypatch.setenv("TOKENSAFE_DEBUG", "1")
    r = buggy(["--debug", "get", "tok"] if how == "option" else ["get", "tok"])
    assert r.code == 70
    assert r.stderr.startswith("Traceback (most recent call last):")
    assert "RuntimeError: unexpected ***" in r.stderr and "broken_get" in r.stderr
    assert r.stderr.rstrip().splitlines()[-2].startswith("tokensafe: error: internal error: ")
    assert _leaks(r.stdout + r.stderr) == []


def test_a_value_typed_into_set_is_masked_too(cli, vault, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only decrypted values: one read from stdin a moment ago is masked as well."""
    from vault.store import model

    typed = "typed-value-0a1b2c3d4e5f"

    def broken_to_bytes(self) -> bytes:
        raise RuntimeError(f"cannot encode {self.all_values()}")

    monkeypatch.setattr(model.VaultData, "to_bytes", broken_to_bytes)
    r = cli(["--debug", "set", "fresh"], input=typed + "\n")
    assert r.code == 70, r.stderr
    assert "RuntimeError: cannot encode ['***']" in r.stderr
    assert typed not in r.stdout + r.stderr


def test_debug_is_a_global_option_for_every_command(cli, vault) -> None:
    for args in (["--debug", "list"], ["--debug", "get", "--help"]):
        r = cli(args)
        assert r.code == 0, (args, r.stderr)
    assert cli(["get", "--debug", "x"]).code == 2  # only before the command name


# The table, documented -----------------------------------------------------------------

def test_help_lists_every_exit_status(cli) -> None:
    r = cli(["--help"])
    assert r.code == 0
    for status in ExitStatus:
        assert re.search(rf"^ +{int(status)}  {re.escape(EXIT_STATUS_HELP[status])}$", r.stdout, re.M), status


@pytest.mark.parametrize(("doc", "heading"), [(README, "### Exit statuses"),
                                              (README.parent / "docs" / "architecture.md", "## Exit statuses")])
def test_documented_table_matches_exit_status(doc: Path, heading: str) -> None:
    section = doc.read_text().split(heading, 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M))
    assert rows == {str(int(s)): EXIT_STATUS_HELP[s] for s in ExitStatus}
