"""Create, read and change a vault through a storage backend (format: SECURITY.md; bytes: `format.py`).

`VaultStore` is the store's API for the service layer: one backend (the local file, later
others), one unlocker (key sources + injected prompter). Writes follow one rule that keeps
many writers fast and correct: unlock first (Argon2id can take half a second), then take
the lock, re-read, apply the change to the latest generation, compare-and-swap. The module
functions at the bottom are the path-based API of before, kept for existing callers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vault import crypto
from vault.errors import IntegrityError, NotFoundError, UsageError
from vault.store import format
from vault.store.backend import Backend, ConflictError, Document, LocalFile
from vault.store.format import Header, Keyslot
from vault.store.model import VaultData
from vault.store.unlock import Unlocker

T = TypeVar("T")
CAS_ATTEMPTS = 8


@dataclass
class OpenVault:
    path: Path | None
    header: format.Header
    data_key: bytes
    data: VaultData
    slot_id: str  # the keyslot that unlocked it
    token: str | None = field(default=None, repr=False)  # the backend generation it was read from

    def __repr__(self) -> str:
        return f"OpenVault(path={str(self.path)!r}, generation={self.header.generation})"


def _tampered() -> IntegrityError:
    return IntegrityError(
        "vault integrity check failed: the payload does not authenticate",
        "the file was changed and has not been touched; `tokensafe backup restore` "
        "brings back the previous generation",
    )


MIN_BUCKET = 1024


def pad(plain: bytes) -> bytes:
    """JSON + spaces up to a power-of-two bucket (≥ 1 KiB): a copy shows the bucket, not the length."""
    bucket = max(MIN_BUCKET, 1 << (len(plain) - 1).bit_length())
    return plain + b" " * (bucket - len(plain))


def unpad(plain: bytes) -> bytes:
    """The JSON object without its padding; ValueError if anything but spaces follows it."""
    body = plain.rstrip(b" ")
    if not body.endswith(b"}"):
        raise ValueError("malformed payload padding")
    return body


def _open_payload(path: Path | None, parsed: format.Parsed, data_key: bytes, slot_id: str,
                  token: str | None = None) -> OpenVault:
    header = parsed.header
    if not format.data_key_ok(header, data_key):
        # The unlocker checked its slots; a key held from before (the agent's, a re-read) that
        # is not this file's committed key means the file was replaced or changed.
        raise _tampered()
    try:
        plain = crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)
        body = unpad(plain)
        if header.version >= 2:  # generation and creation time live in the payload (SECURITY.md)
            import json

            doc = json.loads(body)
            header.generation, header.created = format.payload_int(doc, "generation"), format.payload_int(doc, "created")
        data = VaultData.from_bytes(body)
    except (crypto.AuthenticationFailed, ValueError, KeyError, TypeError, AttributeError):
        # A keyslot opened, so the key is right: the payload or header was changed.
        raise _tampered() from None
    return OpenVault(path, header, data_key, data, slot_id, token)


def decode(path: Path | None, raw: bytes, unlocker: Unlocker, token: str | None = None) -> OpenVault:
    return _unlock_parsed(path, format.parse(raw), unlocker, token)


def _unlock_parsed(path: Path | None, parsed: format.Parsed, unlocker: Unlocker,
                   token: str | None = None) -> OpenVault:
    data_key, slot_id = unlocker.unlock(parsed.header)
    return _open_payload(path, parsed, data_key, slot_id, token)


def payload_bytes(data: VaultData, header: Header) -> bytes:
    """The version-2 plaintext before padding: the payload JSON with `generation` and `created`."""
    import json

    doc = json.loads(data.to_bytes())
    doc["generation"], doc["created"] = header.generation, header.created
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def encode(opened: OpenVault) -> bytes:
    """Seal as format version 2 (a version-1 header is upgraded: its slots stay as they are)."""
    header = opened.header
    header.version = format.VERSION
    format.seal_commitment(header, opened.data_key)
    plain = pad(payload_bytes(opened.data, header))
    return format.build(header, lambda aad: crypto.seal(opened.data_key, plain, aad))


def rewrap_legacy_slots(opened: OpenVault, slot_keys: dict[tuple[str, str], bytes]) -> None:
    """Re-wrap, in version 2's form, each version-1 slot whose key the command holds (SECURITY.md)."""
    from vault.store.keyslots import rewrap, unwrap

    vid = opened.header.vault_id
    for i, slot in enumerate(opened.header.keyslots):
        key = slot_keys.get((vid, slot.id))
        if slot.wrap == 1 and key is not None and unwrap(slot, vid, key) == opened.data_key:
            opened.header.keyslots[i] = rewrap(slot, vid, key, opened.data_key)


def _slots_doc(slots: list[Keyslot]) -> list[dict[str, Any]]:
    return [s.to_json() for s in slots]


