"""Keyslots in general: each wraps the one data key with a slot key (SECURITY.md, Keyslots).

What a slot key is made of depends on its kind; the kinds live in `keysources.py`. The
per-kind helpers that used to live here are still importable from this module by name.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

from vault import crypto
from vault.errors import IntegrityError
from vault.store.format import Keyslot

# Creation times are not needed to unlock, so new slots do not keep them (SECURITY.md, Header).
CREATED = 0


def _aad(form: int, vault_id: str, slot_id: str, slot_type: str) -> bytes:
    if form == 1:  # the version-1 "|" join: one reading only because the fields are validated
        return crypto.keyslot_aad(vault_id, slot_id, slot_type)
    return crypto.keyslot_aad_v2(vault_id, slot_id, slot_type)


def commitment(slot_key: bytes, vault_id: str, slot_id: str, slot_type: str, form: int = 2) -> str:
    make = crypto.key_commitment if form == 1 else crypto.key_commitment_v2
    return base64.b64encode(make(slot_key, vault_id, slot_id, slot_type)).decode()


def wrap(slot_id: str, slot_type: str, vault_id: str, slot_key: bytes, data_key: bytes,
         extra: dict[str, Any], form: int = 2) -> Keyslot:
    """A new slot; `form` 1 (the version-1 AAD and commitment) only for the test vectors' old files."""
    nonce, wrapped = crypto.seal(slot_key, data_key, _aad(form, vault_id, slot_id, slot_type))
    extra = {**extra, "commit": commitment(slot_key, vault_id, slot_id, slot_type, form)}
    return Keyslot(slot_id, slot_type, nonce, wrapped, CREATED, extra, wrap=form)


def rewrap(slot: Keyslot, vault_id: str, slot_key: bytes, data_key: bytes) -> Keyslot:
    """The same slot (id, kind, KDF salt and settings) wrapping `data_key` in version 2's form, fresh nonce."""
    extra = {k: v for k, v in slot.extra.items() if k != "commit"}
    fresh = wrap(slot.id, slot.type, vault_id, slot_key, data_key, extra)
    fresh.created = slot.created
    return fresh


def unwrap(slot: Keyslot, vault_id: str, slot_key: bytes) -> bytes | None:
    """The data key, or None if `slot_key` is not this slot's key.

    A slot with a key commitment that matches `slot_key` but does not unwrap was changed:
    IntegrityError (exit 5), never "wrong key".
    """
    committed = "commit" in slot.extra
    if committed and not hmac.compare_digest(
            str(slot.extra["commit"]), commitment(slot_key, vault_id, slot.id, slot.type, slot.wrap)):
        return None
    try:
        return crypto.open_sealed(slot_key, slot.nonce, slot.wrapped,
                                  _aad(slot.wrap, vault_id, slot.id, slot.type))
    except crypto.AuthenticationFailed:
        if committed:
            raise IntegrityError(
                f"vault integrity check failed: keyslot {slot.id} was changed",
                "the key is right but its keyslot does not authenticate; the file has not been "
                "touched; `tokensafe backup restore` brings back the previous generation") from None
        return None


def next_slot_id(slots: list[Keyslot]) -> str:
    """One above the highest id in use: an id is not reused while a higher one exists."""
    numbers = [int(s.id[1:]) for s in slots if s.id[:1] == "k" and s.id[1:].isdigit()]
    return f"k{max(numbers, default=0) + 1}"


_MOVED = {"new_passphrase_slot", "passphrase_slot_key", "keyring_account", "new_keyring_slot",
          "keyring_slot_key", "format_recovery_key", "parse_recovery_key", "new_recovery_slot",
          "recovery_slot_key", "RECOVERY_PREFIX"}


def __getattr__(name: str) -> Any:
    # The per-kind helpers moved to keysources; imported lazily (keysources imports us).
    if name in _MOVED:
        from vault.store import keysources

        return getattr(keysources, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
