"""Create, read and change a vault file (format: SECURITY.md; bytes: `format.py`)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vault import crypto
from vault.errors import FileSystemError, IntegrityError, NotFoundError, UsageError
from vault.store import fileio, fingerprints, format
from vault.store.model import VaultData
from vault.store.paths import backup_path, display, lock_path
from vault.store.unlock import Unlocker


@dataclass
class OpenVault:
    path: Path
    header: format.Header
    data_key: bytes
    data: VaultData
    slot_id: str  # the keyslot that unlocked it

    def __repr__(self) -> str:
        return f"OpenVault(path={str(self.path)!r}, generation={self.header.generation})"


def _missing(path: Path) -> NotFoundError:
    return NotFoundError(f"no vault at {display(path)}",
                         "create one with `tokensafe init`, or point --vault / TOKENSAFE_VAULT at it")


def read_bytes(path: Path) -> bytes:
    try:
        fileio.check_permissions(path.parent, is_dir=True)
        fileio.check_permissions(path)
        return path.read_bytes()
    except FileNotFoundError:
        raise _missing(path) from None
    except IsADirectoryError:
        raise UsageError(f"{display(path)} is a folder, not a vault file") from None
    except PermissionError:
        raise FileSystemError(f"cannot read {display(path)} (permission denied)") from None


def decode(path: Path, raw: bytes, unlocker: Unlocker) -> OpenVault:
    parsed = format.parse(raw)
    data_key, slot_id = unlocker.unlock(parsed.header)
    try:
        plain = crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)
        data = VaultData.from_bytes(plain)
    except (crypto.AuthenticationFailed, ValueError, KeyError, TypeError):
        # A keyslot opened, so the key is right: the payload or header was changed.
        raise IntegrityError(
            "vault integrity check failed: the payload does not authenticate",
            "the file was changed and has not been touched; `tokensafe backup restore` "
            "brings back the previous generation",
        ) from None
    return OpenVault(path, parsed.header, data_key, data, slot_id)


def read_vault(path: Path, unlocker: Unlocker) -> OpenVault:
    return decode(path, read_bytes(path), unlocker)


def encode(opened: OpenVault) -> bytes:
    plain = opened.data.to_bytes()
    return format.build(opened.header,
                        lambda aad: crypto.seal(opened.data_key, plain, aad))


def _write(opened: OpenVault) -> None:
    """Seal and atomically replace; the caller holds the lock."""
    opened.header.generation += 1
    fileio.clean_stale_temps(opened.path)
    fileio.atomic_write(opened.path, encode(opened), keep_backup=backup_path(opened.path))
    fingerprints.write(opened.path, opened.data)


@contextlib.contextmanager
def edit_vault(path: Path, unlocker: Unlocker) -> Iterator[OpenVault]:
    """Read-modify-write under the lock; nothing is written if the block raises."""
    if not path.exists():
        raise _missing(path)
    with fileio.locked(lock_path(path)):
        opened = read_vault(path, unlocker)
        yield opened
        _write(opened)


def create_vault(path: Path, header_slots, data: VaultData | None = None) -> OpenVault:
    """Write a new vault. `header_slots(vault_id, data_key) -> list[Keyslot]` makes the slots."""
    fileio.ensure_private_dir(path.parent)
    with fileio.locked(lock_path(path)):
        if path.exists():
            raise UsageError(f"a vault already exists at {display(path)}",
                             "use it, or pick another file with --vault; nothing was changed")
        vault_id = crypto.random_bytes(16).hex()
        data_key = crypto.random_bytes(crypto.KEY_LEN)
        data = data or VaultData()
        if not data.fingerprint_key:
            data.fingerprint_key = crypto.random_bytes(crypto.KEY_LEN)
        header = format.Header(vault_id, 0, int(time.time()), header_slots(vault_id, data_key))
        opened = OpenVault(path, header, data_key, data, header.keyslots[0].id)
        _write(opened)
        return opened


def _keep_aside(path: Path) -> Path:
    """Hard-link `path` to a new `NAME.replaced-TIME[-N]` (never over an earlier one)."""
    stamp, n = int(time.time()), 0
    while True:
        kept = path.with_name(f"{path.name}.replaced-{stamp}" + (f"-{n}" if n else ""))
        try:
            os.link(path, kept)
            return kept
        except FileExistsError:
            n += 1


def restore_backup(path: Path, unlocker: Unlocker) -> tuple[OpenVault, Path | None]:
    """Bring back the previous generation, after checking that it opens with our key.

    The current file (perhaps damaged) is kept beside it, never lost; returns its new name.
    """
    bak = backup_path(path)
    if not path.parent.is_dir():
        raise _missing(path)
    with fileio.locked(lock_path(path)):
        if not bak.exists():
            raise NotFoundError(f"no backup at {display(bak)}",
                                "a backup is kept from the second write of a vault on")
        raw = read_bytes(bak)
        opened = decode(path, raw, unlocker)
        kept = _keep_aside(path) if path.exists() else None
        fileio.atomic_write(path, raw)
        fingerprints.write(path, opened.data)
        return opened, kept
