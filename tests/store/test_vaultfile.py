"""The vault file on disk: atomic writes, backup, stray files, lock, sidecars."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, PLANTED, create_passphrase_vault

from vault.errors import BusyError, IntegrityError
from vault.store import fileio, fingerprints, vaultfile
from vault.store.model import Entry
from vault.store.paths import backup_path, fingerprints_path, lock_path
from vault.store.unlock import Unlocker


def unlocker() -> Unlocker:
    return Unlocker(use_keyring=False, _passphrase=PASSPHRASE)


def add(path: Path, name: str, value: str) -> None:
    with vaultfile.edit_vault(path, unlocker()) as opened:
        opened.data.env().entries[name] = Entry.new(name, value)


def test_generation_and_backup(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    assert not backup_path(vault_path).exists()  # nothing to keep after the first write
    first = vault_path.read_bytes()
    add(vault_path, "a", "value-a")
    assert backup_path(vault_path).read_bytes() == first
    second = vault_path.read_bytes()
    add(vault_path, "b", "value-b")
    assert backup_path(vault_path).read_bytes() == second
    assert vaultfile.read_vault(vault_path, unlocker()).header.generation == 3


def test_stray_files_of_crashed_writers_are_cleaned_by_the_next_write(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    folder = vault_path.parent
    strays = [folder / f".{vault_path.name}.k2j3h4.tmp", folder / f".{vault_path.name}.fp.x1y2.tmp",
              folder / f".{vault_path.name}.bak.4242.link"]
    for p in strays:
        p.write_bytes(b"half a vault")
    add(vault_path, "a", "value-a")
    assert [p.name for p in strays if p.exists()] == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [vault_path.name, *(vault_path.name + s for s in (".bak", ".fp", ".lock"))])


def test_write_after_a_crash_that_left_the_backup_as_the_current_file(vault_path: Path) -> None:
    """A writer killed between linking the backup and replacing the vault leaves .bak and the
    vault as one file; the next write must still leave no stray link and a right backup."""
    create_passphrase_vault(vault_path)
    add(vault_path, "a", "value-a")
    bak = backup_path(vault_path)
    bak.unlink()
    os.link(vault_path, bak)
    current = vault_path.read_bytes()
    add(vault_path, "b", "value-b")
    assert [p.name for p in vault_path.parent.iterdir() if p.name.endswith(".link")] == []
    assert bak.read_bytes() == current
    assert not os.path.samefile(bak, vault_path)


def test_a_failed_edit_writes_nothing(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    before = vault_path.read_bytes()
    with pytest.raises(RuntimeError), vaultfile.edit_vault(vault_path, unlocker()) as opened:
        opened.data.env().entries["a"] = Entry.new("a", "value-a")
        raise RuntimeError("boom")
    assert vault_path.read_bytes() == before


def test_tampered_vault_is_never_overwritten(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    raw = bytearray(vault_path.read_bytes())
    raw[-1] ^= 1
    vault_path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError), vaultfile.edit_vault(vault_path, unlocker()):
        pytest.fail("the block must not run")
    assert vault_path.read_bytes() == bytes(raw)


def test_fingerprint_sidecar_holds_no_value(vault_path: Path) -> None:
    guessable = {"d": "example.eu.auth0.com", "u": "https://example.eu.auth0.com/api/v2/",
                 "pw": "correct horse battery", "short": "Xk29fjQ83nVb"}
    create_passphrase_vault(vault_path, entries={"t": PLANTED, **guessable})
    fp = fingerprints_path(vault_path)
    doc = json.loads(fp.read_text())
    assert PLANTED not in fp.read_text() and "auth0" not in fp.read_text()
    key = vaultfile.read_vault(vault_path, unlocker()).data.fingerprint_key
    known = fingerprints.load_known(vault_path, key) or set()
    assert base64.b64encode(key).decode() not in fp.read_text()  # the key stays in the vault
    from vault import crypto

    assert crypto.fingerprint(key, PLANTED) in known
    for value in guessable.values():  # guessable at HMAC speed: left out
        assert crypto.fingerprint(key, value) not in known, value
    assert len(doc["fingerprints"]) == 1
    assert oct(fp.stat().st_mode & 0o777) == "0o600"


def test_lock_waits_then_gives_up_with_a_message(vault_path: Path) -> None:
    create_passphrase_vault(vault_path)
    release = threading.Event()
    held = threading.Event()

    def holder() -> None:
        with fileio.locked(lock_path(vault_path)):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        held.wait(5)
        started = time.monotonic()
        with pytest.raises(BusyError) as exc, fileio.locked(lock_path(vault_path), wait_s=0.3):
            pass
        assert "locked by another tokensafe process" in exc.value.message
        assert exc.value.exit_code == 6
        assert time.monotonic() - started < 10
    finally:
        release.set()
        t.join()
    with fileio.locked(lock_path(vault_path), wait_s=0.3):
        pass  # free again


def test_atomic_write_keeps_mode_private_under_any_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "f"
        fileio.atomic_write(target, b"one")
        fileio.atomic_write(target, b"two", keep_backup=tmp_path / "f.bak")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"two" and (tmp_path / "f.bak").read_bytes() == b"one"
    assert target.stat().st_mode & 0o777 == 0o600


def test_folders_created_for_a_vault_are_private_parents_included(tmp_path: Path) -> None:
    from vault.store.fileio import ensure_private_dir

    old = os.umask(0)
    try:
        ensure_private_dir(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    for d in ("a", "a/b", "a/b/c"):
        assert stat.S_IMODE((tmp_path / d).stat().st_mode) == 0o700, d
