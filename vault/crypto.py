"""Every primitive tokensafe uses, in one small pure module (no I/O, no logging).

Only high-level pyca/cryptography constructions: AES-256-GCM (AEAD), Argon2id (passphrase
KDF), HKDF-SHA256 (deriving slot keys from random keys), HMAC-SHA256 (fingerprints).
The format these serve is specified in SECURITY.md.
"""

from __future__ import annotations

import os

from vault.record import FrozenRecord, init_field

KEY_LEN = 32
NONCE_LEN = 12
SALT_LEN = 16

# Domain-separation labels: a key derived for one purpose can never serve another.
KEYSLOT_AAD_LABEL = b"tokensafe keyslot v1|"
KEYSLOT_COMMIT_LABEL = b"tokensafe keyslot commitment v1|"
HKDF_KEYRING_INFO = b"tokensafe keyslot keyring v1"
HKDF_RECOVERY_INFO = b"tokensafe keyslot recovery v1"
HKDF_ACCESS_LOG_INFO = b"tokensafe access log mac v1"  # the access log's chained MACs
# Format version 2 (SECURITY.md): labels and fields are length-prefixed, never joined by "|".
KEYSLOT_AAD_LABEL_V2 = b"tokensafe keyslot v2"
KEYSLOT_COMMIT_LABEL_V2 = b"tokensafe keyslot commitment v2"
DATA_KEY_COMMIT_LABEL = b"tokensafe data key commitment v2"


class AuthenticationFailed(Exception):
    """The one opaque failure of `open_sealed`: wrong key or modified data, never which."""


class KdfParams(FrozenRecord):
    """Argon2id parameters; stored per passphrase keyslot."""

    __slots__ = ("iterations", "lanes", "memory_kib")

    def __init__(self, iterations: int = 3, lanes: int = 4,
                 memory_kib: int = 64 * 1024) -> None:  # RFC 9106, second recommended option
        init_field(self, "iterations", iterations)
        init_field(self, "lanes", lanes)
        init_field(self, "memory_kib", memory_kib)


DEFAULT_KDF = KdfParams()
# Test-only hook: tests set this to cheap parameters; production code never does.
_test_kdf_params: KdfParams | None = None


def default_kdf_params() -> KdfParams:
    return _test_kdf_params or DEFAULT_KDF


def random_bytes(n: int) -> bytes:
    """The one source of randomness (the OS CSPRNG); test vectors replace it with a seeded one."""
    return os.urandom(n)


def new_key() -> bytes:
    """A fresh random 256-bit key: data keys, keyring secrets, recovery keys, fingerprint keys."""
    return random_bytes(KEY_LEN)


def new_salt() -> bytes:
    return random_bytes(SALT_LEN)


def new_id(n_bytes: int = 16) -> str:
    """A random public identifier (hex), e.g. a vault id; not a key."""
    return random_bytes(n_bytes).hex()


def normalize_passphrase(passphrase: str) -> str:
    """Unicode NFC: the same passphrase typed precomposed or decomposed (macOS, pasting) is one key."""
    import unicodedata

    return unicodedata.normalize("NFC", passphrase)


def derive_passphrase_key(passphrase: str, salt: bytes, params: KdfParams, normalize: bool = False) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    if normalize:
        passphrase = normalize_passphrase(passphrase)
    kdf = Argon2id(salt=salt, length=KEY_LEN, iterations=params.iterations,
                   lanes=params.lanes, memory_cost=params.memory_kib)
    return kdf.derive(passphrase.encode("utf-8"))


def hkdf(ikm: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=None, info=info).derive(ikm)


def seal(key: bytes, plaintext: bytes, aad: bytes, nonce: bytes | None = None) -> tuple[bytes, bytes]:
    """AES-256-GCM; returns (nonce, ciphertext||tag). `nonce` is a seam for test vectors."""
    # Imported here: the guard needs this module's HMAC but not the AEAD (audit start-up).
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = nonce if nonce is not None else random_bytes(NONCE_LEN)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise AuthenticationFailed() from None


def keyslot_aad(vault_id: str, slot_id: str, slot_type: str) -> bytes:
    # The fields are validated by the format (hex, k + digits, a registered type): none holds
    # a "|", so the joined string has one reading.
    return KEYSLOT_AAD_LABEL + f"{vault_id}|{slot_id}|{slot_type}".encode()


def key_commitment(slot_key: bytes, vault_id: str, slot_id: str, slot_type: str) -> bytes:
    """HMAC of the slot key: makes the (not key-committing) AES-GCM wrap open under one key only."""
    return hmac_sha256(slot_key, KEYSLOT_COMMIT_LABEL + f"{vault_id}|{slot_id}|{slot_type}".encode())


def lp(*parts: str | bytes) -> bytes:
    """LP(a) ‖ LP(b) ‖ …: each part as its 4-byte big-endian length then its bytes (one reading)."""
    out = b""
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        out += len(raw).to_bytes(4, "big") + raw
    return out


def keyslot_aad_v2(vault_id: str, slot_id: str, slot_type: str) -> bytes:
    return lp(KEYSLOT_AAD_LABEL_V2, vault_id, slot_id, slot_type)


def key_commitment_v2(slot_key: bytes, vault_id: str, slot_id: str, slot_type: str) -> bytes:
    return hmac_sha256(slot_key, lp(KEYSLOT_COMMIT_LABEL_V2, vault_id, slot_id, slot_type))


def data_key_commitment(data_key: bytes, vault_id: str) -> bytes:
    """Binds a version-2 file to one data key: AES-GCM alone would let a payload open under several."""
    return hmac_sha256(data_key, lp(DATA_KEY_COMMIT_LABEL, vault_id))


def checksum(data: bytes) -> bytes:
    """Unkeyed SHA-256: tells corruption from a wrong key; not a security mechanism."""
    import hashlib  # here: OpenSSL's loading is ~3 ms of every `audit` start, before its first finding

    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (one-shot C implementation: the guard calls it per candidate token)."""
    import hmac  # see checksum

    return hmac.digest(key, data, "sha256")


def fingerprint(key: bytes, value: str | bytes) -> str:
    """Keyed fingerprint of a value (HMAC-SHA256, hex): comparable, not brute-forceable without key.

    Text is UTF-8; "surrogatepass" lets the guard fingerprint what it decoded from a broken
    file without failing (for valid text it is plain UTF-8).
    """
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hmac_sha256(key, data).hex()
