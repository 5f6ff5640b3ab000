"""A second reader of the vault format, written from SECURITY.md alone: it imports nothing of `vault`.

`read(file, passphrase=…, recovery_key=…, keyring_secret=…, seen_v2=…)` returns (payload
dict, the intermediate values) or raises Bad("integrity" | "wrong key" | "bad key"). It reads
format versions 1 and 2; `seen_v2` holds the vault ids already seen at version 2 (a version-1
file of one is refused before any key is tried). The tests run it over every pinned vector;
where it and the real reader disagree, one of them is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Bad(Exception):
    pass


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SLOT_FIELDS = {"keyring": {"service", "account"}, "recovery": set(),
               "passphrase": {"kdf", "salt", "iterations", "lanes", "memory_kib"}}


def b64(s: object, n: int) -> bytes:
    if not isinstance(s, str) or base64.b64encode(raw := base64.b64decode(s, validate=True)).decode() != s:
        raise Bad("integrity")
    if len(raw) != n:
        raise Bad("integrity")
    return raw


def hkdf(ikm: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, None, info).derive(ikm)


def pairs(kv: list) -> dict:
    if len({k for k, _ in kv}) != len(kv):
        raise Bad("integrity")
    return dict(kv)


def lp(*parts: str | bytes) -> bytes:
    """Version 2's LP(x): 4-byte big-endian length, then the bytes."""
    raw = [p.encode() if isinstance(p, str) else p for p in parts]
    return b"".join(len(r).to_bytes(4, "big") + r for r in raw)


def header_of(data: bytes) -> tuple[dict, bytes, bytes]:
    if len(data) < 12 + 12 + 16 + 32 or data[:7] != b"TKSAFE\x00" or data[7] not in (1, 2):
        raise Bad("integrity")
    v = data[7]
    if hashlib.sha256(data[:-32]).digest() != data[-32:]:
        raise Bad("integrity")
    hlen = int.from_bytes(data[8:12], "big")
    if hlen > 65536 or 12 + hlen + 28 > len(data) - 32:
        raise Bad("integrity")
    hb = data[12:12 + hlen]
    try:
        doc = json.loads(hb, object_pairs_hook=pairs, parse_float=lambda _: 1 / 0)
    except (ValueError, ZeroDivisionError) as e:
        raise Bad("integrity") from e
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    if canonical != hb or re.search(rb'[^A-Za-z0-9+/=._:\-"{}\[\],]', hb):
        raise Bad("integrity")  # not canonical, or a character a header never holds
    top = {"cipher", "created", "generation", "keyslots", "vault_id"} if v == 1 else {"cipher", "commit", "keyslots", "vault_id"}
    if set(doc) != top:
        raise Bad("integrity")
    ints = [doc[k] for k in ("created", "generation") if v == 1] + [
        s.get(k) for s in doc["keyslots"] for k in ("created", "wrap", "iterations", "lanes", "memory_kib") if k in s]
    slots = doc["keyslots"]
    if (doc["cipher"] != "AES-256-GCM" or (v == 2 and len(b64(doc["commit"], 32)) != 32)
            or any(type(i) is not int or i < 0 for i in ints) or not re.fullmatch(r"[0-9a-f]{32}", doc["vault_id"])
            or not 1 <= len(slots) <= 8 or sum(s["type"] == "passphrase" for s in slots) > 2
            or len({s["id"] for s in slots}) != len(slots)):
        raise Bad("integrity")
    for s in slots:
        base = {"id", "type", "nonce", "wrapped", "created"} if v == 1 else {"id", "type", "nonce", "wrapped", "wrap"}
        extra = set(s) - base - {"commit", "normalize"}
        if s["type"] not in SLOT_FIELDS or extra != SLOT_FIELDS[s["type"]] or not re.fullmatch(r"k[1-9]\d{0,2}", s["id"]):
            raise Bad("integrity")
        if not base <= set(s) or (v == 2 and (s["wrap"] not in (1, 2) or (s["wrap"] == 2 and "commit" not in s))):
            raise Bad("integrity")
        if "commit" in s:
            b64(s["commit"], 32)
        if s["type"] == "passphrase" and not (s["kdf"] == "argon2id" and 1 <= s["iterations"] <= 16
                                              and 1 <= s["lanes"] <= 16 and 8 * s["lanes"] <= s["memory_kib"] <= 1 << 20):
            raise Bad("integrity")
        b64(s["nonce"], 12), b64(s["wrapped"], 48), b64(s.get("salt", "A" * 22 + "=="), 16)
    return doc, data[:12 + hlen], data[12 + hlen:-32]


