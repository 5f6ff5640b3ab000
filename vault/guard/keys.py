"""The guard's own fingerprint key, and the vault's fingerprints for the in-vault flag.

Findings carry HMAC-SHA256(guard key, value): stable across runs (so baselines work), not
brute-forceable by whoever reads a report (unlike detect-secrets' plain SHA-1). The key is
separate from the vault's so that creating or re-keying a vault does not break baselines.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from vault import crypto


def guard_key_path() -> Path:
    env = os.environ.get("TOKENSAFE_GUARD_KEY")
    if env:
        return Path(env).expanduser()
    from vault.dirs import user_data_dir

    return Path(user_data_dir()) / "guard.key"


def load_guard_key(path: Path | None = None) -> bytes:
    """Read the key, creating it (0600, in a 0700 folder) on first use."""
    path = path or guard_key_path()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except ValueError:
        from vault.errors import IntegrityError

        raise IntegrityError(f"the guard key file {path} is corrupt",
                             "remove it to make a new one (baselines will need updating)") from None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = crypto.new_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return bytes.fromhex(path.read_text().strip())
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
