"""VaultStore: unlock before the lock, re-read under it, compare-and-swap, one prompt per command."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_passphrase_vault

from vault import prompting
from vault.errors import BusyError, NotFoundError
from vault.store import keysources
from vault.store.backend import ConflictError, LocalFile
from vault.store.model import Entry
from vault.store.unlock import Unlocker
from vault.store.vaultfile import VaultStore


class CountingPrompter(prompting.NoPrompter):
    """Gives the passphrase up front, counts how often, and can run a check each time."""

    def __init__(self, secret: str = PASSPHRASE, check=None) -> None:
        self.secret, self.calls, self.check = secret, 0, check

    def supplied(self, what: str) -> str | None:
        if what != prompting.PASSPHRASE:
            return None
        self.calls += 1
        if self.check:
            self.check()
        return self.secret


def store_at(path: Path, prompter: prompting.Prompter | None = None) -> VaultStore:
    return VaultStore.local(path, Unlocker(use_keyring=False, prompter=prompter or CountingPrompter()))


def add(store: VaultStore, name: str) -> None:
    with store.edit() as opened:
        opened.data.env().entries[name] = Entry.new(name, f"value-{name}")


def test_the_key_is_derived_before_the_lock_is_taken(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    seen = []

    def lock_is_free() -> None:  # another holder can take it: we do not hold it while unlocking
        with LocalFile(vault_path).lock(0):
            seen.append(True)

    prompter = CountingPrompter(check=lock_is_free)
    add(store_at(vault_path, prompter), "a")
    assert seen == [True] and prompter.calls == 1


def test_a_write_that_landed_while_we_unlocked_is_kept(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    ours = store_at(vault_path)
    opened = ours.read()  # unlocked, not yet locked
    add(store_at(vault_path), "theirs")  # another writer gets in first
    with ours.edit(opened) as latest:
        assert "theirs" in latest.data.env().entries  # the block sees the latest generation
        latest.data.env().entries["ours"] = Entry.new("ours", "value-ours")
    got = store_at(vault_path).read()
    assert set(got.data.env().entries) == {"theirs", "ours"}
    assert got.header.generation == 3


def test_changed_keyslots_unlock_again_without_asking_again(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    prompter = CountingPrompter()
    ours = store_at(vault_path, prompter)
    opened = ours.read()
    other = store_at(vault_path)
    with other.edit() as o:  # someone adds a recovery slot meanwhile
        slot, _ = keysources.RECOVERY.new_slot("k2", o.header.vault_id, o.data_key)
        o.header.keyslots.append(slot)
    with ours.edit(opened) as latest:
        assert [s.id for s in latest.header.keyslots] == ["k1", "k2"]
        latest.data.env().entries["x"] = Entry.new("x", "value-x")
    assert prompter.calls == 1  # the unlocker kept the passphrase
    assert "x" in store_at(vault_path).read().data.env().entries


class UnlockedFile(LocalFile):
    """A backend whose lock excludes no one (as a remote store without locks): CAS must catch races."""

    def __init__(self, path: Path, race: list) -> None:
        super().__init__(path)
        self.race = race
        self.writing = False

    @contextlib.contextmanager
    def lock(self, wait_s: float | None = None) -> Iterator[None]:
        if self.writing:  # the write itself stays atomic
            with super().lock(wait_s):
                yield
            return
        yield

    def write(self, data: bytes, expected: str | None) -> str:
        if self.race:  # another writer slips in between our read and our write
            self.race.pop()()
        self.writing = True
        try:
            return super().write(data, expected)
        finally:
            self.writing = False


def test_update_retries_a_lost_compare_and_swap(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    race = [lambda: add(store_at(vault_path), "theirs")]
    store = VaultStore(UnlockedFile(vault_path, race), Unlocker(use_keyring=False, prompter=CountingPrompter()),
                       fingerprints_for=vault_path, path=vault_path)
    runs = []

    def change(opened) -> str:
        runs.append(opened.header.generation)
        opened.data.env().entries["ours"] = Entry.new("ours", "value-ours")
        return "done"

    assert store.update(change) == "done"
    assert len(runs) == 2  # the first attempt lost the race and was redone on the new generation
    assert set(store_at(vault_path).read().data.env().entries) == {"theirs", "ours"}


def test_update_gives_up_after_its_attempts(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    race = [lambda i=i: add(store_at(vault_path), f"t{i}") for i in range(3)]
    store = VaultStore(UnlockedFile(vault_path, race), Unlocker(use_keyring=False, prompter=CountingPrompter()))
    with pytest.raises(ConflictError) as exc:
        store.update(lambda o: None, attempts=3)
    assert isinstance(exc.value, BusyError) and exc.value.exit_code == 6


def test_header_needs_no_key_and_a_missing_vault_is_not_found(vault_path: Path) -> None:
    with pytest.raises(NotFoundError):
        VaultStore.local(vault_path).header()
    create_passphrase_vault(vault_path)
    assert [s.type for s in VaultStore.local(vault_path).header().keyslots] == ["passphrase"]
    with pytest.raises(NotFoundError, match="no backup"):
        store_at(vault_path).restore_backup()


def test_restore_backup_through_the_store(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    add(store_at(vault_path), "a")
    add(store_at(vault_path), "b")
    opened, kept = store_at(vault_path).restore_backup()
    assert set(opened.data.env().entries) == {"a"} and kept is not None
    assert set(store_at(vault_path).read().data.env().entries) == {"a"}


def test_the_fingerprint_sidecar_is_rewritten_only_when_it_changes(vault_path: Path) -> None:
    from vault.store.paths import fingerprints_path

    create_passphrase_vault(vault_path)
    fp = fingerprints_path(vault_path)
    before = fp.stat().st_ino
    add(store_at(vault_path), "note")  # short text: no fingerprint, the sidecar stays
    assert fp.stat().st_ino == before
    with store_at(vault_path).edit() as opened:
        opened.data.env().entries["tok"] = Entry.new("tok", "tok_0123456789abcdefGHIJ")
    assert fp.stat().st_ino != before and len(json.loads(fp.read_bytes())["fingerprints"]) == 1
    os.chmod(fp, 0o644)  # a loosened mode is repaired by the next write, change or not
    add(store_at(vault_path), "note2")
    assert stat.S_IMODE(fp.stat().st_mode) == 0o600
