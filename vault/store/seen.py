"""The highest generation seen per vault, so that a rolled-back vault is reported (SECURITY.md);
and which vaults were seen at format version 2, so that a version-1 file of one is refused.

A small JSON file in the user's state folder maps vault ids to generations. It is read on
every open (one small file) and written only when a generation higher than the remembered
one is seen, so the usual `get` pays one read. Losing or damaging it loses only the
warning, never access; it is no security boundary against someone who can write it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE_NAME = "generations.json"
MAX_VAULTS = 256  # a bound, oldest forgotten first
MAX_ENTRIES = 3 * MAX_VAULTS  # a generation and two format records per vault


def format_keys(vault_id: str, where: str | None) -> list[str]:
    """The records that say a vault was seen at format version 2: by its id, and by its place."""
    return [f"format:{vault_id}"] + ([f"format@{where}"] if where else [])


def state_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "tokensafe" / FILE_NAME


def _load(path: Path) -> dict[str, int]:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(k, str) and type(v) is int}


def _store(path: Path, seen: dict[str, int]) -> None:
    from vault.store import fileio

    try:
        fileio.ensure_private_dir(path.parent)
        fileio.atomic_write(path, json.dumps(seen, separators=(",", ":")).encode())
    except (OSError, fileio.PolicyError):
        pass  # only the warning is lost


def check(vault_id: str, generation: int, version: int = 1, where: str | None = None) -> int | None:
    """The remembered generation if `generation` is lower (a rollback), else None; remembers higher
    ones, and that the vault is at format `version` 2."""
    path = state_file()
    seen = _load(path)
    known = seen.get(vault_id)
    if known is not None and generation < known:
        return known
    fresh = version >= 2 and any(seen.get(k) != 2 for k in format_keys(vault_id, where))
    if known != generation or fresh:
        set_generation(vault_id, generation, seen, version, where)
    return None


def downgrade(vault_id: str, where: str | None) -> str | None:
    """The record that says this vault (or the vault at `where`) was seen at version 2, or None."""
    seen = _load(state_file())
    return next((k for k in format_keys(vault_id, where) if seen.get(k, 1) >= 2), None)


def set_generation(vault_id: str, generation: int, seen: dict[str, int] | None = None,
                   version: int | None = None, where: str | None = None) -> None:
    """Remember `generation` for the vault (also lower: `backup restore` asked for it), and its
    format `version` when given (1 forgets the version-2 records: a restore the user asked for)."""
    path = state_file()
    seen = _load(path) if seen is None else seen
    seen.pop(vault_id, None)
    seen[vault_id] = generation
    if version is not None:
        for key in format_keys(vault_id, where):
            seen.pop(key, None)
            if version >= 2:
                seen[key] = version
    while len(seen) > MAX_ENTRIES:
        seen.pop(next(iter(seen)))
    _store(path, seen)
