"""What every use case needs to reach the vault: which file, how to unlock it, where warnings go.

A front end builds one `Context` per command (the CLI from `--vault`, TOKENSAFE_VAULT and
`--passphrase-fd`; an agent from its own configuration) and hands it to the service
functions. The only calls into `vault.store` that open or change the vault live here, so a
new backend or key-source registry is wired in one place.

Kept import-light: `tokensafe get` and `run` build a Context on their click-free fast paths.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.store.model import VaultData
    from vault.store.unlock import Unlocker


def resolve_vault_path(vault_path: str | os.PathLike[str] | None) -> Path:
    """The vault file: the given path (`~` expanded), else the platform default; symlinks resolved."""
    from vault.store.paths import default_vault_path

    path = Path(vault_path).expanduser() if vault_path else default_vault_path()
    # A symlinked vault is written where it really lives: an atomic replace of the link
    # itself would fork the vault, and a lock beside the link would not serialise writers
    # that use the real path.
    return Path(os.path.realpath(path))


def _ignore(_: str) -> None:
    pass


class Context:
    """Which vault, how to unlock it, and a sink for warnings (never secret values)."""

    __slots__ = ("vault_path", "passphrase_fd", "warn", "_path")

    def __init__(self, vault_path: str | os.PathLike[str] | None = None, passphrase_fd: int | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.vault_path = vault_path  # as given (TOKENSAFE_VAULT applied by the front end); None: the default
        self.passphrase_fd = passphrase_fd
        self.warn = warn or _ignore
        self._path: Path | None = None

    def __repr__(self) -> str:
        return f"Context(vault_path={self.vault_path!r}, passphrase_fd={self.passphrase_fd!r})"

    @property
    def path(self) -> Path:
        """The resolved vault file (computed once)."""
        if self._path is None:
            self._path = resolve_vault_path(self.vault_path)
        return self._path

    def unlocker(self) -> Unlocker:
        """A fresh key finder with this context's unlock options."""
        from vault.store.unlock import Unlocker

        return Unlocker(passphrase_fd=self.passphrase_fd)

    def read(self) -> VaultData:
        """Unlock and decrypt the vault for reading."""
        from vault.store.vaultfile import read_vault

        return read_vault(self.path, self.unlocker()).data

    @contextmanager
    def edit(self) -> Iterator[VaultData]:
        """Lock, unlock, decrypt; yield the data to change in place; write atomically on success."""
        from vault.store.vaultfile import edit_vault

        with edit_vault(self.path, self.unlocker()) as opened:
            yield opened.data

    def create(self, make_slots: Callable[[str, bytes], list], data: VaultData) -> list[str]:
        """Create the vault file with the keyslots `make_slots(vault_id, data_key)` returns; their kinds."""
        from vault.store.vaultfile import create_vault

        opened = create_vault(self.path, make_slots, data)
        return [s.type for s in opened.header.keyslots]

    def restore_backup(self) -> tuple[int, Path | None]:
        """Replace the vault by its previous generation: (that generation, where the replaced file is kept)."""
        from vault.store.vaultfile import restore_backup

        opened, kept = restore_backup(self.path, self.unlocker())
        return opened.header.generation, kept

    def release_passphrase_fd(self) -> None:
        """Close --passphrase-fd once read, so that a child process does not inherit it."""
        if self.passphrase_fd is not None:
            import contextlib

            with contextlib.suppress(OSError):
                os.close(self.passphrase_fd)
