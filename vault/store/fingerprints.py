"""The `VAULT.fp` sidecar: keyed fingerprints of vault values, readable without unlocking.

`watch` and `audit` use it to say "this value is already in your vault" while holding no
value and no vault key. The key lies beside the fingerprints, so whoever can read this file
(a backup of the home folder, say) can test guesses at HMAC speed, without the vault's
Argon2id in the way: only values too random to guess are listed — JWTs and tokens of 16 or
more characters — never domains, URLs or free text such as passwords.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

from vault import crypto
from vault.store.fileio import atomic_write
from vault.store.model import VaultData
from vault.store.paths import fingerprints_path

MIN_LEN = 16
KINDS = ("jwt", "token")


def compute(data: VaultData) -> list[str]:
    return sorted({
        crypto.fingerprint(data.fingerprint_key, e.value.reveal())
        for env in data.environments.values()
        for e in env.entries.values()
        if e.kind in KINDS and len(e.value) >= MIN_LEN
    })


def write(vault_path: Path, data: VaultData) -> None:
    doc = {"key": base64.b64encode(data.fingerprint_key).decode(), "fingerprints": compute(data)}
    raw = json.dumps(doc, indent=0).encode()
    path = fingerprints_path(vault_path)
    if _unchanged(path, raw):
        return  # most writes change no token: skip two fsyncs while the writers' lock is held
    atomic_write(path, raw)


def _unchanged(path: Path, raw: bytes) -> bool:
    if os.name != "posix":  # pragma: no cover - no uid or mode to check: always rewrite
        return False
    try:
        st = os.stat(path)
        if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) != 0o600:
            return False
        return path.read_bytes() == raw
    except OSError:
        return False


def load_known(vault_path: Path) -> tuple[bytes, set[str]] | None:
    """(fingerprint key, fingerprints) of the vault at `vault_path`; None if there is none.

    PolicyError if others can read or write the file, or another user owns it: its key lets
    whoever reads it test guesses of the listed tokens.
    """
    from vault.store.fileio import check_permissions

    path = fingerprints_path(Path(vault_path))
    try:
        check_permissions(path)
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(path.read_bytes())
        return base64.b64decode(doc["key"]), set(doc["fingerprints"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
