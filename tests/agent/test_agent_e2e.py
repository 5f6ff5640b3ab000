"""A real agent through the installed command: modes, peers, timeouts, death, one per vault, leaks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.agent.conftest import Agents, pid_alive
from tests.conftest import PLANTED, create_passphrase_vault, files_containing


def test_unlock_once_then_get_without_a_passphrase(agents: Agents) -> None:
    assert agents.nopass("get", "auth0_token").returncode == 3  # locked: nothing to unlock with
    r = agents.unlock("--for", "1m", "--idle", "30s")
    assert r.returncode == 0, r.stderr
    assert b"unlocked: agent pid" in r.stderr
    got = agents.nopass("get", "auth0_token")
    assert got.returncode == 0, got.stderr
    assert got.stdout.decode().strip() == PLANTED
    st = agents.status()
    assert st["running"] and st["locks_at"] <= st["expires_at"]
    human = agents.session("unlock", "--status")
    assert b"unlocked: agent pid" in human.stdout and b"locks at" in human.stdout
    agents.session.assert_no_leak(PLANTED)


def test_socket_and_folder_are_private(agents: Agents) -> None:
    agents.unlock()
    sock = agents.socket()
    assert sock.parent == agents.folder()
    assert stat.S_IMODE(os.lstat(agents.folder()).st_mode) == 0o700
    st = os.lstat(sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert PLANTED not in str(sock)


def test_a_public_agent_folder_is_refused(agents: Agents) -> None:
    agents.folder().mkdir(mode=0o700)
    agents.folder().chmod(0o755)
    r = agents.unlock()
    assert r.returncode == 9, r.stderr
    assert b"not private" in r.stderr


def test_the_agent_holds_no_secret_in_argv_or_environment(agents: Agents) -> None:
    agents.unlock()
    pid = agents.status()["pid"]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"vault.agent" in cmdline
    assert b"TOKENSAFE_PASSPHRASE" not in environ
    assert PLANTED.encode() not in cmdline + environ
    dumpable = [ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Core")]
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert any(ln.startswith("Max core file size") and ln.split()[4] == "0" for ln in limits.splitlines()), dumpable


def test_writes_go_through_the_agent_and_are_logged(agents: Agents) -> None:
    agents.unlock()
    r = agents.nopass("set", "new_token", input="tsNEWVALUE-0123456789abcdef\n")
    assert r.returncode == 0, r.stderr
    assert agents.nopass("get", "new_token").stdout.decode().strip() == "tsNEWVALUE-0123456789abcdef"
    assert agents.session("lock").returncode == 0
    # The agent wrote the vault itself: it opens with the passphrase, new entry and all.
    assert agents.session("get", "new_token").stdout.decode().strip() == "tsNEWVALUE-0123456789abcdef"
    records = [json.loads(x) for x in agents.session("log", "--json").stdout.splitlines()]
    writes = [r for r in records if r["verb"] == "write"]
    assert writes and writes[-1]["names"] == ["new_token"] and writes[-1]["command"] == "tokensafe set"
    gets = [r for r in records if r["verb"] == "get"]
    assert gets[-1]["names"] == ["new_token"] and gets[-1]["env"] == "dev" and gets[-1]["outcome"] == "ok"
    assert all(r["uid"] == os.getuid() and r["pid"] > 0 for r in records)
    v = agents.session("log", "--verify")  # without the agent: unlocks, checks against the vault's head
    assert v.returncode == 0, v.stderr
    agents.session.assert_no_leak(PLANTED)


def test_run_logs_the_child_program(agents: Agents) -> None:
    agents.unlock()
    r = agents.nopass("run", "--", "sh", "-c", "test -n \"$AUTH0_TOKEN\"")
    assert r.returncode == 0, r.stderr
    records = [json.loads(x) for x in agents.session("log", "--json").stdout.splitlines()]
    assert records[-1]["command"] == "sh"


def test_second_unlock_starts_no_second_agent(agents: Agents) -> None:
    agents.unlock()
    first = agents.status()["pid"]
    r = agents.unlock()
    assert r.returncode == 0 and b"already unlocked" in r.stderr
    assert agents.status()["pid"] == first
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _is_agent_of(int(p), agents.vault)]
    assert mine == [str(first)]


def _is_agent_of(pid: int, vault: Path) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"vault.agent" in cmd and str(vault).encode() in cmd and pid_alive(pid)


def test_lock_wipes_and_stops(agents: Agents) -> None:
    agents.unlock()
    pid = agents.status()["pid"]
    sock = agents.socket()
    r = agents.session("lock")
    assert r.returncode == 0 and r.stderr.strip() == b"locked"
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)
    assert not sock.exists()
    assert agents.nopass("get", "auth0_token").returncode == 3
    assert agents.session("lock").stderr.strip() == b"locked (no agent was running)"


def test_idle_timeout(agents: Agents) -> None:
    agents.unlock("--idle", "1s", "--for", "1m")
    time.sleep(2.5)
    agents.wait_locked()
    assert agents.nopass("get", "auth0_token").returncode == 3


def test_absolute_timeout_despite_use(agents: Agents) -> None:
    agents.unlock("--for", "2s", "--idle", "1m")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.0:  # busy all along: the idle limit never bites
        agents.nopass("get", "auth0_domain")
    agents.wait_locked()
    assert agents.nopass("get", "auth0_token").returncode == 3


def test_a_stale_socket_falls_back_with_a_note(agents: Agents) -> None:
    agents.unlock()
    pid = agents.status()["pid"]
    sock = agents.socket()
    os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.02)
    assert sock.exists()  # left behind by the kill
    r = agents.session("get", "auth0_token")
    assert r.returncode == 0 and r.stdout.decode().strip() == PLANTED
    notes = r.stderr.decode().splitlines()
    assert len(notes) == 1 and "unlock agent is gone" in notes[0]
    assert not sock.exists()  # cleaned up
    assert agents.unlock().returncode == 0  # and a new one starts
    assert agents.nopass("get", "auth0_token").stdout.decode().strip() == PLANTED


def test_kill_mid_request_never_hangs(agents: Agents) -> None:
    agents.unlock()
    pid = agents.status()["pid"]
    os.kill(pid, signal.SIGSTOP)  # it accepts nothing now: the request waits in the backlog
    try:
        exe = agents.session.env.get("PATH")
        assert exe
        started = time.monotonic()
        p = subprocess.Popen(["tokensafe", "get", "auth0_token"], env=agents.session.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        assert p.poll() is None  # waiting for the agent
        os.kill(pid, signal.SIGKILL)
        out, err = p.communicate(timeout=30)
    finally:
        os.kill(pid, signal.SIGKILL)
    assert time.monotonic() - started < 30
    assert p.returncode == 0, err
    assert out.decode().strip() == PLANTED  # fell back to the passphrase
    assert b"unlock agent" in err and PLANTED.encode() not in err


def _connect_as_nobody(path: Path) -> str:
    """Connect to `path` as uid 65534 in a forked child; what happened, as text."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(str(path))
                with contextlib.suppress(BrokenPipeError):  # it may answer and close before reading
                    s.sendall(b'{"op":"get","name":"auth0_token"}\n')
                answer = s.makefile("rb").readline().decode()
            except OSError as e:
                answer = f"oserror {type(e).__name__}"
            os.write(w, answer.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def test_another_user_cannot_reach_the_socket(agents: Agents) -> None:
    if os.geteuid() != 0:
        import pytest

        pytest.skip("needs root to act as another user")
    agents.runtime.chmod(0o755)  # the tokensafe folder (0700) is what stops them
    agents.unlock()
    assert _connect_as_nobody(agents.socket()) == "oserror PermissionError"


def test_another_uid_is_refused_by_the_agent(agents: Agents) -> None:
    """Even past the file modes, the agent checks the peer's uid (SO_PEERCRED)."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("needs root to act as another user")
    agents.runtime.chmod(0o755)
    agents.unlock()
    sock = agents.socket()
    agents.folder().chmod(0o711)
    sock.chmod(0o666)
    try:
        answer = _connect_as_nobody(sock)
    finally:
        agents.folder().chmod(0o700)
        sock.chmod(0o600)
    reply = json.loads(answer)
    assert reply["ok"] is False and reply["error"] == "PolicyError" and "own user" in reply["message"]
    assert PLANTED not in answer
    records = [json.loads(x) for x in agents.session("log", "--json").stdout.splitlines()]
    assert records[-1]["verb"] == "connect" and records[-1]["uid"] == 65534
    assert records[-1]["outcome"].startswith("refused")


def test_the_planted_token_is_in_no_file(agents: Agents, home: Path) -> None:
    agents.unlock()
    agents.nopass("get", "auth0_token")
    agents.nopass("run", "--", "true")
    agents.nopass("set", "other", input="some-other-value-abcdef\n")
    agents.nopass("get", "nope")
    agents.session("log")
    agents.session("log", "--verify")
    assert agents.session("lock").returncode == 0
    assert files_containing(home, PLANTED.encode()) == []
    assert files_containing(agents.runtime, PLANTED.encode()) == []
    assert files_containing(Path(agents.session.cwd), PLANTED.encode()) == []
    agents.session.assert_no_leak(PLANTED)


def test_log_verify_through_the_command_finds_tampering(agents: Agents) -> None:
    agents.unlock()
    for _ in range(3):
        assert agents.nopass("get", "auth0_domain").returncode == 0
    log = Path(f"{agents.vault}.access.log")
    clean = log.read_bytes()
    assert agents.nopass("log", "--verify").returncode == 0  # asks the agent: no passphrase needed
    log.write_bytes(clean.replace(b'"tokensafe get"', b'"tokensafe xyz"', 1))
    r = agents.nopass("log", "--verify")
    # record 1 is the `unlock` (logged by the command that started the agent); 2 the first get
    assert r.returncode == 5 and b"access.log:2" in r.stderr and b"record 2 was changed" in r.stderr
    log.write_bytes(b"".join(clean.splitlines(keepends=True)[:-1]))  # the tail cut
    r = agents.nopass("log", "--verify")
    assert r.returncode == 5 and b"cut off" in r.stderr
    log.write_bytes(clean)
    assert agents.session("lock").returncode == 0  # the head is saved into the vault on the way out
    assert agents.session("log", "--verify").returncode == 0
    log.write_bytes(b"".join(clean.splitlines(keepends=True)[:-1]))
    r = agents.session("log", "--verify")  # without the agent: the vault remembers the head
    assert r.returncode == 5 and b"cut off" in r.stderr, r.stderr
    js = agents.session("log", "--verify", "--json")
    assert js.returncode == 5 and json.loads(js.stdout)["ok"] is False


def test_log_filters(agents: Agents) -> None:
    agents.unlock()
    agents.nopass("get", "auth0_domain")
    agents.nopass("get", "auth0_domain", "--env", "nope")
    shown = agents.session("log", "--env", "dev").stdout.decode()
    assert "auth0_domain" in shown and "nope" not in shown
    assert agents.session("log", "--since", "1h").stdout.decode().count("\n") == 3  # unlock + 2 gets
    assert agents.session("log", "--since", "2999-01-01").stdout == b""
    assert agents.session("log", "--since", "tomorrow").returncode == 2


def test_every_reader_and_writer_uses_the_agent(agents: Agents) -> None:
    agents.unlock()
    nopass = agents.nopass
    exported = nopass("export", "--format", "dotenv", "--only", "auth0_domain")
    assert exported.returncode == 0 and b"example.eu.auth0.com" in exported.stdout, exported.stderr
    injected = nopass("inject", input="host={{auth0_domain}}\n")
    assert injected.returncode == 0 and injected.stdout == b"host=example.eu.auth0.com\n", injected.stderr
    assert nopass("list").returncode == 0
    assert nopass("env", "create", "prod").returncode == 0
    assert nopass("set", "tmp", "--env", "prod", input="tmp-value-0123456789\n").returncode == 0
    assert nopass("rm", "tmp", "--env", "prod").returncode == 0
    missing = nopass("get", "nope")
    assert missing.returncode == 4 and b"no entry 'nope'" in missing.stderr  # errors keep their status
    records = [json.loads(x) for x in agents.session("log", "--json").stdout.splitlines()]
    writes = [(r["env"], r["names"]) for r in records if r["verb"] == "write"]
    assert writes == [("prod", []), ("prod", ["tmp"]), ("prod", ["tmp"])]
    assert records[-1]["verb"] == "get" and records[-1]["outcome"] == "error: NotFoundError"
    agents.session.assert_no_leak(PLANTED)


def test_a_frozen_agent_costs_a_timeout_not_a_hang(agents: Agents) -> None:
    agents.unlock()
    pid = agents.status()["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        r = agents.session("get", "auth0_token", timeout=60)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGKILL)
    print(f"fell back after {took:.1f} s")
    assert r.returncode == 0 and r.stdout.decode().strip() == PLANTED
    assert b"unlock agent stopped while answering (no answer in time)" in r.stderr
    assert took < 25  # one client timeout (10 s) and the unlock, not one timeout per question


def test_concurrent_unlocks_share_one_agent(agents: Agents) -> None:
    import shutil

    exe = shutil.which("tokensafe")
    procs = [subprocess.Popen([exe, "unlock"], env=agents.session.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [p.communicate(timeout=60) for p in procs]
    st = agents.status()
    agents.pids.append(st["pid"])
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e for _, e in results]
    pids = {int(err.split(b"agent pid ")[1].split()[0]) for _, err in results}
    assert pids == {st["pid"]}
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _is_agent_of(int(p), agents.vault)]
    assert mine == [str(st["pid"])]


# `get` through the agent: its own lean path ---------------------------------------------

LEAN_CHECK = """
import sys
before = set(sys.modules)
from vault.cli import run
rc = run(sys.argv[1:])
sys.stdout.flush()
sys.stderr.write("\\nNEW:" + ",".join(sorted(set(sys.modules) - before)))
sys.exit(rc)
"""
# What a `get` through the agent must not import: each costs milliseconds that `pass show` does not.
NOT_ON_THE_AGENT_PATH = ("click", "json", "typing", "pathlib", "platformdirs", "cryptography", "importlib",
                         "vault.service.context", "vault.store.vaultfile", "vault.store.unlock")


def lean_get(agents: Agents, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    r = subprocess.run([sys.executable, "-c", LEAN_CHECK, "get", *args], capture_output=True, timeout=60,
                       env={**agents.nopass.env, **(env or {})}, cwd=agents.nopass.cwd)
    err, _, new = r.stderr.decode().rpartition("\nNEW:")
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout, err.encode()), set(new.split(","))


def test_get_through_the_agent_imports_only_its_lean_path(agents: Agents) -> None:
    agents.unlock()
    r, new = lean_get(agents, "auth0_token")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == PLANTED + "\n"
    assert "vault.agent.client" in new  # it did ask the agent
    assert not {m for m in new if m.split(".")[0] in NOT_ON_THE_AGENT_PATH or m in NOT_ON_THE_AGENT_PATH}
    r, _ = lean_get(agents, "-n", "--env", "dev", "auth0_token")
    assert r.returncode == 0 and r.stdout.decode() == PLANTED
    missing, new = lean_get(agents, "no_such_name")  # the agent's error, with its own exit status
    assert missing.returncode == 4 and b"no_such_name" in missing.stderr
    agents.session.assert_no_leak(PLANTED)
    assert PLANTED.encode() not in missing.stderr


def test_get_through_the_agent_finds_the_default_vault(session, home: Path) -> None:
    """No --vault and no TOKENSAFE_VAULT: the fast path's default path is the agent's."""
    data = home / "xdg-data"
    vault = data / "tokensafe" / "vault.tokensafe"
    create_passphrase_vault(vault, entries={"auth0_token": PLANTED})
    runtime = Path(tempfile.mkdtemp(prefix="tsa-", dir="/tmp"))
    env = {k: v for k, v in session.env.items() if k != "TOKENSAFE_VAULT"}
    env.update(XDG_DATA_HOME=str(data), XDG_RUNTIME_DIR=str(runtime))
    exe = shutil.which("tokensafe")
    assert exe
    try:  # Session would add its TOKENSAFE_VAULT back
        r = subprocess.run([exe, "unlock", "--for", "1m"], env=env, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        nopass = {k: v for k, v in env.items() if k != "TOKENSAFE_PASSPHRASE"}
        r = subprocess.run([sys.executable, "-c", LEAN_CHECK, "get", "auth0_token"], env=nopass,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode() == PLANTED + "\n"
        assert "platformdirs" not in r.stderr.decode().rpartition("\nNEW:")[2].split(",")
    finally:
        subprocess.run([exe, "lock"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(runtime, ignore_errors=True)


def test_get_through_the_agent_writes_a_large_value_whole_and_keeps_its_status(agents: Agents) -> None:
    """The fast path ends the process without the interpreter's teardown: its output is all there first."""
    agents.unlock()
    big = "tsBIG" + "0123456789abcdef" * 40_000  # 640 KB: many pipe buffers
    assert agents.nopass("set", "big", input=big + "\n").returncode == 0
    r = agents.nopass("get", "big")
    assert r.returncode == 0, r.stderr
    assert r.stdout == big.encode() + b"\n" and r.stderr == b""
    exe = shutil.which("tokensafe")
    assert exe
    # A reader that stops early: no error, no traceback, status 0 (as without the agent).
    p = subprocess.run(f"'{exe}' get big | head -c 5", shell=True, env=agents.nopass.env,
                       capture_output=True, timeout=60)
    assert p.stdout == b"tsBIG" and b"Traceback" not in p.stderr and b"error" not in p.stderr
    assert agents.nopass("get", "missing_name").returncode == 4
