"""Baselines: fingerprints of accepted findings, so they stop failing the run. No values."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from vault.errors import UsageError
from vault.guard.keys import key_id
from vault.guard.model import Finding
from vault.store.fileio import atomic_write

if TYPE_CHECKING:
    from pathlib import Path

VERSION = 1


def load(path: Path, guard_key: bytes) -> set[str]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read baseline {path}: {e}",
                         "recreate it with --update-baseline") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise UsageError(f"{path} is not a tokensafe baseline (version {VERSION})",
                         "recreate it with --update-baseline")
    if doc.get("key_id") != key_id(guard_key):
        raise UsageError(f"{path} was made with another guard key",
                         "recreate it with --update-baseline (or restore your guard.key)")
    return {e["fingerprint"] for e in doc.get("findings", []) if isinstance(e, dict)}


def save(path: Path, findings: list[Finding], guard_key: bytes) -> None:
    entries = sorted({(f.fingerprint, f.detector) for f in findings})
    doc = {"version": VERSION, "tool": "tokensafe", "key_id": key_id(guard_key),
           "findings": [{"fingerprint": fp, "detector": d} for fp, d in entries]}
    # Committed beside the code it silences, so readable like any source file.
    atomic_write(path, (json.dumps(doc, indent=1) + "\n").encode(), mode=0o644)
