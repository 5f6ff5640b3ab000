"""`OpenBaoBackend`: the storage seam's `Backend` on one KV v2 key.

The sealed document (the vault file's bytes: the server never sees a key or a value) is
kept base64-encoded in the field `document` of the key; its generation token is the KV v2
version, so compare-and-swap is the engine's own check-and-set (`cas`). The previous
version is the backup, and a restore writes it again as a new version, so the replaced
one stays in the key's history.

The lock is a second key, `PATH.lock`, taken and released by check-and-set: `{"holder":
ID, "expires": T}` while held, `{"holder": ""}` when free. A holder that died leaves a
lock that others take over once `expires` (wall clock, LEASE_S ahead) has passed; writes
stay correct even then, because every write is check-and-set.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator

from vault.remote.kv import KVClient
from vault.store import fileio
from vault.store.backend import ConflictError, Document

LEASE_S = 120.0
_POLL_S = 0.05


class OpenBaoBackend:
    """One document on a KV v2 key; one instance is one lock holder (re-entrant within it)."""

    def __init__(self, kv: KVClient, path: str, lock_wait: float | None = None) -> None:
        self.kv = kv
        self.path = path.strip("/")
        self.lock_wait = lock_wait
        self._id = uuid.uuid4().hex
        self._mutex = threading.RLock()
        self._depth = 0
        self._lock_version: int | None = None

    def __repr__(self) -> str:
        return f"OpenBaoBackend({self.describe()!r})"

    def describe(self) -> str:
        return self.kv.describe(self.path)

    # reading ------------------------------------------------------------------------

    @staticmethod
    def _document(found: tuple[dict, int] | None) -> Document | None:
        if found is None:
            return None
        data, version = found
        return Document(base64.b64decode(data.get("document", "")), str(version))

    def read(self) -> Document | None:
        return self._document(self.kv.read(self.path))

    def read_backup(self) -> Document | None:
        meta = self.kv.metadata(self.path)
        if not meta or int(meta.get("current_version", 0)) < 2:
            return None
        previous = int(meta["current_version"]) - 1
        info = (meta.get("versions") or {}).get(str(previous), {})
        if info.get("destroyed") or info.get("deletion_time"):
            return None
        return self._document(self.kv.read(self.path, previous))

    # writing ------------------------------------------------------------------------

    def write(self, data: bytes, expected: str | None) -> str:
        cas = 0 if expected is None else int(expected)
        try:
            return str(self.kv.write(self.path, {"document": base64.b64encode(data).decode()}, cas))
        except ConflictError:
            raise ConflictError(f"the vault at {self.describe()} changed while this command ran",
                                "run the command again") from None

    def restore(self, backup: Document, expected: str | None) -> str | None:
        new = self.write(backup.data, expected)
        # The replaced document is the version before the new one, still in the key's history.
        return f"version {int(new) - 1} of {self.describe()}" if expected is not None else None

    # locking ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait_s: float | None = None) -> Iterator[None]:
        if wait_s is None:
            wait_s = self.lock_wait if self.lock_wait is not None else fileio.lock_wait_from_env()
        deadline = time.monotonic() + wait_s
        if not self._mutex.acquire(timeout=wait_s if wait_s > 0 else 0):
            raise fileio.busy(self.describe(), wait_s)
        try:
            if self._depth == 0:
                self._acquire(deadline, wait_s)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()
        finally:
            self._mutex.release()

    def _acquire(self, deadline: float, wait_s: float) -> None:
        key = self.path + ".lock"
        while True:
            found = self.kv.read(key)
            data, version = found if found is not None else ({}, 0)
            if not data.get("holder") or float(data.get("expires", 0)) < time.time():
                try:
                    self._lock_version = self.kv.write(
                        key, {"holder": self._id, "expires": time.time() + LEASE_S}, version)
                    return
                except ConflictError:
                    continue  # someone else moved first: look again
            if time.monotonic() >= deadline:
                raise fileio.busy(self.describe(), wait_s)
            time.sleep(min(_POLL_S, max(0.0, deadline - time.monotonic())))

    def _release(self) -> None:
        version, self._lock_version = self._lock_version, None
        if version is None:
            return
        # Only if it is still ours: after an expiry someone else may hold it now.
        with contextlib.suppress(ConflictError):
            self.kv.write(self.path + ".lock", {"holder": ""}, version)
