"""Deterministic vault files for the pinned test vectors in tests/vectors/.

`python tests/store/store_vectors.py` rewrites the JSON vectors; the tests check that the
pinned bytes still read as expected AND that today's encoder still produces them.
Each vector names what reading it must give (`expect`), like age's testkit:
`success`, `integrity failure` (exit 5), `wrong key` (exit 3) or `bad key` (a key typed
wrongly: exit 2). Success vectors also carry the intermediate values (data key, slot keys,
commitments, keyslot AAD, padded length) that tests/store/independent_reader.py checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
import unicodedata
from pathlib import Path
from typing import Any

from vault import crypto
from vault.store import format, keyslots, vaultfile
from vault.store.model import Entry, VaultData

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"
PASSPHRASE = "vector passphrase ünïcode"
KDF = crypto.KdfParams(iterations=1, lanes=1, memory_kib=8)
CREATED = 1764350000
VAULT_ID = "3f0c" + "00112233445566778899aabbccdd"
PAYLOAD_NONCE = bytes(range(12))
RECOVERY_RAW = bytes(range(100, 132))
KEYRING_IKM = bytes(range(200, 232))
KEYRING_ACCOUNT = "tokensafe-" + "ab" * 16


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


def reference_slots(monkeypatch, form: int) -> tuple[list[format.Keyslot], bytes]:
    """The reference keyslots k1 (passphrase), k2 (recovery), k3 (keyring) in `form` 1 or 2, and the data key."""
    monkeypatch.setattr(crypto, "random_bytes", DetRandom(b"tokensafe vectors v1"))
    data_key = crypto.random_bytes(crypto.KEY_LEN)
    salt = crypto.new_salt()  # the same draws, in the same order, as keysources.new_passphrase_slot
    extra = {"kdf": "argon2id", "salt": base64.b64encode(salt).decode(), "normalize": "nfc",
             "iterations": KDF.iterations, "lanes": KDF.lanes, "memory_kib": KDF.memory_kib}
    slots = [keyslots.wrap("k1", "passphrase", VAULT_ID, crypto.derive_passphrase_key(PASSPHRASE, salt, KDF, True),
                           data_key, extra, form)]
    monkeypatch.setattr(crypto, "random_bytes", lambda n: RECOVERY_RAW[:n])
    slots.append(keyslots.wrap("k2", "recovery", VAULT_ID, crypto.hkdf(RECOVERY_RAW, crypto.HKDF_RECOVERY_INFO),
                               data_key, {}, form))
    monkeypatch.setattr(crypto, "random_bytes", lambda n: bytes(range(50, 50 + n)))
    slots.append(keyslots.wrap("k3", "keyring", VAULT_ID, crypto.hkdf(KEYRING_IKM, crypto.HKDF_KEYRING_INFO),
                               data_key, {"service": "tokensafe", "account": KEYRING_ACCOUNT}, form))
    return slots, data_key


def build_reference(monkeypatch) -> tuple[bytes, bytes]:
    """(file bytes, data key) of the version-1 reference vault; random bytes are pinned."""
    slots, data_key = reference_slots(monkeypatch, 1)
    header = format.Header(VAULT_ID, 3, 0, slots, version=1)
    plain = vaultfile.pad(reference_data().to_bytes())
    raw = format.build(header, lambda aad: crypto.seal(data_key, plain, aad, nonce=PAYLOAD_NONCE))
    return raw, data_key


def intermediates(raw: bytes, data_key: bytes) -> dict[str, Any]:
    """What an independent reader must compute on the way (hex), per slot and for the payload."""
    header = format.parse(raw).header
    keys = {"k1": crypto.derive_passphrase_key(PASSPHRASE, base64.b64decode(header.slots_by_id("k1").extra["salt"]),
                                               KDF, normalize=True),
            "k2": crypto.hkdf(RECOVERY_RAW, crypto.HKDF_RECOVERY_INFO),
            "k3": crypto.hkdf(KEYRING_IKM, crypto.HKDF_KEYRING_INFO)}
    out: dict[str, Any] = {"data_key": data_key.hex(),
                           "padded_plaintext_length": len(vaultfile.pad(reference_data().to_bytes())),
                           "slots": {}}
    for sid, key in keys.items():
        slot = header.slots_by_id(sid)
        out["slots"][sid] = {"slot_key": key.hex(),
                             "aad": crypto.keyslot_aad(VAULT_ID, sid, slot.type).hex(),
                             "commit": crypto.key_commitment(key, VAULT_ID, sid, slot.type).hex()}
    return out


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
    kr = {"keyring_secret": base64.b64encode(KEYRING_IKM).decode()}
    spare = recovery_text()[:-1] + "1"  # the last character's spare bits set
    other = _rebuild_header(raw, lambda doc: None)  # same bytes: the canonical round trip
    assert other == raw
    return [
        dict(name="success_keyring", expect="success", file=raw, key=kr,
             description="the reference vault opened with its keyring secret (slot k3)"),
        dict(name="success_nfd_passphrase", expect="success", file=raw,
             key={"passphrase": unicodedata.normalize("NFD", PASSPHRASE)},
             description="the passphrase typed decomposed (NFD): normalised to NFC before Argon2id"),
        dict(name="recovery_key_spare_bits", expect="bad key", file=raw, key={"recovery_key": spare},
             description="the recovery key with the 4 spare bits of its last character set"),
        dict(name="forged_keyslot_wrapped", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(
                 wrapped=base64.b64encode(bytes(48)).decode())), key=pw,
             description="a keyslot's wrapped key replaced, checksum recomputed: its commitment "
                         "matches the passphrase, so this is tampering, not a wrong passphrase"),
        dict(name="swapped_keyslot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].reverse()), key=pw,
             description="keyslots reordered, lengths and checksum recomputed: the header is AAD"),
        dict(name="added_keyslot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].append(dict(doc["keyslots"][1], id="k4"))),
             key=pw, description="a copy of a keyslot added under a new id: the header is AAD"),
        dict(name="third_passphrase_slot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].extend(
                 [dict(doc["keyslots"][0], id="k4"), dict(doc["keyslots"][0], id="k5")])),
             key=pw, description="three passphrase keyslots: at most 2 are allowed"),
        dict(name="nine_keyslots", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].extend(
                 [dict(doc["keyslots"][1], id=f"k{n}") for n in range(4, 10)])),
             key=pw, description="nine keyslots: at most 8 are allowed"),
        dict(name="kdf_memory_out_of_range", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(memory_kib=(1 << 20) + 1)),
             key=pw, description="Argon2id memory above 1 GiB, checksum recomputed: refused before deriving"),
        dict(name="kdf_iterations_out_of_range", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(iterations=17)),
             key=pw, description="Argon2id iterations above 16: refused before deriving"),
        dict(name="short_salt", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(
                 salt=base64.b64encode(bytes(8)).decode())),
             key=pw, description="an 8-byte salt: salts are exactly 16 bytes"),
        dict(name="noncanonical_whitespace", expect="integrity failure",
             file=_rebuild_header(raw, None, lambda doc: json.dumps(doc, sort_keys=True).encode()),
             key=pw, description="the same header with spaces after , and : (not canonical)"),
        dict(name="noncanonical_string_integer", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc.update(generation="3")), key=pw,
             description='generation written as the string "3"'),
        dict(name="noncanonical_duplicate_key", expect="integrity failure",
             file=_rebuild_header(raw, None, lambda doc: _compact(doc).replace(
                 b'"cipher":"AES-256-GCM"', b'"cipher":"AES-256-GCM","cipher":"AES-256-GCM"')),
             key=pw, description="a duplicate key in the header"),
        dict(name="bad_vault_id", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc.update(vault_id=VAULT_ID.upper())), key=pw,
             description="the vault id in upper case: 32 lowercase hex digits only"),
        dict(name="bad_slot_id", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(id="k01")), key=pw,
             description="slot id k01 (leading zero)"),
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
             description="version byte 2 on a version-1 header, checksum recomputed: not a version-2 header"),
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
             file=_replace_in_header(raw, b'"created":0,"generation"',
                                     b'"created":1,"generation"'), key=pw,
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


def _compact(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _rebuild_header(raw: bytes, change, serialise=_compact) -> bytes:
    start, end = _header_span(raw)
    doc = json.loads(raw[start:end])
    if change is not None:
        change(doc)
    hb = serialise(doc)
    return _fix_checksum(raw[:8] + struct.pack(">I", len(hb)) + hb + raw[end:-32])


def expected_payload() -> dict[str, Any]:
    return json.loads(reference_data().to_bytes())


# format version 2 ------------------------------------------------------------------------

def _seal_v2(header: format.Header, data_key: bytes, payload: bytes | None = None) -> bytes:
    format.seal_commitment(header, data_key)
    plain = vaultfile.pad(payload if payload is not None else vaultfile.payload_bytes(reference_data(), header))
    return format.build(header, lambda aad: crypto.seal(data_key, plain, aad, nonce=PAYLOAD_NONCE))


def build_reference_v2(monkeypatch) -> tuple[bytes, bytes]:
    """(file bytes, data key) of the version-2 reference vault: the version-1 one's slots and
    data, every slot made in version 2 (`wrap` 2), generation 3, created CREATED."""
    slots, data_key = reference_slots(monkeypatch, 2)
    return _seal_v2(format.Header(VAULT_ID, 3, CREATED, slots), data_key), data_key


def build_upgraded(monkeypatch) -> tuple[bytes, bytes]:
    """The version-1 reference after one write by a command that held only the passphrase: the
    real upgrade path (k1 re-wrapped as `wrap` 2; k2, k3 carried over as `wrap` 1; generation 4)."""
    from vault import prompting
    from vault.store.unlock import Unlocker

    raw, data_key = build_reference(monkeypatch)
    u = Unlocker(use_keyring=False, _passphrase=PASSPHRASE, prompter=prompting.NoPrompter())
    opened = vaultfile.decode(None, raw, u)
    monkeypatch.setattr(crypto, "random_bytes", DetRandom(b"tokensafe vectors upgrade"))
    vaultfile.rewrap_legacy_slots(opened, u.slot_keys)
    opened.header.generation = (opened.header.generation or 0) + 1
    return vaultfile.encode(opened), data_key


def slot_keys_of(raw: bytes) -> dict[str, bytes]:
    header = format.parse(raw).header
    return {"k1": crypto.derive_passphrase_key(PASSPHRASE, base64.b64decode(header.slots_by_id("k1").extra["salt"]),
                                               KDF, normalize=True),
            "k2": crypto.hkdf(RECOVERY_RAW, crypto.HKDF_RECOVERY_INFO),
            "k3": crypto.hkdf(KEYRING_IKM, crypto.HKDF_KEYRING_INFO)}


def intermediates_v2(raw: bytes, data_key: bytes) -> dict[str, Any]:
    """Version 2's values on the way: per slot by its `wrap`, the data-key commitment, the generation."""
    parsed = format.parse(raw)
    plain = crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)
    out: dict[str, Any] = {"data_key": data_key.hex(), "padded_plaintext_length": len(plain),
                           "data_key_commit": crypto.data_key_commitment(data_key, VAULT_ID).hex(),
                           "generation": json.loads(plain)["generation"], "slots": {}}
    for sid, key in slot_keys_of(raw).items():
        slot = parsed.header.slots_by_id(sid)
        if slot.wrap == 1:
            aad, commit = (crypto.keyslot_aad(VAULT_ID, sid, slot.type),
                           crypto.key_commitment(key, VAULT_ID, sid, slot.type))
        else:
            aad, commit = (crypto.keyslot_aad_v2(VAULT_ID, sid, slot.type),
                           crypto.key_commitment_v2(key, VAULT_ID, sid, slot.type))
        out["slots"][sid] = {"slot_key": key.hex(), "aad": aad.hex(), "commit": commit.hex()}
    return out


