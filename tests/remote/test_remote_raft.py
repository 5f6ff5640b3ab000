"""A three-node OpenBao Raft cluster on 127.0.0.1 loses its leader to SIGKILL mid-traffic.

A loop of check-and-set pushes and reads runs through the client (all three addresses)
while the leader is killed: no acknowledged write may be lost or applied twice, the loop
must carry on through the survivors once a new leader is elected, the installed command
must too, and the restarted node must catch up. Prints the time without a leader and the
client's longest stall. Bounded: the cluster starts in ~12 s, the whole test in under a minute.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import NO_KEYRING, PASSPHRASE, PLANTED, Session, create_passphrase_vault
from tests.remote.bao import health, raft_cluster, wait_health
from vault.errors import NetworkError
from vault.remote.kv import KVClient
from vault.store.backend import ConflictError

pytestmark = pytest.mark.e2e

KEY = "loop/counter"  # the loop's key; the command uses teams/raft/


def _session(tmp_path: Path) -> Session:
    home = tmp_path / "home"
    for sub in ("", ".local/share", ".config", ".cache", "run"):
        (home / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENSAFE_", "BAO_", "VAULT_"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_RUNTIME_DIR=str(home / "run"),
               TOKENSAFE_VAULT=str(home / "vaultdir" / "vault.tokensafe"),
               TOKENSAFE_PASSPHRASE=PASSPHRASE, PYTHON_KEYRING_BACKEND=NO_KEYRING)
    create_passphrase_vault(home / "vaultdir" / "vault.tokensafe", "dev")
    return Session(env, home)


def test_pushes_and_reads_survive_a_leader_killed_with_sigkill(tmp_path: Path) -> None:
    started = time.monotonic()
    with raft_cluster(tmp_path / "raft") as cluster:
        print(*cluster.log)
        leader = cluster.leader()
        assert leader is not None
        survivors = [n for n in cluster.nodes if n is not leader]
        # The client knows every node, the leader first: it must move on when that one dies.
        urls = [leader.url] + [n.url for n in survivors]
        writes = KVClient(urls, cluster.root_token, "secret", timeout=20)
        session = _session(tmp_path)
        add = session("remote", "add", "raft", "--url", urls[0], "--url", urls[1], "--url", urls[2],
                      "--path", "teams/raft", "--timeout", "20", input=cluster.root_token + "\n")
        assert add.returncode == 0, add.stderr
        assert session("set", "auth0_token", input=PLANTED).returncode == 0

        acked: list[int] = []  # writes the server acknowledged
        failed: list[int] = []  # writes that ended in an error (they may or may not have landed)
        stalls: list[float] = []
        stop = threading.Event()
        errors: list[BaseException] = []

        def loop() -> None:
            i = 0
            try:
                while not stop.is_set():
                    t = time.monotonic()
                    found = writes.read(KEY)
                    data, version = found if found else ({"log": ""}, 0)
                    try:
                        writes.write(KEY, {"log": data["log"] + f"{i},"}, version)
                        acked.append(i)
                    except ConflictError:
                        failed.append(i)  # cannot happen with one writer, checked below
                    except NetworkError:
                        failed.append(i)
                    # read-your-writes: whichever node answers, the client sees what it wrote
                    got = writes.read(KEY)
                    assert got is not None and all(f"{a}," in got[0]["log"] for a in acked[-1:]), "stale read"
                    stalls.append(time.monotonic() - t)
                    i += 1
            except BaseException as e:  # re-raised in the test's thread
                errors.append(e)

        worker = threading.Thread(target=loop)
        worker.start()
        while len(acked) < 10 and worker.is_alive():
            time.sleep(0.02)
        assert len(acked) >= 10, errors
        killed_at = time.monotonic()
        assert leader.proc is not None
        os.kill(leader.proc.pid, signal.SIGKILL)
        leader.proc.wait(5)
        before = len(acked)
        # time without a leader: until a survivor says it is active
        while not any(health(n.url, 0.5) == 200 for n in survivors):
            assert time.monotonic() - killed_at < 30, "no new leader after 30 s"
            time.sleep(0.05)
        leaderless = time.monotonic() - killed_at
        while len(acked) < before + 10 and worker.is_alive():
            assert time.monotonic() - killed_at < 40, "the client did not continue after the election"
            time.sleep(0.02)
        # the installed command, too, gets through the survivors (its first address is dead)
        got = session("get", "--remote", "raft", "--env", "dev", "auth0_token")
        assert got.returncode == 4 and b"no environment" in got.stderr, got.stderr  # reached a survivor
        push = session("push", "dev", "--remote", "raft")
        assert push.returncode == 0, push.stderr
        got = session("get", "--remote", "raft", "--env", "dev", "auth0_token")
        assert got.returncode == 0 and got.stdout.decode() == PLANTED + "\n", got.stderr
        stop.set()
        worker.join(30)
        assert not errors, errors

        final = writes.read(KEY)
        assert final is not None
        log = [int(x) for x in final[0]["log"].split(",") if x]
        assert len(log) == len(set(log)), "a write was applied twice"
        assert set(acked) <= set(log), f"acknowledged writes lost: {sorted(set(acked) - set(log))}"
        final_version = final[1]

        # restart the killed node: it comes back sealed, is unsealed, and catches up
        restarted_at = time.monotonic()
        cluster.start(leader)
        wait_health(leader.url, (503, 429, 200), 30)
        cluster.unseal(leader)
        wait_health(leader.url, (429, 200), 30)
        alone = KVClient([leader.url], cluster.root_token, "secret", timeout=20)
        while True:
            mine = alone.read(KEY)
            if mine is not None and mine[1] >= final_version and mine[0]["log"] == final[0]["log"]:
                break
            assert time.monotonic() - restarted_at < 30, "the restarted node did not catch up"
            time.sleep(0.1)
        caught_up = time.monotonic() - restarted_at
        report = {"writes_acknowledged": len(acked), "writes_failed": len(failed),
                  "leaderless_s": round(leaderless, 2), "client_longest_stall_s": round(max(stalls), 2),
                  "restarted_node_caught_up_s": round(caught_up, 2),
                  "total_s": round(time.monotonic() - started, 1)}
        print("raft failover:", json.dumps(report))
        assert max(stalls) < 20
        session.assert_no_leak(PLANTED, allow_stdout_of=("get",))