class VaultStore:
    """The vault behind `backend`, opened with `unlocker`.

    `fingerprints_for`: the vault path whose `.fp` sidecar to refresh on every write (local
    vaults; None for a backend with no place beside it).
    """

    def __init__(self, backend: Backend, unlocker: Unlocker | None = None, *, lock_wait: float | None = None,
                 fingerprints_for: Path | None = None, path: Path | None = None) -> None:
        self.backend = backend
        self.unlocker = unlocker
        self.lock_wait = lock_wait
        self.fingerprints_for = fingerprints_for
        self.path = path
        # Where a rollback is reported; None: no generation is remembered (SECURITY.md, rollback).
        self.warn: Callable[[str], None] | None = None

    @classmethod
    def local(cls, path: Path, unlocker: Unlocker | None = None, lock_wait: float | None = None) -> VaultStore:
        """The vault file at `path` (already resolved: see cli.common.resolve_path)."""
        path = Path(path)
        return cls(LocalFile(path, lock_wait), unlocker, lock_wait=lock_wait,
                   fingerprints_for=path, path=path)

    def __repr__(self) -> str:
        return f"VaultStore({self.backend.describe()!r})"

    # reading ------------------------------------------------------------------------

    def _missing(self) -> NotFoundError:
        return NotFoundError(f"no vault at {self.backend.describe()}",
                             "create one with `tokensafe init`, or point --vault / TOKENSAFE_VAULT at it")

    def document(self) -> Document:
        doc = self.backend.read()
        if doc is None:
            raise self._missing()
        return doc

    def header(self) -> Header:
        """The header (keyslots; the generation only of a version-1 file) without unlocking: it is not secret."""
        return format.parse(self.document().data).header

    def _decode(self, doc: Document) -> OpenVault:
        if self.unlocker is None:
            raise TypeError("this VaultStore has no unlocker: it can read headers only")
        parsed = format.parse(doc.data)
        if parsed.header.version < format.VERSION and self.warn is not None:
            self._refuse_downgrade(parsed.header)  # before any key is tried against the file
        opened = _unlock_parsed(self.path, parsed, self.unlocker, doc.generation)
        self._check_generation(opened.header)
        return opened

    def _where(self) -> str:
        """The vault's place, for the state file's format records."""
        return str(self.path) if self.path is not None else self.backend.describe()

    def _refuse_downgrade(self, header: Header) -> None:
        from vault.store import seen

        record = seen.downgrade(header.vault_id, self._where())
        if record is not None:
            raise IntegrityError(
                f"vault format downgrade: {self.backend.describe()} is a version-1 file, but this "
                "vault was seen at version 2; no key was tried against it",
                "someone may have replaced it to strip its key commitments; `tokensafe backup restore` "
                f"brings back a backup you want; if you put this file back yourself, remove \"{record}\" "
                f"from {seen.state_file()}")

    def _check_generation(self, header: Header) -> None:
        """Warn when the vault is older than a generation seen before (only once it authenticated)."""
        if self.warn is None or header.generation is None:
            return
        from vault.store import seen

        known = seen.check(header.vault_id, header.generation, header.version, self._where())
        if known is not None:
            self.warn(f"the vault at {self.backend.describe()} is generation {header.generation}, but "
                      f"generation {known} was seen before: it was rolled back to an older copy or its "
                      "backup; if you did not put it back yourself, someone may have replaced it")

    def read(self) -> OpenVault:
        """Unlock and decrypt the current generation (no lock: replaces are atomic)."""
        return self._decode(self.document())

    def _reopen(self, doc: Document, before: OpenVault) -> OpenVault:
        """Open a newer generation: with the data key we hold if the keyslots are unchanged,
        else by unlocking again (the unlocker has the secrets: no one is asked twice)."""
        parsed = format.parse(doc.data)
        if _slots_doc(parsed.header.keyslots) == _slots_doc(before.header.keyslots):
            return _open_payload(self.path, parsed, before.data_key, before.slot_id, doc.generation)
        return self._decode(doc)

    # writing ------------------------------------------------------------------------

    def _write(self, opened: OpenVault, expected: str | None) -> None:
        """Seal (always format version 2) and compare-and-swap; the caller holds the lock."""
        upgrading = opened.header.version < format.VERSION
        rewrap_legacy_slots(opened, getattr(self.unlocker, "slot_keys", None) or {})
        opened.header.generation = (opened.header.generation or 0) + 1
        opened.token = self.backend.write(encode(opened), expected)
        if self.fingerprints_for is not None:
            from vault.store import fingerprints  # writes only: `get` does not pay for it

            fingerprints.write(self.fingerprints_for, opened.data)
        if self.warn is not None:
            from vault.store import seen

            seen.set_generation(opened.header.vault_id, opened.header.generation, version=format.VERSION,
                                where=self._where())
            if upgrading:
                self.warn(self._upgraded())

    def _upgraded(self) -> str:
        if isinstance(self.backend, LocalFile):
            from vault.store.paths import backup_path, display

            kept = f"as {display(backup_path(self.backend.path))}"
        else:
            kept = "as the previous version"
        return (f"upgraded {self.backend.describe()} to vault format version 2; the version-1 file is kept "
                f"{kept} until the next write (`tokensafe backup restore` brings it back; a `passwd` or "
                "`keys rm` that changes the data key replaces it at once); tokensafe before format 2 "
                "cannot read the upgraded vault")

    @contextlib.contextmanager
    def edit(self, start: OpenVault | None = None) -> Iterator[OpenVault]:
        """Read-modify-write: yields the latest generation, writes it back on success.

        The key is derived before the lock is taken; under the lock the vault is read again
        and the block sees that latest state, so no concurrent write is lost. Nothing is
        written if the block raises. Raises ConflictError only if the backend's lock does
        not exclude all writers (use `update` to retry then). `start`: a vault already
        opened by `read()` (e.g. to make keyslots before locking), so it is not unlocked twice.
        """
        opened = start if start is not None and start.token is not None else self.read()
        with self.backend.lock(self.lock_wait):
            doc = self.document()
            if doc.generation != opened.token:
                opened = self._reopen(doc, opened)
            if not opened.data.log_key:
                # Fixed now, from the data key the log was keyed with so far (SECURITY.md,
                # "The access log"): a `passwd` in this edit must not re-key the log.
                opened.data.log_key = crypto.hkdf(opened.data_key, crypto.HKDF_ACCESS_LOG_INFO)
            yield opened
            self._write(opened, doc.generation)

    def update(self, change: Callable[[OpenVault], T], attempts: int = CAS_ATTEMPTS) -> T:
        """`change(opened)` applied to the latest generation and written; retried on a lost CAS.

        `change` may run more than once: it must only change `opened` (no output, no I/O).
        """
        for attempt in range(attempts):
            try:
                with self.edit() as opened:
                    result = change(opened)
                return result
            except ConflictError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def drop_old_backup(self) -> bool:
        """After the data key changed: the backup becomes the current generation, so that a
        removed slot or an old passphrase opens no backup either. False if the backend cannot."""
        replace = getattr(self.backend, "replace_backup", None)
        if replace is None:
            return False
        replace()
        return True

    def create(self, make_slots: Callable[[str, bytes], list[Keyslot]], data: VaultData | None = None) -> OpenVault:
        """Write a new vault. `make_slots(vault_id, data_key) -> [Keyslot]` (run before the lock)."""
        if self.backend.read() is not None:
            raise self._exists()
        vault_id = crypto.new_id()
        data_key = crypto.new_key()
        data = data or VaultData()
        if not data.fingerprint_key:
            data.fingerprint_key = crypto.new_key()
        # The creation time lives in the encrypted payload (format version 2), not the header.
        import time

        header = format.Header(vault_id, 0, int(time.time()), make_slots(vault_id, data_key))
        opened = OpenVault(self.path, header, data_key, data, header.keyslots[0].id)
        with self.backend.lock(self.lock_wait):
            try:
                self._write(opened, None)
            except ConflictError:
                raise self._exists() from None
        return opened

    def _exists(self) -> UsageError:
        return UsageError(f"a vault already exists at {self.backend.describe()}",
                          "use it, or pick another file with --vault; nothing was changed")

    def restore_backup(self) -> tuple[OpenVault, str | None]:
        """Bring back the previous generation, after checking that it opens with our key.

        The current document (perhaps damaged) is kept, never lost; returns where.
        """
        bak = self._backup()
        warn, self.warn = self.warn, None  # the backup is older by design: no rollback warning
        try:
            opened = self._decode(bak)  # unlock before the lock
        finally:
            self.warn = warn
        with self.backend.lock(self.lock_wait):
            again = self._backup()
            if again.generation != bak.generation:
                opened = self._reopen(again, opened)
            current = self.backend.read()
            kept = self.backend.restore(again, current.generation if current else None)
            opened.token = again.generation
            if self.fingerprints_for is not None:
                from vault.store import fingerprints

                fingerprints.write(self.fingerprints_for, opened.data)
        if self.warn is not None:  # a restore the user asked for is not a rollback to report
            from vault.store import seen

            # A restored version-1 file is asked for: its vault is no longer "seen at version 2".
            seen.set_generation(opened.header.vault_id, opened.header.generation or 0,
                                version=opened.header.version, where=self._where())
        return opened, kept

    def _backup(self) -> Document:
        bak = self.backend.read_backup()
        if bak is None:
            if self.backend.read() is None:
                raise self._missing()
            raise NotFoundError(f"no backup of the vault at {self.backend.describe()}",
                                "a backup is kept from the second write of a vault on")
        return bak


# The path-based API of before (callers and tests use it; new code uses VaultStore).

def read_bytes(path: Path) -> bytes:
    return VaultStore.local(path).document().data


def read_vault(path: Path, unlocker: Unlocker) -> OpenVault:
    return VaultStore.local(path, unlocker).read()


@contextlib.contextmanager
def edit_vault(path: Path, unlocker: Unlocker) -> Iterator[OpenVault]:
    with VaultStore.local(path, unlocker).edit() as opened:
        yield opened


def create_vault(path: Path, header_slots: Callable[[str, bytes], list[Keyslot]],
                 data: VaultData | None = None) -> OpenVault:
    return VaultStore.local(path).create(header_slots, data)


def restore_backup(path: Path, unlocker: Unlocker) -> tuple[OpenVault, Path | None]:
    opened, kept = VaultStore.local(path, unlocker).restore_backup()
    return opened, Path(kept) if kept else None