def slot_key(s: dict, passphrase: str | None, recovery_key: str | None, keyring_secret: str | None) -> bytes | None:
    if s["type"] == "passphrase" and passphrase is not None:
        pw = unicodedata.normalize("NFC", passphrase) if s.get("normalize") == "nfc" else passphrase
        return Argon2id(salt=b64(s["salt"], 16), length=32, iterations=s["iterations"], lanes=s["lanes"],
                        memory_cost=s["memory_kib"]).derive(pw.encode())
    if s["type"] == "recovery" and recovery_key is not None:
        t = "".join(c for c in recovery_key.upper() if c not in "- \t\r\n")
        t = t[4:] if len(t) == 56 and t.startswith("TSR1") else t
        t = t.replace("O", "0").replace("I", "1").replace("L", "1")
        if len(t) != 52 or any(c not in CROCKFORD for c in t) or CROCKFORD.index(t[-1]) & 0xF:
            raise Bad("bad key")
        n = int("".join(f"{CROCKFORD.index(c):05b}" for c in t), 2) >> 4
        return hkdf(n.to_bytes(32, "big"), b"tokensafe keyslot recovery v1")
    if s["type"] == "keyring" and keyring_secret is not None:
        return hkdf(base64.b64decode(keyring_secret), b"tokensafe keyslot keyring v1")
    return None


def slot_aad_and_commit(s: dict, vid: str, key: bytes) -> tuple[bytes, bytes]:
    """(AAD, commitment) of a slot: the "|" join of version 1 (and of `wrap` 1), else LP fields."""
    if s.get("wrap", 1) == 1:
        fields = f"{vid}|{s['id']}|{s['type']}".encode()
        return (b"tokensafe keyslot v1|" + fields,
                hmac.new(key, b"tokensafe keyslot commitment v1|" + fields, "sha256").digest())
    return (lp("tokensafe keyslot v2", vid, s["id"], s["type"]),
            hmac.new(key, lp("tokensafe keyslot commitment v2", vid, s["id"], s["type"]), "sha256").digest())


def read(data: bytes, passphrase: str | None = None, recovery_key: str | None = None,
         keyring_secret: str | None = None, seen_v2: frozenset[str] | set[str] = frozenset()) -> tuple[dict, dict]:
    doc, aad, rest = header_of(data)
    vid, v = doc["vault_id"], data[7]
    if v == 1 and vid in seen_v2:
        raise Bad("integrity")  # a downgrade: no key is tried against it
    for s in doc["keyslots"]:
        key = slot_key(s, passphrase, recovery_key, keyring_secret)
        if key is None:
            continue
        slot_aad, commit = slot_aad_and_commit(s, vid, key)
        if "commit" in s and b64(s["commit"], 32) != commit:
            continue
        try:
            dk = AESGCM(key).decrypt(b64(s["nonce"], 12), b64(s["wrapped"], 48), slot_aad)
        except InvalidTag:
            if "commit" in s:
                raise Bad("integrity") from None
            continue
        dk_commit = hmac.new(dk, lp("tokensafe data key commitment v2", vid), "sha256").digest()
        if v == 2 and b64(doc["commit"], 32) != dk_commit:
            if "commit" in s:
                raise Bad("integrity")
            continue  # a slot without commitment: "not this key's", as a wrong key
        try:
            plain = AESGCM(dk).decrypt(rest[:12], rest[12:], aad)
        except InvalidTag:
            raise Bad("integrity") from None
        body = plain.rstrip(b" ")
        if not body.endswith(b"}"):
            raise Bad("integrity")
        payload = json.loads(body)
        seen = {"data_key": dk.hex(), "padded_plaintext_length": len(plain),
                s["id"]: {"slot_key": key.hex(), "aad": slot_aad.hex(), "commit": commit.hex()}}
        if v == 2:
            if any(type(payload.get(k)) is not int or not 0 <= payload[k] < 1 << 53 for k in ("generation", "created")):
                raise Bad("integrity")
            seen["data_key_commit"] = dk_commit.hex()
        return payload, seen
    raise Bad("wrong key")
