"""What the store needs of storage, and nothing more: the `Backend` protocol.

A backend keeps one sealed document (the vault file's bytes; it never sees a key or a
value) and offers:

- `read()`: the document and its generation token, or None if there is none;
- `write(data, expected)`: compare-and-swap — replace the document only if its generation
  is still `expected` (None: only if there is no document yet), else ConflictError;
- `lock(wait_s)`: exclusive among all holders, blocking up to `wait_s`, else BusyError;
  re-entrant for the holder, so `write` may be called under it;
- `read_backup()` / `restore(backup, expected)`: the previous generation, and bringing
  it back (the document it replaces is kept, never lost).

Generation tokens are opaque strings: the local file uses a hash of its bytes, a KV store
its version number. Every backend passes tests/store/backend_contract.py.
The local file (`LocalFile`) is the first implementation; the format of its bytes is in
SECURITY.md and does not depend on the backend.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vault.errors import BusyError, FileSystemError, UsageError
from vault.store import fileio
from vault.store.paths import backup_path, display, lock_path


class ConflictError(BusyError):
    """A compare-and-swap write lost: the document moved since it was read (retry on the new one)."""


@dataclass(frozen=True)
class Document:
    data: bytes
    generation: str

    def __repr__(self) -> str:  # the bytes are sealed, but a repr has no use for them
        return f"Document({len(self.data)} bytes, generation={self.generation!r})"


class Backend(Protocol):
    def describe(self) -> str:
        """Where the document lives, for messages (a path, a URL); never secret."""

    def read(self) -> Document | None: ...

    def write(self, data: bytes, expected: str | None) -> str:
        """Compare-and-swap; returns the new generation token."""

    def lock(self, wait_s: float | None = None) -> AbstractContextManager[None]: ...

    def read_backup(self) -> Document | None: ...

    def restore(self, backup: Document, expected: str | None) -> str | None:
        """Make `backup` the current document (CAS on `expected`); says where the replaced one is kept."""


def generation_of(data: bytes) -> str:
    """The local file's generation token: its bytes, hashed (inode numbers get reused)."""
    return hashlib.sha256(data).hexdigest()[:32]


class LocalFile:
    """The vault as a file: atomic replace, `.bak` hard link, permission checks, flock.

    One instance is one lock holder: `lock` is re-entrant within it (threads of one
    instance serialise on a mutex), and two instances exclude each other like two
    processes do.
    """

    def __init__(self, path: Path, lock_wait: float | None = None) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self._mutex = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"LocalFile({str(self.path)!r})"

    def describe(self) -> str:
        return display(self.path)

    # reading ------------------------------------------------------------------------

    def _read(self, path: Path) -> Document | None:
        try:
            if not path.parent.is_dir():
                return None
            fileio.check_permissions(path.parent, is_dir=True)
            fileio.check_permissions(path)
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise UsageError(f"{display(path)} is a folder, not a vault file") from None
        except PermissionError:
            raise FileSystemError(f"cannot read {display(path)} (permission denied)") from None
        return Document(data, generation_of(data))

    def read(self) -> Document | None:
        return self._read(self.path)

    def read_backup(self) -> Document | None:
        return self._read(backup_path(self.path))

    # locking ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait_s: float | None = None) -> Iterator[None]:
        if wait_s is None:
            wait_s = self.lock_wait if self.lock_wait is not None else fileio.lock_wait_from_env()
        started = time.monotonic()
        if not self._mutex.acquire(timeout=wait_s if wait_s > 0 else 0):
            raise fileio.busy(self.describe(), wait_s)
        try:
            if self._depth == 0:
                fileio.ensure_private_dir(self.path.parent)
                left = max(0.0, wait_s - (time.monotonic() - started))
                self._fd = fileio.acquire(lock_path(self.path), left)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    os.close(self._fd)  # closing releases the flock
                    self._fd = None
        finally:
            self._mutex.release()

    # writing ------------------------------------------------------------------------

    def _check(self, expected: str | None) -> Document | None:
        current = self.read()
        if (current.generation if current else None) != expected:
            raise ConflictError(f"the vault at {self.describe()} changed while this command ran",
                                "run the command again")
        return current

    def write(self, data: bytes, expected: str | None) -> str:
        with self.lock():
            self._check(expected)
            fileio.clean_stale_temps(self.path)
            fileio.atomic_write(self.path, data, keep_backup=backup_path(self.path))
        return generation_of(data)

    def replace_backup(self) -> None:
        """Make the backup the current generation (after a data-key rotation: no old key opens it)."""
        with self.lock():
            current = self.read()
            if current is not None:
                fileio.atomic_write(backup_path(self.path), current.data)

    def restore(self, backup: Document, expected: str | None) -> str | None:
        with self.lock():
            current = self._check(expected)
            kept = _keep_aside(self.path) if current is not None else None
            fileio.atomic_write(self.path, backup.data)
        return str(kept) if kept else None


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
