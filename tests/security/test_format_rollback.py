"""#9 finding 16: a vault rolled back to its backup or an old copy is reported; a restore the user
asked for is not."""

from __future__ import annotations

import shutil
from pathlib import Path


def test_rollback_to_an_old_copy_is_reported(cli, vault: Path, tmp_path: Path) -> None:
    assert cli(["set", "a"], input="first-value").code == 0
    old = tmp_path / "old-copy"
    shutil.copy2(vault, old)
    assert cli(["set", "a"], input="second-value").code == 0
    assert "rolled back" not in cli(["get", "a"]).stderr
    shutil.copy2(old, vault)  # someone puts the old generation back
    r = cli(["get", "a"])
    assert r.code == 0 and r.stdout == "first-value\n"
    assert "rolled back" in r.stderr and "generation 2, but generation 3" in r.stderr
    assert "first-value" not in r.stderr


def test_backup_restore_is_not_reported_as_a_rollback(cli, vault: Path) -> None:
    assert cli(["set", "a"], input="first-value").code == 0
    assert cli(["set", "a"], input="second-value").code == 0
    assert cli(["backup", "restore"]).code == 0
    r = cli(["get", "a"])
    assert (r.code, r.stdout) == (0, "first-value\n") and "rolled back" not in r.stderr
