"""Vault file format version 1 (SECURITY.md): parse and build the bytes, check integrity.

Parsing never needs a key. Every structural problem is an IntegrityError (exit 5), raised
before any key is tried, so corruption is never mistaken for a wrong passphrase.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from typing import Any

from vault import crypto
from vault.errors import IntegrityError

MAGIC = b"TKSAFE\x00"
VERSION = 1
PREFIX_LEN = len(MAGIC) + 1 + 4
TRAILER_LEN = 32
MAX_HEADER = 1 << 20


def _corrupt(why: str) -> IntegrityError:
    return IntegrityError(
        f"vault integrity check failed: {why}",
        "the file was changed or damaged and has not been touched; "
        "`tokensafe backup restore` brings back the previous generation",
    )


@dataclass
class Keyslot:
    id: str
    type: str
    nonce: bytes
    wrapped: bytes
    created: int
    extra: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "nonce": base64.b64encode(self.nonce).decode(),
            "wrapped": base64.b64encode(self.wrapped).decode(),
            "created": self.created,
            **self.extra,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Keyslot:
        base = {"id", "type", "nonce", "wrapped", "created"}
        return cls(str(d["id"]), str(d["type"]), _b64(d["nonce"]), _b64(d["wrapped"]),
                   int(d["created"]), {k: v for k, v in d.items() if k not in base})


@dataclass
class Header:
    vault_id: str
    generation: int
    created: int
    keyslots: list[Keyslot]
    cipher: str = "AES-256-GCM"

    def to_bytes(self) -> bytes:
        doc = {
            "cipher": self.cipher,
            "created": self.created,
            "generation": self.generation,
            "keyslots": [s.to_json() for s in self.keyslots],
            "vault_id": self.vault_id,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    def slot(self, slot_id: str) -> Keyslot | None:
        return next((s for s in self.keyslots if s.id == slot_id), None)


@dataclass
class Parsed:
    header: Header
    aad: bytes  # magic .. end of header: authenticated by the payload AEAD
    nonce: bytes
    ciphertext: bytes


def _b64(s: Any) -> bytes:
    if not isinstance(s, str):
        raise ValueError("not base64 text")
    return base64.b64decode(s, validate=True)


def _slot_fields_ok(slot: Keyslot) -> bool:
    """Common fields have the right sizes; the slot's kind checks its own (see keysources)."""
    from vault.store.keysources import REGISTRY  # imported here: keysources imports this module

    if len(slot.nonce) != crypto.NONCE_LEN or len(slot.wrapped) != crypto.KEY_LEN + 16:
        return False
    source = REGISTRY.get(slot.type)
    return source is not None and source.fields_ok(slot)


def build(header: Header, seal_payload) -> bytes:
    """Assemble a file; `seal_payload(aad) -> (nonce, ciphertext)` seals with the data key."""
    hb = header.to_bytes()
    aad = MAGIC + bytes([VERSION]) + struct.pack(">I", len(hb)) + hb
    nonce, ct = seal_payload(aad)
    body = aad + nonce + ct
    return body + crypto.checksum(body)


def parse(data: bytes) -> Parsed:
    if len(data) < PREFIX_LEN + crypto.NONCE_LEN + 16 + TRAILER_LEN:
        if not data.startswith(MAGIC[: len(data)]) or not data:
            raise _corrupt("not a tokensafe vault (bad magic)") if data else _corrupt("the file is empty")
        raise _corrupt("the file is truncated")
    if data[: len(MAGIC)] != MAGIC:
        raise _corrupt("not a tokensafe vault (bad magic)")
    version = data[len(MAGIC)]
    body, trailer = data[:-TRAILER_LEN], data[-TRAILER_LEN:]
    if crypto.checksum(body) != trailer:
        raise _corrupt("checksum mismatch (modified or truncated)")
    if version != VERSION:
        raise IntegrityError(
            f"unsupported vault format version {version}",
            "this vault was written by a newer tokensafe; upgrade tokensafe",
        )
    (hlen,) = struct.unpack(">I", data[len(MAGIC) + 1 : PREFIX_LEN])
    if hlen > MAX_HEADER or PREFIX_LEN + hlen + crypto.NONCE_LEN + 16 > len(body):
        raise _corrupt("bad header length")
    hb = body[PREFIX_LEN : PREFIX_LEN + hlen]
    try:
        doc = json.loads(hb)
        header = Header(
            vault_id=str(doc["vault_id"]),
            generation=int(doc["generation"]),
            created=int(doc["created"]),
            keyslots=[Keyslot.from_json(s) for s in doc["keyslots"]],
            cipher=str(doc["cipher"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise _corrupt(f"unreadable header ({type(e).__name__})") from None
    if header.cipher != "AES-256-GCM":
        raise _corrupt(f"unknown cipher {header.cipher!r}")
    from vault.store.keysources import REGISTRY

    if not header.keyslots or any(s.type not in REGISTRY for s in header.keyslots):
        raise _corrupt("no keyslot, or a keyslot of unknown type")
    if len({s.id for s in header.keyslots}) != len(header.keyslots):
        raise _corrupt("two keyslots with the same id")
    for slot in header.keyslots:
        if not _slot_fields_ok(slot):
            raise _corrupt(f"keyslot {slot.id!r} is malformed")
    aad = body[: PREFIX_LEN + hlen]
    rest = body[PREFIX_LEN + hlen :]
    return Parsed(header, aad, rest[: crypto.NONCE_LEN], rest[crypto.NONCE_LEN :])
