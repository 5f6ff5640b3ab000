"""#15 finding 1: copies of a vault share keyring slots; a keyring handle is random, never reused
or overwritten, and `keys rm` keeps the keyring secret unless --purge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.security._format_helpers import MemoryKeyring


def test_keys_rm_on_a_copy_does_not_lock_the_original_out(cli, vault_path: Path, monkeypatch) -> None:
    ring = MemoryKeyring(monkeypatch)
    monkeypatch.delenv("TOKENSAFE_PASSPHRASE")
    assert cli(["init", "--no-recovery"]).code == 0
    assert cli(["set", "tok"], input="value-of-the-original").code == 0
    copy = vault_path.with_name("copy.tokensafe")
    shutil.copy2(vault_path, copy)
    monkeypatch.setenv("TOKENSAFE_NEW_PASSPHRASE", PASSPHRASE)
    assert cli(["keys", "add", "passphrase", "--vault", str(copy)]).code == 0
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", PASSPHRASE)
    r = cli(["keys", "rm", "k1", "--vault", str(copy)])
    assert r.code == 0, r.stderr
    monkeypatch.delenv("TOKENSAFE_PASSPHRASE")
    got = cli(["get", "tok"])  # the original: still opens from the keyring alone
    assert (got.code, got.stdout) == (0, "value-of-the-original\n"), got.stderr
    assert len(ring.items) == 1


def test_handles_are_random_and_a_new_slot_never_overwrites_one(cli, vault_path: Path, monkeypatch) -> None:
    ring = MemoryKeyring(monkeypatch)
    monkeypatch.delenv("TOKENSAFE_PASSPHRASE")
    assert cli(["init", "--no-recovery"]).code == 0
    copy = vault_path.with_name("copy.tokensafe")
    shutil.copy2(vault_path, copy)
    before = dict(ring.items)
    assert cli(["keys", "add", "keyring", "--vault", str(copy)]).code == 0
    assert all(ring.items[k] == v for k, v in before.items())  # nothing overwritten
    listing = json.loads(cli(["keys", "list", "--json", "--vault", str(copy)]).stdout)
    accounts = [s["detail"].split("account=")[1] for s in listing["keyslots"]]
    assert len(set(accounts)) == 2
    assert not any(listing["vault_id"] in a for a in accounts)  # nothing that links to the vault id


@pytest.mark.parametrize("purge", [False, True])
def test_keys_rm_keeps_the_keyring_secret_unless_purge(cli, vault: Path, monkeypatch, purge: bool) -> None:
    ring = MemoryKeyring(monkeypatch)
    assert cli(["keys", "add", "keyring"]).code == 0
    assert len(ring.items) == 1
    r = cli(["keys", "rm", "k2", *(["--purge"] if purge else [])])
    assert r.code == 0, r.stderr
    assert len(ring.items) == (0 if purge else 1)
    assert ("copies and backups" in r.stderr) is purge


def test_slot_ids_are_not_reused_below_a_higher_one(cli, vault: Path, monkeypatch) -> None:
    MemoryKeyring(monkeypatch)
    for _ in range(2):
        assert cli(["keys", "add", "keyring"]).code == 0
    assert cli(["keys", "rm", "k2"]).code == 0
    assert cli(["keys", "add", "keyring"]).code == 0
    ids = [s["id"] for s in json.loads(cli(["keys", "list", "--json"]).stdout)["keyslots"]]
    assert ids == ["k1", "k3", "k4"]
