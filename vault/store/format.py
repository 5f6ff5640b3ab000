"""Vault file format versions 2 and 1 (SECURITY.md): parse and build the bytes, check integrity.

Version 2 is written; version 1 is read (and written only by the test vectors' builder).

Parsing never needs a key. Every structural problem is an IntegrityError (exit 5), raised
before any key is tried, so corruption is never mistaken for a wrong passphrase. The checks
run in the order SECURITY.md gives; the header must be canonical (the bytes this module
would write), so no two readers can take one file two ways.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass
from typing import Any

from vault import crypto
from vault.errors import IntegrityError

MAGIC = b"TKSAFE\x00"
VERSION = 2  # the version written
VERSIONS = (1, 2)  # the versions read
PREFIX_LEN = len(MAGIC) + 1 + 4
TRAILER_LEN = 32
MAX_HEADER = 1 << 16
MAX_SLOTS = 8
MAX_SLOTS_OF_KIND = {"passphrase": 2}
VAULT_ID_RE = re.compile(r"[0-9a-f]{32}")
SLOT_ID_RE = re.compile(r"k[1-9][0-9]{0,2}")
# Every string in a header: no escape is ever needed, so canonical JSON is plain to check.
_HEADER_STR_RE = re.compile(r"[A-Za-z0-9+/=._:-]*")
_SLOT_BASE = {1: frozenset({"id", "type", "nonce", "wrapped", "created"}),
              2: frozenset({"id", "type", "nonce", "wrapped", "wrap"})}
_HEADER_KEYS = {1: {"cipher", "created", "generation", "keyslots", "vault_id"},
                2: {"cipher", "commit", "keyslots", "vault_id"}}


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
    created: int  # version 1 headers only (a version 2 header keeps no times)
    extra: dict[str, Any]
    # How `wrapped` and `commit` were made: 2 length-prefixed, 1 the version-1 "|" join (SECURITY.md).
    wrap: int = 2

    def to_json(self, version: int = VERSION) -> dict[str, Any]:
        common: dict[str, Any] = {"created": self.created} if version == 1 else {"wrap": self.wrap}
        return {
            "id": self.id,
            "type": self.type,
            "nonce": base64.b64encode(self.nonce).decode(),
            "wrapped": base64.b64encode(self.wrapped).decode(),
            **common,
            **self.extra,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], version: int = VERSION) -> Keyslot:
        base = _SLOT_BASE[version]
        if not isinstance(d, dict) or not d.keys() >= base:
            raise ValueError("a keyslot lacks a common field")
        extra = {k: v for k, v in d.items() if k not in base}
        if version == 1:
            return cls(_str(d["id"]), _str(d["type"]), _b64(d["nonce"]), _b64(d["wrapped"]),
                       _int(d["created"]), extra, wrap=1)
        return cls(_str(d["id"]), _str(d["type"]), _b64(d["nonce"]), _b64(d["wrapped"]), 0, extra,
                   wrap=_int(d["wrap"]))


@dataclass
class Header:
    """A header; in version 2 `generation` and `created` live in the payload (set once it opened;
    `generation` is None before), and `commit` is the data-key commitment (base64)."""

    vault_id: str
    generation: int | None
    created: int
    keyslots: list[Keyslot]
    cipher: str = "AES-256-GCM"
    version: int = VERSION
    commit: str | None = None

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "cipher": self.cipher,
            "keyslots": [s.to_json(self.version) for s in self.keyslots],
            "vault_id": self.vault_id,
        }
        if self.version == 1:
            doc.update(created=self.created, generation=self.generation)
        else:
            doc["commit"] = self.commit
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    def slot(self, slot_id: str) -> Keyslot | None:
        return next((s for s in self.keyslots if s.id == slot_id), None)

    def slots_by_id(self, slot_id: str) -> Keyslot:
        slot = self.slot(slot_id)
        if slot is None:
            raise KeyError(slot_id)
        return slot


@dataclass
class Parsed:
    header: Header  # header.version: the file's format version
    aad: bytes  # magic .. end of header: authenticated by the payload AEAD
    nonce: bytes
    ciphertext: bytes


def _b64(s: Any) -> bytes:
    """Standard base64 in canonical form only (one spelling per byte string)."""
    if not isinstance(s, str):
        raise ValueError("not base64 text")
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise ValueError("non-canonical base64")
    return raw


def _str(x: Any) -> str:
    if not isinstance(x, str):
        raise ValueError("not a string")
    return x


def _int(x: Any) -> int:
    if type(x) is not int or not 0 <= x < 1 << 53:
        raise ValueError("not a non-negative integer")
    return x


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _plain_values(x: Any) -> bool:
    """Only the value shapes the canonical form allows (SECURITY.md, Header)."""
    if isinstance(x, dict):
        return all(_HEADER_STR_RE.fullmatch(k) and _plain_values(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_plain_values(v) for v in x)
    if isinstance(x, str):
        return _HEADER_STR_RE.fullmatch(x) is not None
    return type(x) is int and 0 <= x < 1 << 53


def _commit_ok(value: Any) -> bool:
    try:
        return len(_b64(value)) == crypto.KEY_LEN
    except (ValueError, binascii.Error):
        return False


def data_key_ok(header: Header, data_key: bytes) -> bool:
    """The data key matches a version-2 header's commitment (version 1 has none: always True)."""
    if header.version == 1:
        return True
    import hmac

    want = base64.b64encode(crypto.data_key_commitment(data_key, header.vault_id)).decode()
    return hmac.compare_digest(str(header.commit), want)


def seal_commitment(header: Header, data_key: bytes) -> None:
    header.commit = base64.b64encode(crypto.data_key_commitment(data_key, header.vault_id)).decode()


