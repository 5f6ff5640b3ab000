"""The `VAULT.fp` sidecar: keyed fingerprints of vault values, readable without unlocking.

`watch` and `audit` use it to say "this value is already in your vault" while holding no
value and no vault key. Domains and URLs are left out: they are guessable, and not secret.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from vault import crypto
from vault.store.fileio import atomic_write
from vault.store.model import VaultData
from vault.store.paths import fingerprints_path

MIN_LEN = 8


def compute(data: VaultData) -> list[str]:
    return sorted({
        crypto.fingerprint(data.fingerprint_key, e.value.reveal())
        for env in data.environments.values()
        for e in env.entries.values()
        if e.kind not in ("domain", "url") and len(e.value) >= MIN_LEN
    })


def write(vault_path: Path, data: VaultData) -> None:
    doc = {"key": base64.b64encode(data.fingerprint_key).decode(), "fingerprints": compute(data)}
    atomic_write(fingerprints_path(vault_path), json.dumps(doc, indent=0).encode())


def load_known(vault_path: Path) -> tuple[bytes, set[str]] | None:
    """(fingerprint key, fingerprints) of the vault at `vault_path`; None if there is none."""
    try:
        doc = json.loads(fingerprints_path(Path(vault_path)).read_bytes())
        return base64.b64decode(doc["key"]), set(doc["fingerprints"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
