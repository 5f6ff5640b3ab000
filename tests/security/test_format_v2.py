"""#15, format version 2: a data-key commitment, length-prefixed keyslot AAD, no generation in the
clear, version-1 vaults upgraded on their next write (backup kept), downgrades refused."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.security._format_helpers import header_of, rewrite_header
from vault import crypto

FROM_MAIN = Path(__file__).resolve().parents[1] / "vectors" / "from_main"
MAIN = json.loads((FROM_MAIN / "main_v1.json").read_text())  # slots without commitments (older main)
# Written by main just before format version 2: slots with version-1 commitments.
MAIN_COMMIT = json.loads((FROM_MAIN / "main_v1_commit.json").read_text())


def _plant_main(path: Path, meta: dict = MAIN) -> bytes:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(FROM_MAIN / meta["file"], path)
    os.chmod(path, 0o600)
    return path.read_bytes()


def _other_commit(doc: dict) -> None:
    doc["commit"] = base64.b64encode(crypto.data_key_commitment(bytes(32), doc["vault_id"])).decode()


# the data-key commitment ----------------------------------------------------------------

def test_a_new_vault_is_version_2_and_commits_to_its_data_key(vault: Path) -> None:
    from vault.store import vaultfile
    from vault.store.unlock import Unlocker

    raw = vault.read_bytes()
    assert raw[:8] == b"TKSAFE\x00\x02"
    opened = vaultfile.read_vault(vault, Unlocker(use_keyring=False))
    header = header_of(raw)
    assert base64.b64decode(header["commit"]) == crypto.data_key_commitment(opened.data_key, header["vault_id"])
    assert [s["wrap"] for s in header["keyslots"]] == [2]


def test_a_foreign_commitment_after_a_committed_legacy_slot_is_tampering(session) -> None:
    """A wrap-1 slot carried over with its version-1 commitment proves its key: exit 5."""
    path = Path(session.env["TOKENSAFE_VAULT"])
    _plant_main(path, MAIN_COMMIT)
    assert session("set", "x", input="v", env={"TOKENSAFE_PASSPHRASE": MAIN_COMMIT["passphrase"]}).returncode == 0
    rewrite_header(path, _other_commit)
    r = session("get", "x", env={"TOKENSAFE_PASSPHRASE": "", "TOKENSAFE_RECOVERY_KEY": MAIN_COMMIT["recovery_key"]})
    assert r.returncode == 5 and b"data-key commitment" in r.stderr, r.stderr


def test_a_foreign_commitment_with_a_committed_slot_is_tampering(cli, vault: Path) -> None:
    rewrite_header(vault, _other_commit)
    before = vault.read_bytes()
    r = cli(["get", "x"])
    assert r.code == 5 and "data-key commitment" in r.stderr, r.stderr
    assert vault.read_bytes() == before


def test_an_agent_key_that_is_not_the_committed_one_opens_nothing(vault: Path) -> None:
    """A data key held from before (the agent's) is checked against the commitment too."""
    from vault.errors import IntegrityError
    from vault.store import format, vaultfile

    parsed = format.parse(vault.read_bytes())

    class Held:
        def unlock(self, header):
            return bytes(32), "agent"

    with pytest.raises(IntegrityError):
        vaultfile._unlock_parsed(vault, parsed, Held())  # type: ignore[arg-type]


def test_an_uncommitted_legacy_slot_with_a_foreign_commitment_looks_like_a_wrong_key(session) -> None:
    """No partitioning oracle: a slot without its own commitment (made before commitments) that
    unwraps to a key other than the committed one is "wrong key", word for word."""
    path = Path(session.env["TOKENSAFE_VAULT"])
    _plant_main(path)
    pw = {"TOKENSAFE_PASSPHRASE": MAIN["passphrase"]}
    assert session("set", "x", input="upgrade-me", env=pw).returncode == 0  # k2 (recovery) stays wrap 1
    slots = {s["id"]: s for s in header_of(path.read_bytes())["keyslots"]}
    assert slots["k2"]["wrap"] == 1 and "commit" not in slots["k2"]
    rewrite_header(path, _other_commit)
    rk = {"TOKENSAFE_PASSPHRASE": "", "TOKENSAFE_RECOVERY_KEY": MAIN["recovery_key"]}
    crafted = session("get", "x", env=rk)
    other = "TSR1-" + "-".join(["0000"] * 13)  # a well-formed recovery key that is not this vault's
    wrong = session("get", "x", env={**rk, "TOKENSAFE_RECOVERY_KEY": other})
    assert crafted.returncode == wrong.returncode == 3
    assert crafted.stderr == wrong.stderr
    # The passphrase slot, re-wrapped with its commitment, reports the same file as tampered.
    assert session("get", "x", env=pw).returncode == 5


# keyslot AAD ------------------------------------------------------------------------------

def test_keyslot_aad_and_commitment_are_length_prefixed() -> None:
    vid = "ab" * 16
    # With a plain "|" join these pairs would give the same bytes.
    assert crypto.keyslot_aad_v2(vid, "k1|", "x") != crypto.keyslot_aad_v2(vid, "k1", "|x")
    key = bytes(range(32))
    assert crypto.key_commitment_v2(key, vid, "k1|", "x") != crypto.key_commitment_v2(key, vid, "k1", "|x")
    assert crypto.keyslot_aad_v2(vid, "k1", "recovery") == (
        b"\x00\x00\x00\x14tokensafe keyslot v2" + b"\x00\x00\x00\x20" + vid.encode()
        + b"\x00\x00\x00\x02k1" + b"\x00\x00\x00\x08recovery")


def test_a_version_2_slot_does_not_open_under_the_version_1_aad() -> None:
    from vault.store import keyslots

    vid, dk, key = "cd" * 16, bytes(32), bytes(range(32))
    slot = keyslots.wrap("k1", "recovery", vid, key, dk, {})
    assert slot.wrap == 2 and keyslots.unwrap(slot, vid, key) == dk
    with pytest.raises(crypto.AuthenticationFailed):
        crypto.open_sealed(key, slot.nonce, slot.wrapped, crypto.keyslot_aad(vid, "k1", "recovery"))


# generation in the payload -------------------------------------------------------------

def test_the_generation_is_encrypted_and_still_counted(cli, vault: Path) -> None:
    from vault.store import format, vaultfile
    from vault.store.unlock import Unlocker

    for n in range(3):
        assert cli(["set", f"e{n}"], input=f"value-{n}").code == 0
    raw = vault.read_bytes()
    assert b"generation" not in raw and format.parse(raw).header.generation is None
    assert vaultfile.read_vault(vault, Unlocker(use_keyring=False)).header.generation == 4


def test_the_local_compare_and_swap_token_is_a_hash_of_the_bytes(vault: Path) -> None:
    import hashlib

    from vault.store.backend import LocalFile

    doc = LocalFile(vault).read()
    assert doc is not None and doc.generation == hashlib.sha256(vault.read_bytes()).hexdigest()[:32]


# upgrade and downgrade ------------------------------------------------------------------

@pytest.mark.parametrize("meta", [MAIN, MAIN_COMMIT], ids=["without-commitments", "with-commitments"])
def test_vault_from_main_is_upgraded_on_its_next_write_with_the_backup_kept(session, meta: dict) -> None:
    path = Path(session.env["TOKENSAFE_VAULT"])
    old = _plant_main(path, meta)
    pw = {"TOKENSAFE_PASSPHRASE": meta["passphrase"]}
    got = session("get", "auth0_token", env=pw)
    assert got.returncode == 0 and got.stdout.decode().strip() == meta["entries"]["auth0_token"]
    assert path.read_bytes() == old and "upgraded" not in got.stderr.decode()  # a read never writes
    put = session("set", "later", input="written-after-upgrade", env=pw)
    assert put.returncode == 0, put.stderr
    err = put.stderr.decode()
    assert "format version 2" in err and "vault.tokensafe.bak" in err and "backup restore" in err
    assert path.with_name(path.name + ".bak").read_bytes() == old
    new = path.read_bytes()
    assert new[:8] == b"TKSAFE\x00\x02"
    header = header_of(new)
    assert header["vault_id"] == header_of(old)["vault_id"]  # the same vault, not a new one
    assert {s["id"]: s["wrap"] for s in header["keyslots"]} == {"k1": 2, "k2": 1}
    assert ("commit" in header["keyslots"][1]) == ("commit" in header_of(old)["keyslots"][1])  # carried as it was
    # The recovery slot (carried over) still opens it; its use on the next write re-wraps it too.
    rk = {"TOKENSAFE_PASSPHRASE": "", "TOKENSAFE_RECOVERY_KEY": meta["recovery_key"]}
    assert session("set", "again", input="second-write", env=rk).returncode == 0
    assert {s["id"]: s["wrap"] for s in header_of(path.read_bytes())["keyslots"]} == {"k1": 2, "k2": 2}
    got = session("get", "later", env=pw)
    assert got.returncode == 0 and got.stdout.decode().strip() == "written-after-upgrade"
    session.assert_no_leak(meta["entries"]["auth0_token"])
    session.assert_no_leak(meta["recovery_key"], allow_stdout_of=())


def test_a_version_1_copy_put_back_is_refused_before_any_key_is_tried(session) -> None:
    path = Path(session.env["TOKENSAFE_VAULT"])
    old = _plant_main(path)
    pw = {"TOKENSAFE_PASSPHRASE": MAIN["passphrase"]}
    assert session("set", "later", input="v", env=pw).returncode == 0
    path.write_bytes(old)  # the version-1 file back, e.g. by someone stripping the commitments
    for env in (pw, {"TOKENSAFE_PASSPHRASE": "not the passphrase"}):
        r = session("get", "auth0_token", env=env)
        assert r.returncode == 5 and "downgrade" in r.stderr.decode(), r.stderr
        assert "generations.json" in r.stderr.decode() and r.stdout == b""
    assert path.read_bytes() == old


def test_a_crafted_version_1_vault_where_a_version_2_one_was_is_refused(session) -> None:
    """A version-1 file of another vault id, at the place a version-2 vault was seen."""
    path = Path(session.env["TOKENSAFE_VAULT"])
    assert session("init", "--no-keyring").returncode == 0
    assert session("get", "nothing").returncode == 4  # opened: recorded at version 2
    _plant_main(path)
    r = session("get", "auth0_token", env={"TOKENSAFE_PASSPHRASE": MAIN["passphrase"]})
    assert r.returncode == 5 and "downgrade" in r.stderr.decode(), r.stderr


def test_backup_restore_brings_the_version_1_file_back_on_purpose(session) -> None:
    path = Path(session.env["TOKENSAFE_VAULT"])
    old = _plant_main(path)
    pw = {"TOKENSAFE_PASSPHRASE": MAIN["passphrase"]}
    assert session("set", "later", input="v", env=pw).returncode == 0
    r = session("backup", "restore", "--yes", env=pw)
    assert r.returncode == 0, r.stderr
    assert path.read_bytes() == old
    got = session("get", "auth0_token", env=pw)
    assert got.returncode == 0 and "downgrade" not in got.stderr.decode(), got.stderr
    assert session("set", "later", input="v2", env=pw).returncode == 0  # and upgraded again
    assert path.read_bytes()[:8] == b"TKSAFE\x00\x02"


def test_a_format_2_backup_plan_names_no_generation_before_unlocking(cli, vault: Path) -> None:
    assert cli(["set", "a"], input="one").code == 0
    assert cli(["set", "a"], input="two").code == 0
    r = cli(["backup", "restore"])
    assert r.code == 0, r.stderr
    assert "restoring the previous generation" in r.stderr and "replaces the current file" in r.stderr
    assert "restored generation 2" in r.stderr


# hostile headers ------------------------------------------------------------------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2, 1 << 60) | st.text(max_size=12),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
                     max_leaves=8)


