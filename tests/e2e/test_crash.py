"""Writers killed with SIGKILL at random moments: the vault always opens, old state or new."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_passphrase_vault

from vault.store import format, vaultfile
from vault.store.unlock import Unlocker

pytestmark = pytest.mark.e2e

# Adds n0, n1, … one write each, appending "i\n" to the ack file once write i is on disk;
# runs until killed. Run with exec() in a process forked from a forkserver that has already
# imported the store, so each of the many writers starts in milliseconds.
WRITER = """
import os
from pathlib import Path
from vault.store.model import Entry
from vault.store.unlock import Unlocker
from vault.store.vaultfile import edit_vault

u = Unlocker(use_keyring=False, _passphrase=passphrase)
acks = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
i = start
while True:
    with edit_vault(Path(path), u) as opened:
        opened.data.env().entries[f"n{i}"] = Entry.new(f"n{i}", f"value-{i}-" + "x" * (i % 300))
    os.write(acks, f"{i}\\n".encode())
    i += 1
"""


def writers():  # noqa: ANN201 - a multiprocessing context
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["vault.store.vaultfile", "vault.store.model"])
    return ctx


def read(path: Path) -> vaultfile.OpenVault:
    return vaultfile.read_vault(path, Unlocker(use_keyring=False, _passphrase=PASSPHRASE))


def names(path: Path) -> set[str]:
    return set(read(path).data.env().entries)


def test_sigkill_during_writes_leaves_old_or_new(vault_path: Path, tmp_path: Path) -> None:
    create_passphrase_vault(vault_path)
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    ctx = writers()
    count, deadline, iterations, mid_write = 0, time.monotonic() + 30, 0, 0
    while iterations < 60 and time.monotonic() < deadline:
        iterations += 1
        ack_file = tmp_path / f"acks-{iterations}"
        ack_file.touch()
        p = ctx.Process(target=exec, args=(WRITER, {
            "path": str(vault_path), "start": count, "ack_file": str(ack_file),
            "passphrase": PASSPHRASE}), daemon=True)
        p.start()
        time.sleep(rng.uniform(0.01, 0.25))
        os.kill(p.pid, signal.SIGKILL)
        p.join(30)
        assert p.exitcode == -signal.SIGKILL, f"the writer died by itself (exit {p.exitcode})"
        acked = [int(x) for x in ack_file.read_text().split()]
        assert acked == list(range(count, count + len(acked)))
        last = acked[-1] if acked else count - 1
        # The file opens (never an integrity error) and holds the acknowledged state,
        # or that plus the one write that was in flight: nothing between, nothing lost.
        got = names(vault_path)
        old = {f"n{i}" for i in range(last + 1)}
        new = old | {f"n{last + 1}"}
        assert got in (old, new), f"iteration {iterations}: {len(got)} entries, acked {last + 1}"
        mid_write += got == new
        count = len(got)
        format.parse(vault_path.read_bytes())
    assert iterations >= 20, "too few iterations to mean anything"
    assert count >= 10, "the writers hardly wrote: the kills tested nothing"
    # The next ordinary write cleans up whatever the killed writers left behind.
    with vaultfile.edit_vault(vault_path, Unlocker(use_keyring=False, _passphrase=PASSPHRASE)):
        pass
    assert sorted(p.name for p in vault_path.parent.iterdir()) == sorted(
        [vault_path.name, *(vault_path.name + x for x in (".bak", ".fp", ".lock"))])
    assert read(vault_path.with_name(vault_path.name + ".bak")).header.generation >= count


def test_sigkill_of_the_installed_set(session, vault_path: Path, tmp_path: Path) -> None:
    """`tokensafe set` killed at random moments: the vault opens with the old value or the new."""
    create_passphrase_vault(vault_path, entries={"t": "value-0"})
    exe = shutil.which("tokensafe")
    env = {**session.env, "TOKENSAFE_VAULT": str(vault_path)}
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    current, outcomes = 0, {"old": 0, "new": 0}
    deadline = time.monotonic() + 30
    for i in range(1, 31):
        if time.monotonic() > deadline:
            break
        errlog = tmp_path / f"stderr-{i}"
        with errlog.open("wb") as errf:
            p = subprocess.Popen([exe, "set", "t"], env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=errf)
        assert p.stdin is not None
        p.stdin.write(f"value-{i}".encode())
        p.stdin.close()
        time.sleep(rng.uniform(0.05, 0.35))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        assert p.returncode in (0, -signal.SIGKILL), errlog.read_text()[-2000:]
        value = read(vault_path).data.env().get("t").value.reveal()
        assert value in (f"value-{current}", f"value-{i}"), (i, value)
        if value == f"value-{i}":
            outcomes["new"] += 1
            current = i
        else:
            outcomes["old"] += 1
    assert sum(outcomes.values()) >= 10
