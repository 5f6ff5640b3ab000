"""Where the vault lives, and the files that stand beside it."""

from __future__ import annotations

import os
from pathlib import Path


def default_vault_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("tokensafe", appauthor=False)) / "vault.tokensafe"


def sidecar(path: Path, suffix: str) -> Path:
    """`vault.tokensafe` -> `vault.tokensafe.lock` / `.bak` / `.fp`."""
    return path.with_name(path.name + suffix)


def lock_path(path: Path) -> Path:
    return sidecar(path, ".lock")


def backup_path(path: Path) -> Path:
    return sidecar(path, ".bak")


def fingerprints_path(path: Path) -> Path:
    return sidecar(path, ".fp")


def display(path: Path) -> str:
    """A path for messages, with the home folder shortened."""
    home = str(Path.home())
    s = os.fspath(path)
    return "~" + s[len(home):] if home != "/" and s.startswith(home + os.sep) else s
