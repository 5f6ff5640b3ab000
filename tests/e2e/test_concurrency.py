"""Many writers at once through the installed command, on a machine kept busy: no update is
lost and no writer gives up.

Every core runs a busy loop while 16 processes each run `tokensafe set` 10 times. A writer
unlocks (Argon2id) before it takes the lock, then waits for the lock by blocking, not by
polling: with the old polling wait, writers lost the race again and again and timed out
(8 of 80 on a busy 2-core machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_passphrase_vault

from vault import crypto
from vault.store import vaultfile
from vault.store.unlock import Unlocker

pytestmark = pytest.mark.e2e

WORKERS, EACH = 16, 10
HOG = "while True: pass"
# A test KDF (stored in the slot, so the subprocesses use it too) that costs something, like
# a real one but ~25 ms: a writer that derived its key while holding the lock would make
# the others queue behind every derivation.
SOME_KDF = crypto.KdfParams(iterations=1, lanes=1, memory_kib=16 * 1024)


def test_16_writers_on_a_busy_machine_lose_nothing_and_never_give_up(
        session, vault_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_test_kdf_params", SOME_KDF)
    create_passphrase_vault(vault_path)
    exe = shutil.which("tokensafe")
    assert exe
    script = (f'for i in $(seq 1 {EACH}); do printf "value-$W-$i" | "{exe}" set "w${{W}}_$i" '
              '|| { echo "set w${W}_$i failed" >&2; exit 1; }; done')
    env = {**session.env, "TOKENSAFE_VAULT": str(vault_path)}
    env.pop("TOKENSAFE_LOCK_WAIT", None)  # the default wait is what is tested
    hogs = [subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.DEVNULL)
            for _ in range(os.cpu_count() or 2)]
    try:
        started = time.monotonic()
        procs = [subprocess.Popen(["bash", "-c", script], env={**env, "W": str(w)},
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for w in range(WORKERS)]
        errors = []
        for p in procs:
            _, err = p.communicate(timeout=300)
            if p.returncode != 0:
                errors.append(err.decode()[-500:])
        elapsed = time.monotonic() - started
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()
    assert not errors, f"{len(errors)} of {WORKERS} writers failed: {errors[:3]}"

    opened = vaultfile.read_vault(vault_path, Unlocker(use_keyring=False, _passphrase=PASSPHRASE))
    entries = opened.data.env("dev").entries
    want = {f"w{w}_{i}" for w in range(WORKERS) for i in range(1, EACH + 1)}
    assert set(entries) == want, f"lost: {sorted(want - set(entries))[:10]}"
    assert all(entries[f"w{w}_{i}"].value.reveal() == f"value-{w}-{i}"
               for w in range(WORKERS) for i in range(1, EACH + 1))
    assert opened.header.generation == 1 + WORKERS * EACH  # every write counted once
    assert not list(vault_path.parent.glob("*.tmp")), "a writer left a temporary file"
    backup = vaultfile.read_vault(vault_path.with_name(vault_path.name + ".bak"),
                                  Unlocker(use_keyring=False, _passphrase=PASSPHRASE))
    assert backup.header.generation == WORKERS * EACH
    assert len(backup.data.env("dev").entries) == WORKERS * EACH - 1
    print(f"{WORKERS * EACH} writes in {elapsed:.1f} s with {len(hogs)} busy cores")


def test_a_held_lock_makes_set_wait_then_exit_6_with_a_hint(session, vault_path: Path) -> None:
    import fcntl
    import threading

    create_passphrase_vault(vault_path)
    before = vault_path.read_bytes()
    fd = os.open(vault_path.with_name(vault_path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another tokensafe in the middle of a write
        started = time.monotonic()
        r = session("set", "x", input="value-x", env={"TOKENSAFE_LOCK_WAIT": "0.5"})
        assert r.returncode == 6, r.stderr
        assert time.monotonic() - started < 20
        assert b"locked by another tokensafe process" in r.stderr and b"TOKENSAFE_LOCK_WAIT" in r.stderr
        assert vault_path.read_bytes() == before

        threading.Timer(1.0, lambda: fcntl.flock(fd, fcntl.LOCK_UN)).start()  # the other writer finishes
        r = session("set", "x", input="value-x", env={"TOKENSAFE_LOCK_WAIT": "60"})
        assert r.returncode == 0, r.stderr
    finally:
        os.close(fd)
    assert vault_path.read_bytes() != before
