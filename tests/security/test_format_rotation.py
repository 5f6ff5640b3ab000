"""#9 finding 8: changing the passphrase or removing a keyslot re-encrypts the vault under a new
data key, the backup included, so an old key with an old copy opens no later generation."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import PASSPHRASE
from vault import crypto
from vault.store import format
from vault.store.unlock import Unlocker


def _data_key(raw: bytes, **secret: str) -> bytes:
    """The data key an old copy gives to someone holding one of its old keys."""
    import os

    if "recovery_key" in secret:
        os.environ["TOKENSAFE_RECOVERY_KEY"] = secret["recovery_key"]
        try:
            return Unlocker(use_keyring=False).unlock(format.parse(raw).header)[0]
        finally:
            del os.environ["TOKENSAFE_RECOVERY_KEY"]
    return Unlocker(use_keyring=False, _passphrase=secret["passphrase"]).unlock(format.parse(raw).header)[0]


def _opens(raw: bytes, data_key: bytes) -> bool:
    parsed = format.parse(raw)
    try:
        crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)
    except crypto.AuthenticationFailed:
        return False
    return True


def test_passwd_rotates_the_data_key_backup_included(cli, vault: Path, tmp_path: Path, monkeypatch) -> None:
    assert cli(["set", "tok"], input="value-before-0123456789").code == 0
    old_copy = vault.read_bytes()
    old_key = _data_key(old_copy, passphrase=PASSPHRASE)
    monkeypatch.setenv("TOKENSAFE_NEW_PASSPHRASE", "the new and longer passphrase")
    r = cli(["passwd"])
    assert r.code == 0 and "not changed" not in r.stderr, r.stderr
    assert cli(["set", "tok"], input="value-after-0123456789").code == 3  # old passphrase: refused
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "the new and longer passphrase")
    assert cli(["set", "later"], input="a-later-secret-0123456789").code == 0
    bak = vault.with_name(vault.name + ".bak").read_bytes()
    assert not _opens(vault.read_bytes(), old_key)  # the old passphrase + old copy: no later generation
    assert not _opens(bak, old_key)
    assert _opens(vault.read_bytes(), _data_key(vault.read_bytes(), passphrase="the new and longer passphrase"))


def test_keys_rm_rotates_the_data_key(cli, vault: Path, tmp_path: Path, monkeypatch) -> None:
    rk = tmp_path / "rk.txt"
    assert cli(["keys", "add", "recovery", "--recovery-key-file", str(rk)]).code == 0
    recovery = rk.read_text().strip()
    old_copy = vault.read_bytes()
    old_key = _data_key(old_copy, recovery_key=recovery)
    r = cli(["keys", "rm", "k2"])
    assert r.code == 0 and "not changed" not in r.stderr, r.stderr
    assert cli(["set", "later"], input="a-later-secret-0123456789").code == 0
    assert not _opens(vault.read_bytes(), old_key)  # the removed recovery key + old copy
    assert not _opens(vault.with_name(vault.name + ".bak").read_bytes(), old_key)


def test_without_every_remaining_key_the_data_key_stays_and_says_so(cli, vault: Path, tmp_path: Path,
                                                                    monkeypatch) -> None:
    assert cli(["keys", "add", "recovery", "--recovery-key-file", str(tmp_path / "rk.txt")]).code == 0
    monkeypatch.setenv("TOKENSAFE_NEW_PASSPHRASE", "the new and longer passphrase")
    r = cli(["passwd"])  # the recovery slot's key is not at hand, and there is no terminal
    assert r.code == 0 and "data key was not changed" in r.stderr
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "the new and longer passphrase")
    assert cli(["list"]).code == 0


def test_security_md_says_what_an_old_copy_still_reveals() -> None:
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text()
    entry = text.split("### Finding 8", 1)[1].split("\n### ", 1)[0]
    assert "old copy" in entry
