"""#15 findings 5 and 7: a recovery key is shown only on a terminal, else written to a new 0600
file; each key has one spelling (the spare bits of its last character are zero)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import PASSPHRASE


def test_recovery_key_never_goes_to_a_redirected_stderr(session, vault: Path, tmp_path: Path) -> None:
    env = {"TOKENSAFE_VAULT": str(vault), "TOKENSAFE_PASSPHRASE": PASSPHRASE}
    before = vault.read_bytes()
    r = session("keys", "add", "recovery", env=env)
    assert r.returncode == 2 and b"TSR1-" not in r.stderr + r.stdout
    assert b"--recovery-key-file" in r.stderr
    assert vault.read_bytes() == before  # nothing was added
    rk = tmp_path / "rk.txt"
    r = session("keys", "add", "recovery", "--recovery-key-file", str(rk), env=env)
    assert r.returncode == 0, r.stderr
    key = rk.read_text().strip()
    assert key.startswith("TSR1-") and (rk.stat().st_mode & 0o777) == 0o600
    assert key.encode() not in r.stderr + r.stdout
    session.assert_no_leak(key)
    # An existing file is never overwritten.
    r = session("keys", "add", "recovery", "--recovery-key-file", str(rk), env=env)
    assert r.returncode == 2 and rk.read_text().strip() == key


def test_a_recovery_key_has_one_spelling(cli, vault: Path, tmp_path: Path, monkeypatch) -> None:
    rk = tmp_path / "rk.txt"
    assert cli(["keys", "add", "recovery", "--recovery-key-file", str(rk)]).code == 0
    key = rk.read_text().strip()
    monkeypatch.delenv("TOKENSAFE_PASSPHRASE")
    monkeypatch.setenv("TOKENSAFE_RECOVERY_KEY", key.lower().replace("-", " "))
    assert cli(["list"]).code == 0  # case, spaces: still one key
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    spare = key[:-1] + alphabet[alphabet.index(key[-1]) | 1]  # same 256 bits, a spare bit set
    monkeypatch.setenv("TOKENSAFE_RECOVERY_KEY", spare)
    r = cli(["list"])
    assert r.code == 2 and "last character" in r.stderr
    assert os.environ["TOKENSAFE_RECOVERY_KEY"] not in r.stderr
