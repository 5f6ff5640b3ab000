"""Keyslots: each wraps the one data key with a key from a keyring, passphrase or recovery key."""

from __future__ import annotations

import base64
import time
from typing import Any

from vault import crypto
from vault.errors import UsageError
from vault.store import keyring_access
from vault.store.format import Keyslot

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC4648, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _RFC4648)
RECOVERY_PREFIX = "TSR1-"


def _wrap(slot_id: str, slot_type: str, vault_id: str, slot_key: bytes, data_key: bytes,
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


# passphrase ---------------------------------------------------------------------------

def new_passphrase_slot(slot_id: str, vault_id: str, data_key: bytes, passphrase: str,
                        params: crypto.KdfParams | None = None) -> Keyslot:
    params = params or crypto.default_kdf_params()
    salt = crypto.random_bytes(crypto.SALT_LEN)
    key = crypto.derive_passphrase_key(passphrase, salt, params)
    extra = {"kdf": "argon2id", "salt": base64.b64encode(salt).decode(),
             "iterations": params.iterations, "lanes": params.lanes, "memory_kib": params.memory_kib}
    return _wrap(slot_id, "passphrase", vault_id, key, data_key, extra)


def passphrase_slot_key(slot: Keyslot, passphrase: str) -> bytes:
    x = slot.extra
    params = crypto.KdfParams(int(x["iterations"]), int(x["lanes"]), int(x["memory_kib"]))
    return crypto.derive_passphrase_key(passphrase, base64.b64decode(x["salt"]), params)


# keyring ------------------------------------------------------------------------------

def keyring_account(vault_id: str, slot_id: str) -> str:
    return f"{vault_id}/{slot_id}"


def new_keyring_slot(slot_id: str, vault_id: str, data_key: bytes) -> Keyslot:
    """Store a fresh random key in the OS keyring and wrap the data key with it."""
    secret = crypto.random_bytes(crypto.KEY_LEN)
    account = keyring_account(vault_id, slot_id)
    keyring_access.put(account, base64.b64encode(secret).decode())
    key = crypto.hkdf(secret, crypto.HKDF_KEYRING_INFO)
    return _wrap(slot_id, "keyring", vault_id, key, data_key,
                 {"service": keyring_access.SERVICE, "account": account})


def keyring_slot_key(slot: Keyslot) -> bytes | None:
    """The slot key from the OS keyring; None if the keyring has no such entry."""
    stored = keyring_access.get(str(slot.extra.get("account")))
    if stored is None:
        return None
    try:
        secret = base64.b64decode(stored, validate=True)
    except ValueError:
        return None
    return crypto.hkdf(secret, crypto.HKDF_KEYRING_INFO)


# recovery -----------------------------------------------------------------------------

def format_recovery_key(raw: bytes) -> str:
    b32 = base64.b32encode(raw).decode().rstrip("=").translate(_TO_CROCKFORD)
    return RECOVERY_PREFIX + "-".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_recovery_key(text: str) -> bytes:
    s = "".join(c for c in text.upper() if c not in "- \t\r\n")
    if len(s) == 52 + len(RECOVERY_PREFIX) - 1 and s.startswith(RECOVERY_PREFIX[:-1]):
        s = s[len(RECOVERY_PREFIX) - 1:]  # "TSR1-", "TSR1 " or "tsr1" typed before the key
    s = s.replace("O", "0").replace("I", "1").replace("L", "1")
    if any(c not in _CROCKFORD for c in s) or len(s) != 52:
        raise UsageError("that is not a tokensafe recovery key",
                         "a recovery key is TSR1- then 52 letters and digits in groups of four, e.g. TSR1-7K2M-…")
    b32 = s.translate(_FROM_CROCKFORD)
    return base64.b32decode(b32 + "=" * (-len(b32) % 8))


def new_recovery_slot(slot_id: str, vault_id: str, data_key: bytes) -> tuple[Keyslot, str]:
    raw = crypto.random_bytes(crypto.KEY_LEN)
    key = crypto.hkdf(raw, crypto.HKDF_RECOVERY_INFO)
    return _wrap(slot_id, "recovery", vault_id, key, data_key, {}), format_recovery_key(raw)


def recovery_slot_key(text: str) -> bytes:
    return crypto.hkdf(parse_recovery_key(text), crypto.HKDF_RECOVERY_INFO)
