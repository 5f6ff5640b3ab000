"""Many writers at once through the installed command: the lock loses no update."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_passphrase_vault

from vault.store import vaultfile
from vault.store.unlock import Unlocker

pytestmark = pytest.mark.e2e

WORKERS, EACH = 8, 25


def test_8_processes_each_adding_25_entries(session, vault_path: Path) -> None:
    create_passphrase_vault(vault_path)  # cheap KDF: the 200 unlocks stay fast
    exe = shutil.which("tokensafe")
    script = f'for i in $(seq 1 {EACH}); do printf "value-$W-$i" | "{exe}" set "w${{W}}_$i" || exit 1; done'
    env = {**session.env, "TOKENSAFE_VAULT": str(vault_path)}
    started = time.monotonic()
    procs = [subprocess.Popen(["bash", "-c", script], env={**env, "W": str(w)},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for w in range(WORKERS)]
    errors = []
    for p in procs:
        _, err = p.communicate(timeout=240)
        if p.returncode != 0:
            errors.append(err.decode()[-500:])
    assert not errors, errors
    assert time.monotonic() - started < 240

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
