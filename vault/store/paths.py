"""Where the vault lives, and the files that stand beside it."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # `get` through the agent resolves the vault path without pathlib
if TYPE_CHECKING:
    from pathlib import Path

VAULT_NAME = "vault.tokensafe"


def default_vault_file() -> str:
    """The platform's default vault file, in tokensafe's user data folder (vault/dirs.py)."""
    from vault.dirs import user_data_dir

    return os.path.join(user_data_dir(), VAULT_NAME)


def resolve_vault_file(vault_path: str | os.PathLike[str] | None) -> str:
    """The vault file: the given path (`~` expanded), else the platform default; symlinks resolved.

    A symlinked vault is written where it really lives: an atomic replace of the link itself
    would fork the vault, and a lock beside the link would not serialise writers that use
    the real path.
    """
    given = os.path.expanduser(os.fspath(vault_path)) if vault_path else default_vault_file()
    return os.path.realpath(given)


def default_vault_path() -> Path:
    from pathlib import Path

    return Path(default_vault_file())


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
    home = os.path.expanduser("~")
    s = os.fspath(path)
    return "~" + s[len(home):] if home != "/" and s.startswith(home + os.sep) else s
