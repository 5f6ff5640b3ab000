"""#15 finding 3 and #9 finding 16: a bounded header, KDF settings within the documented range,
a key commitment per slot; a changed keyslot is tampering (exit 5), not a wrong passphrase."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.security._format_helpers import header_of, rewrite_header


def test_new_slots_carry_a_key_commitment(vault: Path) -> None:
    (slot,) = header_of(vault.read_bytes())["keyslots"]
    assert len(base64.b64decode(slot["commit"])) == 32


def test_a_third_passphrase_slot_is_refused(cli, vault: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOKENSAFE_NEW_PASSPHRASE", "another long passphrase")
    assert cli(["keys", "add", "passphrase"]).code == 0
    before = vault.read_bytes()
    r = cli(["keys", "add", "passphrase"])
    assert r.code == 2 and "at most 2" in r.stderr
    assert vault.read_bytes() == before


def test_no_more_than_eight_slots(cli, vault: Path, tmp_path: Path) -> None:
    for n in range(7):
        assert cli(["keys", "add", "recovery", "--recovery-key-file", str(tmp_path / f"rk{n}")]).code == 0
    r = cli(["keys", "add", "recovery", "--recovery-key-file", str(tmp_path / "rk-too-many")])
    assert r.code == 2 and "at most 8" in r.stderr
    assert not (tmp_path / "rk-too-many").exists()


@pytest.mark.parametrize("change", [
    lambda d: d["keyslots"].extend(dict(d["keyslots"][0], id=f"k{n}") for n in range(2, 4)),  # 3 passphrase slots
    lambda d: d["keyslots"][0].update(iterations=100),
    lambda d: d["keyslots"][0].update(lanes=64, memory_kib=64 * 8),
    lambda d: d["keyslots"][0].update(memory_kib=4 * 1024 * 1024),
    lambda d: d["keyslots"][0].update(salt=base64.b64encode(bytes(8)).decode()),
], ids=["3-passphrase-slots", "t=100", "p=64", "m=4GiB", "8-byte-salt"])
def test_out_of_range_header_is_an_integrity_failure_before_any_derivation(cli, vault: Path, change) -> None:
    from vault.errors import IntegrityError
    from vault.store import format

    rewrite_header(vault, change)
    with pytest.raises(IntegrityError):
        format.parse(vault.read_bytes())  # no key needed: refused before any derivation
    r = cli(["get", "x"])
    assert r.code == 5 and "integrity" in r.stderr, r.stderr


def test_a_tampered_keyslot_exits_5_not_3(cli, vault: Path) -> None:
    rewrite_header(vault, lambda d: d["keyslots"][0].update(wrapped=base64.b64encode(bytes(48)).decode()))
    r = cli(["get", "x"])
    assert r.code == 5 and "keyslot k1 was changed" in r.stderr, r.stderr


def test_a_wrong_passphrase_is_still_exit_3(cli, vault: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "not the passphrase")
    assert cli(["get", "x"]).code == 3
