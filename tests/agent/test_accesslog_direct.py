"""Every secret read and write is logged, also by commands that unlock the vault themselves.

Through the installed command (no agent unless a test starts one): the records of get, run,
set and rm; several writers at once (processes, and an agent beside direct commands) keep one
chain that `log --verify` accepts; tampering is still found; no log, no answer.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.agent.conftest import Agents
from tests.conftest import PLANTED, Session, create_passphrase_vault, files_containing
from vault.service import accesslog

KEY = bytes(range(32))


@pytest.fixture
def vault(session: Session, home: Path) -> Path:
    path = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(path, entries={"api_token": PLANTED, "auth0_domain": "example.eu.auth0.com"})
    return path


def records(vault: Path) -> list[dict]:
    return list(accesslog.read_records(accesslog.log_path(vault)))


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stderr.decode()
    return r


# what is logged ---------------------------------------------------------------------------

def test_direct_get_run_set_rm_are_logged(session: Session, vault: Path) -> None:
    assert not accesslog.log_path(vault).exists()
    assert ok(session("get", "-n", "api_token")).stdout == PLANTED.encode()
    ok(session("run", "--only", "auth0_domain", "--", "sh", "-c", "test -n \"$AUTH0_DOMAIN\""))
    ok(session("set", "extra", input="extra-value-0123456789\n"))
    ok(session("rm", "extra"))
    assert session("get", "missing").returncode == 4
    got = [(r["verb"], r["env"], r["names"], r["command"], r["outcome"]) for r in records(vault)]
    assert got == [
        ("get", "dev", ["api_token"], "tokensafe get", "ok"),
        ("read", "*", ["*"], "sh", "ok"),  # run: the child's argv[0]
        ("write", "dev", ["extra"], "tokensafe set", "ok"),
        ("write", "dev", ["extra"], "tokensafe rm", "ok"),
        ("get", "dev", ["missing"], "tokensafe get", "error: NotFoundError"),
    ]
    for r in records(vault):
        assert r["uid"] == os.getuid() and r["pid"] > 0 and r["exe"]
        assert [k for k in r if "value" in k] == []
    assert ok(session("log", "--verify")).stderr.endswith(b"access log intact: 5 records\n")
    # The planted token is in no log, no output but get's, and no file but the vault's own.
    session.assert_no_leak(PLANTED)
    assert PLANTED.encode() not in accesslog.log_path(vault).read_bytes()
    assert [p.name for p in files_containing(vault.parent, PLANTED.encode())] == []  # sealed, not plain


def test_a_new_data_key_keeps_the_log_verifiable(session: Session, vault: Path) -> None:
    """`passwd` makes a new data key; the log's key is fixed in the vault before that, so the
    chain made under the old one still verifies (it failed on record 1)."""
    new = {"TOKENSAFE_PASSPHRASE": "a new passphrase, long enough"}
    ok(session("get", "api_token"))
    ok(session("passwd", env={"TOKENSAFE_NEW_PASSPHRASE": new["TOKENSAFE_PASSPHRASE"]}))
    ok(session("get", "api_token", env=new))
    assert len(records(vault)) >= 2
    r = session("log", "--verify", env=new)
    assert r.returncode == 0, r.stderr


def test_an_agents_clients_never_get_the_log_key(agents: Agents, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(agents.session("set", "extra", input="extra-value-0123456789\n"))  # a write fixes the log key
    agents.unlock()
    monkeypatch.setenv("XDG_RUNTIME_DIR", agents.session.env["XDG_RUNTIME_DIR"])
    from vault.agent import client

    reply = client.ask(str(agents.vault), {"op": "read"}, lambda _m: None)
    assert reply is not None and "fingerprint_key" in reply["vault"] and "log_key" not in reply["vault"]
    assert agents.nopass("log", "--verify").returncode == 0


def test_a_write_leaves_the_log_head_in_the_vault(session: Session, vault: Path) -> None:
    from tests.conftest import PASSPHRASE
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import read_vault

    ok(session("get", "api_token"))
    ok(session("get", "auth0_domain"))
    ok(session("set", "x", input="x-value-0123456789\n"))
    head = read_vault(vault, Unlocker(use_keyring=False, _passphrase=PASSPHRASE)).data.log_head
    assert head["seq"] == 2 and head["mac"] == records(vault)[1]["mac"]  # the tail before the write


# tampering ----------------------------------------------------------------------------------

def _lines(vault: Path) -> list[bytes]:
    return accesslog.log_path(vault).read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("tamper, where", [
    (lambda ls: [ls[0], ls[1].replace(b'"tokensafe get"', b'"tokensafe xyz"'), *ls[2:]], b"access.log:2"),
    (lambda ls: [ls[0], *ls[2:]], b"access.log:2"),  # a record deleted
    (lambda ls: [ls[1], ls[0], *ls[2:]], b"access.log:1"),  # reordered
    (lambda ls: ls[:1], b"access.log:end"),  # cut back past the head the vault remembers
])
def test_tampering_with_direct_records_is_found(session: Session, vault: Path, tamper, where: bytes) -> None:
    ok(session("get", "api_token"))
    ok(session("get", "auth0_domain"))
    ok(session("set", "x", input="x-value-0123456789\n"))  # the vault remembers record 2
    ok(session("get", "x"))
    assert ok(session("log", "--verify")).returncode == 0
    accesslog.log_path(vault).write_bytes(b"".join(tamper(_lines(vault))))
    r = session("log", "--verify")
    assert r.returncode == 5 and where in r.stderr, r.stderr


def test_a_cut_of_records_after_the_remembered_head_is_not_found(session: Session, vault: Path) -> None:
    """The documented limit (SECURITY.md): reads do not rewrite the vault, so the records after
    the head it remembers — since the last write — can be cut without `--verify` noticing."""
    ok(session("set", "x", input="x-value-0123456789\n"))
    ok(session("get", "x"))
    ok(session("get", "x"))
    accesslog.log_path(vault).write_bytes(b"".join(_lines(vault)[:1]))
    assert ok(session("log", "--verify")).stderr.endswith(b"access log intact: 1 records\n")


# no log, no answer --------------------------------------------------------------------------

def test_no_value_when_the_log_cannot_be_written(session: Session, vault: Path) -> None:
    log = accesslog.log_path(vault)
    log.mkdir()  # anything that makes the append fail; root ignores file modes
    r = session("get", "api_token")
    assert r.returncode == 7 and r.stdout == b""
    assert b"cannot write the access log" in r.stderr and b"nothing is handed out unlogged" in r.stderr
    marker = vault.parent / "child-ran"
    r = session("run", "--", "sh", "-c", f"touch {marker}")
    assert r.returncode == 7 and not marker.exists()
    log.rmdir()
    log.symlink_to(vault.parent / "elsewhere.log")  # a planted link is not followed
    assert session("get", "api_token").returncode == 7
    assert not (vault.parent / "elsewhere.log").exists()
    session.assert_no_leak(PLANTED, allow_stdout_of=())


def _get_in_readonly_folder(vault: Path, out: multiprocessing.Queue) -> None:
    from vault.errors import FileSystemError
    from vault.service.context import Context

    ctx = Context(vault)
    if os.geteuid() == 0:  # root writes anywhere: be the vault's owner, nobody
        # nobody cannot import from root's Python: load what the read needs first (no log written).
        import fcntl  # noqa: F401
        import hmac  # noqa: F401

        from vault.agent import client  # noqa: F401
        from vault.service import accesslog
        from vault.service.context import harden_process

        ctx.store.read()
        accesslog.mac_key(bytes(32))
        harden_process()
        for path in (vault.parent.parent, vault.parent, *vault.parent.iterdir()):
            os.chown(path, 65534, 65534)
        os.setgid(65534)
        os.setuid(65534)
    try:
        value = ctx.value("api_token")
        out.put(("value", value == PLANTED))
    except FileSystemError as e:
        out.put(("error", e.message))


def test_no_value_from_a_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import PASSPHRASE

    folder = Path(tempfile.mkdtemp(prefix="ts-readonly-"))
    try:
        vault = folder / "v" / "vault.tokensafe"
        create_passphrase_vault(vault, entries={"api_token": PLANTED})
        os.chmod(vault.parent, 0o500)  # (as root, the child makes it nobody's)  # the vault reads; nothing new can be made beside it
        monkeypatch.setenv("TOKENSAFE_PASSPHRASE", PASSPHRASE)
        monkeypatch.setenv("XDG_STATE_HOME", str(folder / "state"))
        out: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
        p = multiprocessing.get_context("fork").Process(target=_get_in_readonly_folder, args=(vault, out))
        p.start()
        p.join(60)
        kind, detail = out.get(timeout=5)
        assert (kind, "cannot write the access log" in str(detail)) == ("error", True), detail
        assert not accesslog.log_path(vault).exists()
    finally:
        os.chmod(folder / "v", 0o700)
        shutil.rmtree(folder)


# several writers at once ----------------------------------------------------------------

def _append_many(path: str, n: int, max_bytes: int) -> None:
    log = accesslog.AccessLog(Path(path), KEY, max_bytes, read_tail=False)
    for i in range(n):
        log.append({"verb": "get", "env": "dev", "names": [f"n{os.getpid()}-{i}"], "command": "t",
                    "pid": os.getpid(), "uid": 0, "exe": "", "outcome": "ok"})


@pytest.mark.parametrize("max_bytes", [accesslog.MAX_BYTES, 30_000])  # the second rotates under contention
def test_concurrent_appenders_keep_one_chain(tmp_path: Path, max_bytes: int) -> None:
    path = tmp_path / "v.access.log"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), 150, max_bytes)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    seq, mac = accesslog._tail(path)
    assert seq == 900
    v = accesslog.verify(path, KEY, {"seq": seq, "mac": mac})
    assert v.ok, (v.where, v.reason)
    if max_bytes == accesslog.MAX_BYTES:
        assert v.records == 900
    else:
        assert len(accesslog.log_files(path)) > 1


def test_the_tail_is_found_behind_a_long_record_and_a_garbage_line(tmp_path: Path) -> None:
    path = tmp_path / "v.access.log"
    log = accesslog.AccessLog(path, KEY)
    log.append({"verb": "write", "names": [f"name{i}" for i in range(3000)]})  # far longer than a read chunk
    assert accesslog._tail(path) == (1, log.mac)
    with path.open("ab") as f:
        f.write(b"x" * 20000 + b"\n")
    other = accesslog.AccessLog(path, KEY, read_tail=False)
    other.append({"verb": "get"})
    assert accesslog._tail(path)[0] == 2  # continues the chain past the garbage
    v = accesslog.verify(path, KEY, other.head())
    assert not v.ok and v.where.endswith(":2") and v.reason == "not a log record"


def test_direct_commands_beside_an_agent_keep_one_chain(agents: Agents) -> None:
    agents.unlock()
    # Direct commands do not see the agent (another runtime folder) and unlock with the passphrase.
    direct_env = {"XDG_RUNTIME_DIR": str(agents.runtime / "elsewhere")}
    os.mkdir(direct_env["XDG_RUNTIME_DIR"], 0o700)

    def one(i: int) -> int:
        if i % 2:
            return agents.nopass("get", "auth0_domain").returncode  # through the agent
        if i % 6 == 0:
            return agents.session("set", f"d{i}", input=f"value-{i}-0123456789\n", env=direct_env).returncode
        return agents.session("get", "auth0_domain", env=direct_env).returncode

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(one, range(24))) == [0] * 24
    got = records(agents.vault)
    assert [r["seq"] for r in got] == list(range(1, 26))  # unlock + 24, none lost, none doubled
    assert {r["verb"] for r in got} == {"unlock", "get", "write"}
    assert len({r["pid"] for r in got if r["verb"] == "get"}) > 1  # the agent's peers and direct ones
    assert ok(agents.nopass("log", "--verify")).stderr.endswith(b"access log intact: 25 records\n")
    assert ok(agents.session("log", "--verify", env=direct_env)).returncode == 0  # unlocking: the vault's head
    ok(agents.session("lock"))
    assert ok(agents.session("log", "--verify")).stderr.endswith(b"access log intact: 25 records\n")


# the light client ---------------------------------------------------------------------------

def test_line_reader_splits_joins_and_stops() -> None:
    import socket

    from vault.agent.protocol import LineReader

    a, b = socket.socketpair()
    with a, b:
        reader = LineReader(b)
        a.sendall(b'{"n":1}\n{"n":2}\n{"n"')
        assert reader.readline(100) == b'{"n":1}\n'
        assert reader.readline(100) == b'{"n":2}\n'  # from the buffer, no recv
        big = b"x" * 300_000  # many recv chunks; more than a socket buffer holds, so sent from a thread
        sender = threading.Thread(target=a.sendall, args=(b":3}\n" + big + b"\n",))
        sender.start()
        assert reader.readline(100) == b'{"n":3}\n'
        assert reader.readline(1 << 20) == big + b"\n"
        sender.join(10)
        a.sendall(b"0123456789")
        assert reader.readline(4) == b"0123"  # the limit holds
        a.shutdown(socket.SHUT_WR)
        assert reader.readline(100) == b"456789"  # EOF mid-line: what there was, no newline
        assert reader.readline(100) == b""


def test_get_through_the_agent_does_not_import_socket(agents: Agents) -> None:
    import sys

    agents.unlock()
    code = ("import sys; from vault.service.context import Context; "
            f"v = Context({str(agents.vault)!r}).value('auth0_domain'); "
            "print(v, 'socket' in sys.modules, 'selectors' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], env=agents.nopass.env, capture_output=True, timeout=60)
    assert r.stdout.decode().split() == ["example.eu.auth0.com", "False", "False"], r.stderr
