"""The guard's own fingerprint key, and the vault's fingerprints for the in-vault flag.

Findings carry HMAC-SHA256(guard key, value): stable across runs (so baselines work), not
brute-forceable by whoever reads a report (unlike detect-secrets' plain SHA-1). The key is
separate from the vault's so that creating or re-keying a vault does not break baselines.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from vault import crypto

if TYPE_CHECKING:
    from pathlib import Path


def guard_key_path() -> str:
    env = os.environ.get("TOKENSAFE_GUARD_KEY")
    if env:
        return os.path.expanduser(env)
    from vault.dirs import user_data_dir

    return os.path.join(user_data_dir(), "guard.key")


def _read_key(path: str) -> bytes:
    with open(path, encoding="utf-8") as f:
        return bytes.fromhex(f.read().strip())


def load_guard_key(path: str | os.PathLike[str] | None = None) -> bytes:
    """Read the key, creating it (0600, in a 0700 folder) on first use. With `os.path`, not
    pathlib: every audit reads it, and pathlib is ~3 ms of an audit's start-up."""
    path = os.fspath(path) if path else guard_key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except ValueError:
        from vault.errors import IntegrityError

        raise IntegrityError(f"the guard key file {path} is corrupt",
                             "remove it to make a new one (baselines will need updating)") from None
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    key = crypto.new_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return _read_key(path)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
        f.flush()
        with contextlib.suppress(OSError):
            os.fsync(f.fileno())
    return key


def key_id(key: bytes) -> str:
    """A public name for a key, so a baseline made with another key is recognised as such."""
    from vault import crypto

    return crypto.fingerprint(key, b"tokensafe guard key id v1")[:16]


def load_known(vault_path: Path, fingerprint_key: bytes) -> frozenset[str] | None:
    """The vault's fingerprints from its sidecar; the key comes from the unlocked vault."""
    from vault.store.fingerprints import load_known as _load

    got = _load(vault_path, fingerprint_key)
    return None if got is None else frozenset(got)
