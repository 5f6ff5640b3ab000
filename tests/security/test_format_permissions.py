"""#15 finding 6 and #9 finding 17: files others can read are refused (as ssh does), folders are
0700 under umask 000, and the lock file is never followed through a symlink."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_vault_others_can_read_is_refused_with_a_hint(cli, vault: Path, mode: int) -> None:
    os.chmod(vault, mode)
    r = cli(["get", "x"])
    assert r.code == 9 and "readable by group or others" in r.stderr
    assert f"chmod 600 {vault}" in r.stderr or "chmod 600 ~" in r.stderr


def test_a_readable_backup_is_refused(cli, vault: Path) -> None:
    assert cli(["set", "a"], input="first-value").code == 0
    bak = vault.with_name(vault.name + ".bak")
    os.chmod(bak, 0o644)
    r = cli(["backup", "restore"])
    assert r.code == 9 and "readable by group or others" in r.stderr


def test_a_readable_fingerprint_file_is_refused(vault: Path) -> None:
    from conftest import PASSPHRASE

    from vault.errors import PolicyError
    from vault.store import fingerprints
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import read_vault

    key = read_vault(vault, Unlocker(use_keyring=False, _passphrase=PASSPHRASE)).data.fingerprint_key
    fp = vault.with_name(vault.name + ".fp")
    assert fingerprints.load_known(vault, key) is not None
    os.chmod(fp, 0o644)
    with pytest.raises(PolicyError):
        fingerprints.load_known(vault, key)


def test_a_symlink_as_lock_file_is_refused_not_followed(cli, vault: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "created-through-the-link"
    target.parent.mkdir()
    lock = vault.with_name(vault.name + ".lock")
    lock.unlink(missing_ok=True)
    lock.symlink_to(target)
    r = cli(["set", "a"], input="value")
    assert r.code == 9 and "symbolic link" in r.stderr, r.stderr
    assert not target.exists()


def test_folders_and_files_are_private_under_umask_000(session, home: Path) -> None:
    exe = session.env.get("PATH")
    assert exe
    vault = home / "deep" / "er" / "vault.tokensafe"
    env = {**session.env, "TOKENSAFE_VAULT": str(vault), "TOKENSAFE_PASSPHRASE": PASSPHRASE}
    script = 'umask 000 && tokensafe init --no-keyring && printf value | tokensafe set a && tokensafe get a >/dev/null'
    r = subprocess.run(["sh", "-c", script], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for p in (home / "deep", home / "deep" / "er"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    for p in vault.parent.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
    state = home / ".local" / "state" / "tokensafe"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "generations.json").stat().st_mode) == 0o600
