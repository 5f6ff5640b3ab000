"""Helpers of the vault-format security tests (#15, #9 findings 8, 12, 16, 17): fake keyring, header edits."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class MemoryKeyring:
    """An in-memory stand-in for vault.store.keyring_access (unit tests only)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from vault.store import keyring_access

        self.items: dict[str, str] = {}
        monkeypatch.setattr(keyring_access, "backend_name", lambda: "memory")
        monkeypatch.setattr(keyring_access, "get", self.items.get)
        monkeypatch.setattr(keyring_access, "put", self.items.__setitem__)
        monkeypatch.setattr(keyring_access, "delete", lambda account: self.items.pop(account, None))


def header_of(raw: bytes) -> dict[str, Any]:
    (hlen,) = struct.unpack(">I", raw[8:12])
    return json.loads(raw[12:12 + hlen])


def rewrite_header(path: Path, change: Callable[[dict[str, Any]], Any] | None,
                   serialise: Callable[[dict[str, Any]], bytes] | None = None) -> None:
    """Edit the header JSON, fix the length and the (unkeyed) checksum: only the reader's rules and the AEAD can tell."""
    raw = path.read_bytes()
    (hlen,) = struct.unpack(">I", raw[8:12])
    doc = json.loads(raw[12:12 + hlen])
    if change is not None:
        change(doc)
    hb = serialise(doc) if serialise else json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    body = raw[:8] + struct.pack(">I", len(hb)) + hb + raw[12 + hlen:-32]
    path.write_bytes(body + hashlib.sha256(body).digest())
