"""Vault file format v1 (SECURITY.md): pinned vectors, tampering, truncation, wrong keys."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from store_vectors import (
    PASSPHRASE,
    VECTOR_DIR,
    build_reference,
    build_reference_v2,
    build_upgraded,
    expected_payload,
    recovery_text,
    variants,
    variants_v2,
)

from vault import crypto, prompting
from vault.errors import IntegrityError, LockedError, UsageError
from vault.store import format, keyring_access, unlock, vaultfile
from vault.store.unlock import Unlocker

VECTORS = sorted(VECTOR_DIR.glob("*.json"))
EXPECT = {"success": None, "integrity failure": IntegrityError, "wrong key": LockedError, "bad key": UsageError}
EXIT = {"success": 0, "integrity failure": 5, "wrong key": 3, "bad key": 2}


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never prompt: the keys come from the vector (or from nowhere)."""
    monkeypatch.setattr("vault.prompting.has_terminal", lambda: False)
    for var in ("TOKENSAFE_PASSPHRASE", "TOKENSAFE_RECOVERY_KEY"):
        monkeypatch.delenv(var, raising=False)


def load(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    doc["file"] = base64.b64decode(doc["file_base64"])
    return doc


def unlocker_for(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Unlocker:
    if "keyring_secret" in doc:
        monkeypatch.setattr(keyring_access, "get", lambda account: doc["keyring_secret"])
        return Unlocker(prompter=prompting.NoPrompter())
    if "recovery_key" in doc:
        monkeypatch.setenv("TOKENSAFE_RECOVERY_KEY", doc["recovery_key"])
        return Unlocker(use_keyring=False)
    return Unlocker(use_keyring=False, _passphrase=doc["passphrase"])


def open_raw(raw: bytes, u: Unlocker) -> vaultfile.OpenVault:
    return vaultfile.decode(Path("/nonexistent/vault"), raw, u)


def open_as_store(raw: bytes, u: Unlocker, seen_v2: list[str], tmp: Path, monkeypatch) -> vaultfile.OpenVault:
    """Through a VaultStore, with the vault ids in `seen_v2` recorded as seen at format version 2."""
    from vault.store import seen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp / "state"))
    for vid in seen_v2:
        seen.set_generation(vid, 0, version=2)
    path = tmp / "vaults" / "v.tokensafe"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(raw)
    os.chmod(path, 0o600)
    store = vaultfile.VaultStore.local(path, u)
    store.warn = lambda message: None
    return store.read()


def test_vectors_are_present() -> None:
    expects = {load(p)["expect"] for p in VECTORS}
    assert len(VECTORS) >= 20
    assert expects == set(EXPECT)


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    doc = load(path)
    u = unlocker_for(doc, monkeypatch)
    error = EXPECT[doc["expect"]]
    if "seen_v2" in doc:
        assert doc["expect"] == "integrity failure"
        assert open_raw(doc["file"], u).header.version == 1  # alone, with nothing recorded, it opens
        with pytest.raises(IntegrityError, match="downgrade"):
            open_as_store(doc["file"], unlocker_for(doc, monkeypatch), doc["seen_v2"], tmp_path, monkeypatch)
        return
    if error is None:
        opened = open_raw(doc["file"], u)
        payload = dict(doc["payload"])
        if doc["file"][7] == 2:  # version 2: generation and creation time come from the payload
            assert (opened.header.generation, opened.header.created) == (payload.pop("generation"),
                                                                         payload.pop("created"))
            assert opened.header.generation == doc["intermediate"]["generation"]
        else:
            assert opened.header.generation == 3
        assert json.loads(opened.data.to_bytes()) == payload
        assert opened.data.env("dev").get("auth0_token").value.reveal() == "tok_0123456789abcdefGHIJ"
        assert opened.data.env("dev").get("auth0_token").allowed_hosts == ["*.auth0.com"]
        assert opened.data.env("dev").get("note").value.reveal() == "grüße, 世界 ✓"
    else:
        with pytest.raises(error) as exc:
            open_raw(doc["file"], u)
        if error is IntegrityError:
            assert "integrity" in exc.value.message or "version" in exc.value.message
        elif error is UsageError:
            assert "recovery key" in exc.value.message
        else:
            assert exc.value.message == unlock.WRONG_KEY  # one opaque message