def expected_payload_v2(raw: bytes, data_key: bytes) -> dict[str, Any]:
    parsed = format.parse(raw)
    return json.loads(vaultfile.unpad(crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)))


def _other_commit(doc: dict[str, Any]) -> None:
    """The header commits to another data key (all zero bytes)."""
    doc["commit"] = base64.b64encode(crypto.data_key_commitment(bytes(32), VAULT_ID)).decode()


def variants_v2(raw: bytes, upgraded: bytes, v1: bytes, data_key: bytes) -> list[dict[str, Any]]:
    pw, rk = {"passphrase": PASSPHRASE}, {"recovery_key": recovery_text()}
    kr = {"keyring_secret": base64.b64encode(KEYRING_IKM).decode()}
    no_generation = json.loads(reference_data().to_bytes())  # a payload sealed without `generation`
    no_generation["created"] = CREATED
    header = format.parse(raw).header
    return [
        dict(name="v2_success_passphrase", expect="success", file=raw, key=pw,
             description="the version-2 reference vault opened with its passphrase"),
        dict(name="v2_success_recovery", expect="success", file=raw, key=rk,
             description="the version-2 reference vault opened with its recovery key"),
        dict(name="v2_success_keyring", expect="success", file=raw, key=kr,
             description="the version-2 reference vault opened with its keyring secret"),
        dict(name="v2_wrong_passphrase", expect="wrong key", file=raw, key={"passphrase": PASSPHRASE + "!"},
             description="one character too many"),
        dict(name="v2_upgraded_success_passphrase", expect="success", file=upgraded, key=pw,
             description="the version-1 reference after its upgrade: k1 re-wrapped in version 2's form"),
        dict(name="v2_upgraded_success_recovery", expect="success", file=upgraded, key=rk,
             description="the upgraded reference opened through k2, carried over as wrap 1 (version-1 AAD "
                         "and commitment)"),
        dict(name="v2_stripped_commitment", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc.pop("commit")), key=pw,
             description="the header's data-key commitment removed, length and checksum recomputed"),
        dict(name="v2_commitment_mismatch", expect="integrity failure", file=_rebuild_header(raw, _other_commit),
             key=pw, description="the header commits to another data key: the passphrase slot's own "
                                 "commitment matched, so this is tampering"),
        dict(name="v2_commitment_mismatch_committed_legacy_slot", expect="integrity failure",
             file=_rebuild_header(upgraded, _other_commit), key=rk,
             description="the upgraded vault with a foreign data-key commitment, opened through k2 "
                         "(wrap 1 with a version-1 commitment): tampering"),
        dict(name="v2_commitment_mismatch_uncommitted_slot", expect="wrong key",
             file=_rebuild_header(upgraded, lambda doc: (_other_commit(doc), doc["keyslots"][1].pop("commit"))),
             key=rk, description="k2 without a slot commitment (as made before commitments) and a "
                                 "foreign data-key commitment: reported as a wrong key, never "
                                 "differently (no partitioning oracle)"),
        dict(name="v2_downgrade_to_v1", expect="integrity failure", file=v1, key=pw, seen_v2=[VAULT_ID],
             description="the vault's version-1 file, with its vault id recorded as seen at version 2: "
                         "refused before any key is tried"),
        dict(name="v2_noncanonical_whitespace", expect="integrity failure",
             file=_rebuild_header(raw, None, lambda doc: json.dumps(doc, sort_keys=True).encode()), key=pw,
             description="the version-2 header with spaces after , and :"),
        dict(name="v2_clear_generation", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc.update(generation=3)), key=pw,
             description="a generation in the version-2 header: it lives in the payload"),
        dict(name="v2_slot_created", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(created=0)), key=pw,
             description="a keyslot with a created field: version 2 keeps no times in the header"),
        dict(name="v2_wrap2_without_commit", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].pop("commit")), key=pw,
             description="a wrap-2 slot without its commitment"),
        dict(name="v2_wrap3", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(wrap=3)), key=pw,
             description="a wrap that is neither 1 nor 2"),
        dict(name="v2_slot_wrap_downgraded", expect="wrong key",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"][0].update(wrap=1)), key=pw,
             description="k1 marked wrap 1: its version-2 commitment does not match the version-1 "
                         "message, so it is not this key's slot"),
        dict(name="v2_swapped_keyslot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].reverse()), key=pw,
             description="keyslots reordered: the header is the payload's AAD"),
        dict(name="v2_added_keyslot", expect="integrity failure",
             file=_rebuild_header(raw, lambda doc: doc["keyslots"].append(dict(doc["keyslots"][1], id="k4"))),
             key=pw, description="a copy of a keyslot added under a new id"),
        dict(name="v2_payload_without_generation", expect="integrity failure",
             file=_seal_v2(format.Header(VAULT_ID, 3, CREATED, header.keyslots), data_key,
                           json.dumps(no_generation, sort_keys=True, separators=(",", ":")).encode()),
             key=pw, description="sealed with the right key but the payload has no generation"),
        dict(name="v2_future_version", expect="integrity failure", file=_fix_checksum(raw[:7] + b"\x03" + raw[8:-32]),
             key=pw, description="format version 3, checksum recomputed"),
    ]


def write_all(monkeypatch) -> None:
    raw, data_key = build_reference(monkeypatch)
    raw2, _ = build_reference_v2(monkeypatch)
    upgraded, _ = build_upgraded(monkeypatch)
    VECTOR_DIR.mkdir(exist_ok=True)
    for old in VECTOR_DIR.glob("*.json"):
        old.unlink()
    for v in variants(raw) + variants_v2(raw2, upgraded, raw, data_key):
        doc = {"expect": v["expect"], "description": v["description"], **v["key"],
               "file_base64": base64.b64encode(v["file"]).decode()}
        if "seen_v2" in v:
            doc["seen_v2"] = v["seen_v2"]
        if v["expect"] == "success" and v["file"][7] == 1:
            doc["payload"] = expected_payload()
            doc["intermediate"] = intermediates(raw, data_key)
        elif v["expect"] == "success":
            doc["payload"] = expected_payload_v2(v["file"], data_key)
            doc["intermediate"] = intermediates_v2(v["file"], data_key)
        (VECTOR_DIR / f"{v['name']}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        write_all(mp)
    print(f"wrote {len(list(VECTOR_DIR.glob('*.json')))} vectors to {VECTOR_DIR}", file=sys.stderr)
