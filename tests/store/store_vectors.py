"""Deterministic vault files for the pinned test vectors in tests/vectors/.

`python tests/store/store_vectors.py` rewrites the JSON vectors; the tests check that the
pinned bytes still read as expected AND that today's encoder still produces them.
Each vector names what reading it must give (`expect`), like age's testkit:
`success`, `integrity failure` (exit 5) or `wrong key` (exit 3).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

from vault import crypto
from vault.store import format, keyslots
from vault.store.model import Entry, VaultData

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"
PASSPHRASE = "vector passphrase ünïcode"
KDF = crypto.KdfParams(iterations=1, lanes=1, memory_kib=8)
CREATED = 1764350000
VAULT_ID = "3f0c" + "00112233445566778899aabbccdd"
PAYLOAD_NONCE = bytes(range(12))
RECOVERY_RAW = bytes(range(100, 132))


class DetRandom:
    """crypto.random_bytes stand-in: SHA-256 in counter mode over a fixed seed."""

    def __init__(self, seed: bytes) -> None:
        self.seed, self.n = seed, 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + struct.pack(">I", self.n)).digest()
            self.n += 1
        return out[:n]


def reference_data() -> VaultData:
    data = VaultData(current="dev", fingerprint_key=bytes(range(32)))
    dev = data.ensure_env("dev")
    for name, value in (("auth0_domain", "example.eu.auth0.com"),
                        ("auth0_token", "tok_0123456789abcdefGHIJ"),
                        ("note", "grüße, 世界 ✓")):
        dev.entries[name] = Entry.new(name, value, ["*.auth0.com"] if name == "auth0_token" else None,
                                      now=CREATED + 0.5)
    data.ensure_env("prod")
    return data


def build_reference(monkeypatch) -> tuple[bytes, bytes]:
    """(file bytes, data key) of the reference vault; random bytes and time are pinned."""
    monkeypatch.setattr(crypto, "random_bytes", DetRandom(b"tokensafe vectors v1"))
    monkeypatch.setattr(keyslots.time, "time", lambda: CREATED)
    data_key = crypto.random_bytes(crypto.KEY_LEN)
    slots = [keyslots.new_passphrase_slot("k1", VAULT_ID, data_key, PASSPHRASE, KDF)]
    monkeypatch.setattr(crypto, "random_bytes", lambda n: RECOVERY_RAW[:n])
    slot, _ = keyslots.new_recovery_slot("k2", VAULT_ID, data_key)
    slots.append(slot)
    header = format.Header(VAULT_ID, 3, CREATED, slots)
    plain = reference_data().to_bytes()
    raw = format.build(header, lambda aad: crypto.seal(data_key, plain, aad, nonce=PAYLOAD_NONCE))
    return raw, data_key


def recovery_text() -> str:
    return keyslots.format_recovery_key(RECOVERY_RAW)


def _fix_checksum(body: bytes) -> bytes:
    return body + crypto.checksum(body)


def _header_span(raw: bytes) -> tuple[int, int]:
    (hlen,) = struct.unpack(">I", raw[8:12])
    return 12, 12 + hlen


def _replace_in_header(raw: bytes, old: bytes, new: bytes) -> bytes:
    """Edit the header JSON (same length), keeping the checksum valid: only the AEAD can tell."""
    assert len(old) == len(new)
    start, end = _header_span(raw)
    header = raw[start:end]
    assert header.count(old) == 1, old
    return _fix_checksum(raw[:start] + header.replace(old, new) + raw[end:-32])


def variants(raw: bytes) -> list[dict[str, Any]]:
    """(name, description, expect, bytes, key) for every vector."""
    start, end = _header_span(raw)
    ct_at = end + 12
    flip = lambda b, i: b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]  # noqa: E731
    pw, rk = {"passphrase": PASSPHRASE}, {"recovery_key": recovery_text()}
    return [
        dict(name="success_passphrase", expect="success", file=raw, key=pw,
             description="the reference vault opened with its passphrase"),
        dict(name="success_recovery", expect="success", file=raw, key=rk,
             description="the reference vault opened with its recovery key"),
        dict(name="wrong_passphrase", expect="wrong key", file=raw,
             key={"passphrase": PASSPHRASE + "!"}, description="one character too many"),
        dict(name="wrong_recovery_key", expect="wrong key", file=raw,
             key={"recovery_key": keyslots.format_recovery_key(bytes(32))},
             description="a well-formed recovery key that is not this vault's"),
        dict(name="truncated_trailer", expect="integrity failure", file=raw[:-1], key=pw,
             description="the last byte is missing"),
        dict(name="truncated_half", expect="integrity failure", file=raw[: len(raw) // 2], key=pw,
             description="only the first half of the file"),
        dict(name="truncated_to_magic", expect="integrity failure", file=raw[:8], key=pw,
             description="only the magic"),
        dict(name="empty", expect="integrity failure", file=b"", key=pw,
             description="an empty file"),
        dict(name="appended_byte", expect="integrity failure", file=raw + b"\x00", key=pw,
             description="one byte added at the end"),
        dict(name="bad_magic", expect="integrity failure", file=b"X" + raw[1:], key=pw,
             description="first byte of the magic changed"),
        dict(name="future_version", expect="integrity failure",
             file=_fix_checksum(raw[:7] + b"\x02" + raw[8:-32]), key=pw,
             description="format version 2, checksum recomputed"),
        dict(name="flipped_keyslot_wrapped", expect="integrity failure",
             file=flip(raw, raw.index(b'"wrapped":"') + 12), key=pw,
             description="a bit flipped inside a keyslot (checksum catches it before any key is tried)"),
        dict(name="flipped_ciphertext", expect="integrity failure", file=flip(raw, ct_at + 3), key=pw,
             description="a bit flipped in the payload ciphertext"),
        dict(name="flipped_checksum", expect="integrity failure", file=flip(raw, len(raw) - 1), key=pw,
             description="a bit flipped in the SHA-256 trailer"),
        dict(name="forged_ciphertext", expect="integrity failure",
             file=_fix_checksum(flip(raw, ct_at + 3)[:-32]), key=pw,
             description="payload bit flipped and the checksum recomputed: the AEAD catches it"),
        dict(name="forged_tag", expect="integrity failure",
             file=_fix_checksum(flip(raw, len(raw) - 33)[:-32]), key=pw,
             description="GCM tag bit flipped and the checksum recomputed"),
        dict(name="forged_nonce", expect="integrity failure",
             file=_fix_checksum(flip(raw, end)[:-32]), key=pw,
             description="payload nonce changed and the checksum recomputed"),
        dict(name="forged_generation", expect="integrity failure",
             file=_replace_in_header(raw, b'"generation":3', b'"generation":9'), key=pw,
             description="header generation changed, checksum recomputed: the header is AAD"),
        dict(name="forged_created", expect="integrity failure",
             file=_replace_in_header(raw, b'"created":1764350000,"generation"',
                                     b'"created":1764350001,"generation"'), key=pw,
             description="header time changed, checksum recomputed"),
        dict(name="forged_kdf_iterations", expect="wrong key",
             file=_replace_in_header(raw, b'"iterations":1', b'"iterations":2'), key=pw,
             description="a keyslot's KDF cost changed, checksum recomputed: that slot no longer unwraps"),
        dict(name="removed_keyslot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].pop()), key=pw,
             description="the recovery keyslot removed, lengths and checksum recomputed"),
        dict(name="bad_header_json", expect="integrity failure",
             file=_replace_in_header(raw, b'"cipher"', b'"cipher '), key=pw,
             description="header JSON broken, checksum recomputed"),
        dict(name="unknown_cipher", expect="integrity failure",
             file=_replace_in_header(raw, b"AES-256-GCM", b"AES-128-GCM"), key=pw,
             description="header names another cipher"),
    ]


def _rebuild_header(raw: bytes, change) -> bytes:
    start, end = _header_span(raw)
    doc = json.loads(raw[start:end])
    change(doc)
    hb = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return _fix_checksum(raw[:8] + struct.pack(">I", len(hb)) + hb + raw[end:-32])


def expected_payload() -> dict[str, Any]:
    return json.loads(reference_data().to_bytes())


def write_all(monkeypatch) -> None:
    raw, _ = build_reference(monkeypatch)
    VECTOR_DIR.mkdir(exist_ok=True)
    for v in variants(raw):
        doc = {"expect": v["expect"], "description": v["description"], **v["key"],
               "file_base64": base64.b64encode(v["file"]).decode()}
        if v["expect"] == "success":
            doc["payload"] = expected_payload()
        (VECTOR_DIR / f"{v['name']}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        write_all(mp)
    print(f"wrote {len(list(VECTOR_DIR.glob('*.json')))} vectors to {VECTOR_DIR}", file=sys.stderr)
