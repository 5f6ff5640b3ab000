"""The highest generation seen per vault, so that a rolled-back vault is reported (SECURITY.md).

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


def check(vault_id: str, generation: int) -> int | None:
    """The remembered generation if `generation` is lower (a rollback), else None; remembers higher ones."""
    path = state_file()
    seen = _load(path)
    known = seen.get(vault_id)
    if known is not None and generation < known:
        return known
    if known != generation:
        set_generation(vault_id, generation, seen)
    return None


def set_generation(vault_id: str, generation: int, seen: dict[str, int] | None = None) -> None:
    """Remember `generation` for the vault (also lower: `backup restore` asked for it)."""
    path = state_file()
    seen = _load(path) if seen is None else seen
    seen.pop(vault_id, None)
    seen[vault_id] = generation
    while len(seen) > MAX_VAULTS:
        seen.pop(next(iter(seen)))
    _store(path, seen)