def test_encoder_still_produces_the_pinned_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing the reference vault today gives byte for byte the pinned file."""
    raw, data_key = build_reference(monkeypatch)
    assert raw == load(VECTOR_DIR / "success_passphrase.json")["file"]
    for v in variants(raw):
        assert v["file"] == load(VECTOR_DIR / f"{v['name']}.json")["file"], v["name"]
    assert load(VECTOR_DIR / "success_passphrase.json")["payload"] == expected_payload()
    raw2, _ = build_reference_v2(monkeypatch)
    upgraded, _ = build_upgraded(monkeypatch)  # the upgrade path itself, pinned
    assert upgraded == load(VECTOR_DIR / "v2_upgraded_success_recovery.json")["file"]
    for v in variants_v2(raw2, upgraded, raw, data_key):
        assert v["file"] == load(VECTOR_DIR / f"{v['name']}.json")["file"], v["name"]


def test_layout_matches_security_md() -> None:
    raw = load(VECTOR_DIR / "success_passphrase.json")["file"]
    assert raw[:8] == b"TKSAFE\x00\x01"
    hlen = int.from_bytes(raw[8:12], "big")
    header = json.loads(raw[12 : 12 + hlen])
    assert list(header) == sorted(header) == ["cipher", "created", "generation", "keyslots", "vault_id"]
    assert raw[12 : 12 + hlen] == json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert raw[12 + hlen : 24 + hlen] == bytes(range(12))  # the payload nonce
    assert raw[-32:] == crypto.checksum(raw[:-32])
    slot = header["keyslots"][0]
    assert set(slot) == {"id", "type", "nonce", "wrapped", "created", "kdf", "salt", "iterations", "lanes",
                         "memory_kib", "normalize", "commit"}
    assert header["created"] == 0 and {s["created"] for s in header["keyslots"]} == {0}
    # Nothing of the payload is readable in the file: no name, no value, no environment.
    for needle in (b"auth0", b"tok_0123", b"dev", b"prod", "grüße".encode()):
        assert needle not in raw


def test_version_2_layout_matches_security_md() -> None:
    doc = load(VECTOR_DIR / "v2_success_passphrase.json")
    raw = doc["file"]
    assert raw[:8] == b"TKSAFE\x00\x02"
    hlen = int.from_bytes(raw[8:12], "big")
    header = json.loads(raw[12 : 12 + hlen])
    assert list(header) == ["cipher", "commit", "keyslots", "vault_id"]
    assert raw[12 : 12 + hlen] == json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert base64.b64decode(header["commit"]).hex() == doc["intermediate"]["data_key_commit"]
    assert raw[12 + hlen : 24 + hlen] == bytes(range(12))
    assert raw[-32:] == crypto.checksum(raw[:-32])
    assert set(header["keyslots"][0]) == {"id", "type", "nonce", "wrapped", "wrap", "kdf", "salt", "iterations",
                                          "lanes", "memory_kib", "normalize", "commit"}
    for needle in (b"generation", b"created", b"auth0", b"tok_0123", b"dev"):
        assert needle not in raw


# every single-byte change ------------------------------------------------------------

@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def small_vault(request) -> bytes:
    """The reference vault in format version 1 (read only) and version 2 (written)."""
    with pytest.MonkeyPatch.context() as mp:
        raw, _ = (build_reference if request.param == 1 else build_reference_v2)(mp)
    return raw


def _regions(raw: bytes) -> dict[str, range]:
    hlen = int.from_bytes(raw[8:12], "big")
    header = raw[12 : 12 + hlen]
    k = header.index(b'"wrapped":"') + 12
    return {"magic": range(0, 8), "length": range(8, 12), "header": range(12, 12 + hlen),
            "keyslot": range(12 + k, 12 + k + 40), "nonce": range(12 + hlen, 24 + hlen),
            "ciphertext": range(24 + hlen, len(raw) - 48), "tag": range(len(raw) - 48, len(raw) - 32),
            "checksum": range(len(raw) - 32, len(raw))}


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_single_byte_change_is_an_integrity_failure(small_vault: bytes, mask: int) -> None:
    """In-process, every position, keyslot bytes included: IntegrityError, never LockedError."""
    u = Unlocker(use_keyring=False, _passphrase=PASSPHRASE)
    assert open_raw(small_vault, u).data.env("dev").entries  # the original opens
    assert len(small_vault) < 2048
    for i in range(len(small_vault)):
        bad = small_vault[:i] + bytes([small_vault[i] ^ mask]) + small_vault[i + 1:]
        try:
            open_raw(bad, u)
        except IntegrityError:
            continue
        except LockedError as e:
            pytest.fail(f"byte {i} changed gave a wrong-key error ({e.message}), not integrity")
        pytest.fail(f"byte {i} changed (^{mask:#x}) and the vault still opened")


def test_every_byte_change_with_recomputed_checksum_never_opens(small_vault: bytes) -> None:
    """The checksum is no security: an attacker recomputes it. Then the AEAD must refuse."""
    u = Unlocker(use_keyring=False, _passphrase=PASSPHRASE)
    outcomes: dict[str, int] = {}
    for i in range(len(small_vault) - 32):
        body = small_vault[:i] + bytes([small_vault[i] ^ 0x01]) + small_vault[i + 1 : -32]
        try:
            open_raw(body + crypto.checksum(body), u)
        except (IntegrityError, LockedError) as e:
            outcomes[type(e).__name__] = outcomes.get(type(e).__name__, 0) + 1
            continue
        pytest.fail(f"byte {i} changed with a fixed checksum and the vault still opened")
    assert outcomes["IntegrityError"] > outcomes.get("LockedError", 0)


@pytest.mark.parametrize("region", ["magic", "length", "header", "keyslot", "nonce",
                                    "ciphertext", "tag", "checksum"])
def test_single_byte_change_exits_5_via_installed_command(
        region: str, small_vault: bytes, session, home: Path) -> None:
    """A sample position per region, through `tokensafe get`: exit 5, file untouched."""
    r = _regions(small_vault)[region]
    i = r[len(r) // 2]
    bad = small_vault[:i] + bytes([small_vault[i] ^ 0x01]) + small_vault[i + 1:]
    path = Path(session.env["TOKENSAFE_VAULT"])
    path.parent.mkdir(mode=0o700)
    path.write_bytes(bad)
    os.chmod(path, 0o600)
    env = {"TOKENSAFE_PASSPHRASE": PASSPHRASE}
    got = session("get", "auth0_token", env=env)
    assert got.returncode == 5, got.stderr
    assert b"integrity" in got.stderr
    assert got.stdout == b""
    # A write on a tampered vault is refused too, and never replaces the file.
    put = session("set", "x", input="v", env=env)
    assert put.returncode == 5, put.stderr
    assert path.read_bytes() == bad
    assert not path.with_name(path.name + ".bak").exists()


@pytest.mark.parametrize("name", ["success_passphrase", "success_recovery", "wrong_passphrase",
                                  "wrong_recovery_key", "truncated_half", "forged_ciphertext",
                                  "forged_generation", "empty"])
def test_vector_exit_codes_via_installed_command(name: str, session) -> None:
    doc = load(VECTOR_DIR / f"{name}.json")
    path = Path(session.env["TOKENSAFE_VAULT"])
    path.parent.mkdir(mode=0o700)
    path.write_bytes(doc["file"])
    os.chmod(path, 0o600)
    env = {"TOKENSAFE_PASSPHRASE": doc.get("passphrase", ""),
           "TOKENSAFE_RECOVERY_KEY": doc.get("recovery_key", "")}
    got = session("get", "note", env=env)
    assert got.returncode == EXIT[doc["expect"]], got.stderr
    if doc["expect"] == "success":
        assert got.stdout.decode() == "grüße, 世界 ✓\n"
    assert path.read_bytes() == doc["file"]


def test_wrong_key_and_corruption_are_told_apart_without_a_key() -> None:
    """Corruption is found before any key is tried: parse() needs no key at all."""
    raw = load(VECTOR_DIR / "success_passphrase.json")["file"]
    assert format.parse(raw).header.vault_id
    with pytest.raises(IntegrityError):
        format.parse(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(LockedError):
        open_raw(raw, Unlocker(use_keyring=False, _passphrase="not it"))


def test_no_key_source_is_a_locked_error() -> None:
    raw = load(VECTOR_DIR / "success_passphrase.json")["file"]
    with pytest.raises(LockedError) as exc:
        open_raw(raw, Unlocker(use_keyring=False))
    assert "TOKENSAFE_PASSPHRASE" in (exc.value.hint or "")


def test_recovery_text_of_the_reference() -> None:
    assert recovery_text().startswith("TSR1-")
    assert load(VECTOR_DIR / "success_recovery.json")["recovery_key"] == recovery_text()


def test_installed_command_exists() -> None:
    exe = shutil.which("tokensafe")
    assert exe
    r = subprocess.run([exe, "get", "--help"], capture_output=True, timeout=30)
    assert r.returncode == 0 and b"--reveal" in r.stdout
