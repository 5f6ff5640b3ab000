"""Keyslots in general: each wraps the one data key with a slot key (SECURITY.md, Keyslots).

What a slot key is made of depends on its kind; the kinds live in `keysources.py`. The
per-kind helpers that used to live here are still importable from this module by name.
"""

from __future__ import annotations

import time
from typing import Any

from vault import crypto
from vault.store.format import Keyslot


def wrap(slot_id: str, slot_type: str, vault_id: str, slot_key: bytes, data_key: bytes,
         extra: dict[str, Any]) -> Keyslot:
    nonce, wrapped = crypto.seal(slot_key, data_key, crypto.keyslot_aad(vault_id, slot_id, slot_type))
    return Keyslot(slot_id, slot_type, nonce, wrapped, int(time.time()), extra)


def unwrap(slot: Keyslot, vault_id: str, slot_key: bytes) -> bytes | None:
    """The data key, or None if `slot_key` is not this slot's key."""
    try:
        return crypto.open_sealed(slot_key, slot.nonce, slot.wrapped,
                                  crypto.keyslot_aad(vault_id, slot.id, slot.type))
    except crypto.AuthenticationFailed:
        return None


def next_slot_id(slots: list[Keyslot]) -> str:
    used = {s.id for s in slots}
    n = 1
    while f"k{n}" in used:
        n += 1
    return f"k{n}"


_MOVED = {"new_passphrase_slot", "passphrase_slot_key", "keyring_account", "new_keyring_slot",
          "keyring_slot_key", "format_recovery_key", "parse_recovery_key", "new_recovery_slot",
          "recovery_slot_key", "RECOVERY_PREFIX"}


def __getattr__(name: str) -> Any:
    # The per-kind helpers moved to keysources; imported lazily (keysources imports us).
    if name in _MOVED:
        from vault.store import keysources

        return getattr(keysources, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