def _framed(hb: bytes) -> bytes:
    body = b"TKSAFE\x00\x02" + len(hb).to_bytes(4, "big") + hb + bytes(12 + 16)
    return body + crypto.checksum(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_version_2_header_are_refused_cleanly(junk: bytes) -> None:
    from vault.errors import IntegrityError
    from vault.store import format

    with pytest.raises(IntegrityError):
        format.parse(_framed(junk))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["cipher", "commit", "keyslots", "vault_id", "generation", "wrap", "id", "type"]), _JSON)
def test_a_version_2_header_with_one_value_changed_parses_or_is_integrity(key: str, value) -> None:
    """Whatever one field holds, parsing gives a header or exit 5 — never another exception."""
    from vault.errors import IntegrityError
    from vault.store import format

    doc = {"cipher": "AES-256-GCM", "commit": base64.b64encode(bytes(32)).decode(), "vault_id": "ab" * 16,
           "keyslots": [{"id": "k1", "type": "recovery", "nonce": base64.b64encode(bytes(12)).decode(),
                         "wrapped": base64.b64encode(bytes(48)).decode(), "wrap": 2,
                         "commit": base64.b64encode(bytes(32)).decode()}]}
    target = doc["keyslots"][0] if key in ("wrap", "id", "type") else doc
    target[key] = value
    try:
        header = format.parse(_framed(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())).header
    except IntegrityError:
        return
    assert header.version == 2 and header.commit and all(s.wrap in (1, 2) for s in header.keyslots)