def payload_int(doc: Any, name: str) -> int:
    """A version-2 payload's `generation` or `created`: ValueError unless 0 <= n < 2^53."""
    if not isinstance(doc, dict):
        raise ValueError("the payload is not an object")
    return _int(doc.get(name))


def _slot_fields_ok(slot: Keyslot, version: int) -> bool:
    """Common fields have the right sizes; the slot's kind checks its own (see keysources)."""
    from vault.store.keysources import REGISTRY  # imported here: keysources imports this module

    if len(slot.nonce) != crypto.NONCE_LEN or len(slot.wrapped) != crypto.KEY_LEN + 16:
        return False
    if not SLOT_ID_RE.fullmatch(slot.id):
        return False
    if version == 2 and (slot.wrap not in (1, 2) or (slot.wrap == 2 and "commit" not in slot.extra)):
        return False  # a slot made in version 2 always carries its commitment
    if "commit" in slot.extra and not _commit_ok(slot.extra["commit"]):
        return False
    source = REGISTRY.get(slot.type)
    return source is not None and source.fields_ok(slot)


def build(header: Header, seal_payload) -> bytes:
    """Assemble a file; `seal_payload(aad) -> (nonce, ciphertext)` seals with the data key."""
    hb = header.to_bytes()
    _parse_header(hb, header.version)  # never write a header that the reader would refuse
    aad = MAGIC + bytes([header.version]) + struct.pack(">I", len(hb)) + hb
    nonce, ct = seal_payload(aad)
    body = aad + nonce + ct
    return body + crypto.checksum(body)


def parse(data: bytes) -> Parsed:
    """Check in SECURITY.md's order: size, magic, version, checksum, length, header."""
    if len(data) < PREFIX_LEN + crypto.NONCE_LEN + 16 + TRAILER_LEN:
        if not data:
            raise _corrupt("the file is empty")
        if not data.startswith(MAGIC[: len(data)]):
            raise _corrupt("not a tokensafe vault (bad magic)")
        raise _corrupt("the file is truncated")
    if data[: len(MAGIC)] != MAGIC:
        raise _corrupt("not a tokensafe vault (bad magic)")
    version = data[len(MAGIC)]
    if version not in VERSIONS:
        if version > VERSION:
            raise IntegrityError(
                f"unsupported vault format version {version}",
                "this vault was written by a newer tokensafe; upgrade tokensafe",
            )
        raise _corrupt(f"unknown format version {version}")
    body, trailer = data[:-TRAILER_LEN], data[-TRAILER_LEN:]
    if crypto.checksum(body) != trailer:
        raise _corrupt("checksum mismatch (modified or truncated)")
    (hlen,) = struct.unpack(">I", data[len(MAGIC) + 1 : PREFIX_LEN])
    if hlen > MAX_HEADER or PREFIX_LEN + hlen + crypto.NONCE_LEN + 16 > len(body):
        raise _corrupt("bad header length")
    hb = body[PREFIX_LEN : PREFIX_LEN + hlen]
    header = _parse_header(hb, version)
    aad = body[: PREFIX_LEN + hlen]
    rest = body[PREFIX_LEN + hlen :]
    return Parsed(header, aad, rest[: crypto.NONCE_LEN], rest[crypto.NONCE_LEN :])


def _parse_header(hb: bytes, version: int) -> Header:
    from vault.store.keysources import REGISTRY  # imported here: keysources imports this module

    try:
        doc = json.loads(hb.decode("ascii"), object_pairs_hook=_no_duplicates,
                         parse_float=_refuse, parse_constant=_refuse)
        if not isinstance(doc, dict) or set(doc) != _HEADER_KEYS[version]:
            raise ValueError("unexpected header fields")
        if not isinstance(doc["keyslots"], list) or not _plain_values(doc):
            raise ValueError("a value of a kind the header never holds")
        header = Header(
            vault_id=_str(doc["vault_id"]),
            generation=_int(doc["generation"]) if version == 1 else None,
            created=_int(doc["created"]) if version == 1 else 0,
            keyslots=[Keyslot.from_json(s, version) for s in doc["keyslots"]],
            cipher=_str(doc["cipher"]),
            version=version,
            commit=_str(doc["commit"]) if version == 2 else None,
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise _corrupt(f"unreadable header ({type(e).__name__})") from None
    if header.to_bytes() != hb:
        raise _corrupt("the header is not in canonical form")
    if version == 2 and not _commit_ok(header.commit):
        raise _corrupt("malformed data-key commitment")
    if header.cipher != "AES-256-GCM":
        raise _corrupt(f"unknown cipher {header.cipher!r}")
    if not VAULT_ID_RE.fullmatch(header.vault_id):
        raise _corrupt("malformed vault id")
    if not header.keyslots or any(s.type not in REGISTRY for s in header.keyslots):
        raise _corrupt("no keyslot, or a keyslot of unknown type")
    if len(header.keyslots) > MAX_SLOTS or any(
            sum(s.type == kind for s in header.keyslots) > n for kind, n in MAX_SLOTS_OF_KIND.items()):
        raise _corrupt(f"too many keyslots (at most {MAX_SLOTS}, of them 2 passphrase slots)")
    if len({s.id for s in header.keyslots}) != len(header.keyslots):
        raise _corrupt("two keyslots with the same id")
    for slot in header.keyslots:
        if not _slot_fields_ok(slot, version):
            raise _corrupt(f"keyslot {slot.id!r} is malformed")
    return header


def _refuse(text: str) -> Any:
    raise ValueError(f"{text!r} is not allowed in a header")
