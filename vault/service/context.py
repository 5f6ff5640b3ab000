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
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from vault.prompting import Prompter
    from vault.store.model import VaultData
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import VaultStore


T = TypeVar("T")


def _own_exe() -> str:
    try:
        return os.readlink("/proc/self/exe")
    except OSError:
        import sys

        return sys.executable


def resolve_vault_path(vault_path: str | os.PathLike[str] | None) -> Path:
    """The vault file: the given path (`~` expanded), else the platform default; symlinks resolved."""
    from pathlib import Path

    from vault.store.paths import resolve_vault_file

    return Path(resolve_vault_file(vault_path))


def _ignore(_: str) -> None:
    pass


_hardened = False


def harden_process() -> None:
    """No core dump and no ptrace-attach for a process about to hold vault keys (Linux, #9 finding 12).

    RLIMIT_CORE 0 stops core files (children inherit it); PR_SET_DUMPABLE 0 also stops other
    processes of the same user (not root) from attaching or reading /proc/PID/mem. About 0.1 ms.
    """
    global _hardened
    if _hardened or os.name != "posix":
        return
    _hardened = True
    import resource

    with suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import sys

    if sys.platform.startswith("linux"):
        _prctl(PR_SET_DUMPABLE, 0)


PR_SET_DUMPABLE = 4


def _prctl(option: int, arg: int) -> None:
    # _ctypes directly costs ~0.5 ms where `import ctypes` costs 2-10 ms of `get`'s start-up.
    try:
        import _ctypes

        _ctypes.call_function(_ctypes.dlsym(_ctypes.dlopen(None), "prctl"), (option, arg, 0, 0, 0))
    except (ImportError, AttributeError, OSError):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(option, arg, 0, 0, 0)
        except (OSError, AttributeError):
            pass


class Context:
    """Which vault, how to unlock it, and a sink for warnings (never secret values).

    `prompter` is how a person or the front end supplies secrets (vault.prompting); None
    means the CLI's usual sources: `--passphrase-fd`, then TOKENSAFE_*, then the terminal.
    One Context keeps one unlocker, so a command asks for a secret at most once.
    """

    __slots__ = ("vault_path", "passphrase_fd", "new_passphrase_fd", "warn", "prompter", "_path", "_store")

    def __init__(self, vault_path: str | os.PathLike[str] | None = None, passphrase_fd: int | None = None,
                 warn: Callable[[str], None] | None = None, prompter: Prompter | None = None,
                 new_passphrase_fd: int | None = None) -> None:
        self.vault_path = vault_path  # as given (TOKENSAFE_VAULT applied by the front end); None: the default
        self.passphrase_fd = passphrase_fd
        self.new_passphrase_fd = new_passphrase_fd
        self.warn = warn or _ignore
        self.prompter = prompter
        self._path: Path | None = None
        self._store: VaultStore | None = None

    def __repr__(self) -> str:
        return f"Context(vault_path={self.vault_path!r}, passphrase_fd={self.passphrase_fd!r})"

    @property
    def path(self) -> Path:
        """The resolved vault file (computed once)."""
        if self._path is None:
            self._path = resolve_vault_path(self.vault_path)
        return self._path

    @property
    def store(self) -> VaultStore:
        """The vault behind its storage backend, with this context's unlocker (built once)."""
        if self._store is None:
            from vault.store.unlock import Unlocker
            from vault.store.vaultfile import VaultStore

            prompter = self.prompter
            if prompter is None:
                from vault import prompting

                prompter = prompting.standard(self.passphrase_fd, self.new_passphrase_fd)
            harden_process()
            self._store = VaultStore.local(self.path, Unlocker(prompter=prompter))
            self._store.warn = self.warn
        return self._store

    def unlocker(self) -> Unlocker:
        """The key finder of this context (it remembers what it was given)."""
        unlocker = self.store.unlocker
        assert unlocker is not None
        return unlocker

    # read, value and edit ask the vault's unlock agent first when one runs (vault.agent.client);
    # without one they unlock here and append the access log's record themselves (no log, no answer).

    def read(self) -> VaultData:
        """Unlock and decrypt the vault for reading."""
        from vault.agent import client

        data = client.try_read(self)
        if data is not None:
            return data
        opened = self.store.read()
        self.log_access(accesslog_key(opened), "read", "*", ["*"], "ok")
        return opened.data

    def value(self, name: str, env: str | None = None) -> str:
        """The plaintext value of NAME in ENV (default: the current one); an agent sends only that."""
        from vault.agent import client

        if type(self).read is not Context.read:  # a subclass reads elsewhere (--remote); its read() logs
            return self.read().env(env).get(name).value.reveal()  # never the local agent's value
        value = client.try_value(self, name, env)
        if value is not None:
            return value
        from vault.errors import TokensafeError

        opened = self.store.read()
        env_name = env or opened.data.current
        try:
            value = opened.data.env(env).get(name).value.reveal()
        except TokensafeError as e:
            with suppress(TokensafeError, OSError):  # the error itself is the answer; log it if we can
                self.log_access(accesslog_key(opened), "get", env_name, [name], f"error: {type(e).__name__}")
            raise
        self.log_access(accesslog_key(opened), "get", env_name, [name], "ok")
        return value

    @contextmanager
    def edit(self) -> Iterator[VaultData]:
        """Unlock, lock, re-read; yield the latest data to change in place; write atomically on success."""
        from vault.agent import client

        session = client.open_edit(self)
        if session is not None:
            with session as data:
                yield data
            return
        from vault.service import accesslog

        log = accesslog.log_path(self.path)
        with self.store.edit() as opened:
            before = accesslog.snapshot(opened.data)
            yield opened.data
            # The vault remembers the log's tail (durable first), so a later cut of it shows.
            opened.data.log_head = self._log_io(lambda: accesslog.sync_head(log)) or opened.data.log_head
            after = accesslog.snapshot(opened.data)
        envs, names = accesslog.changed(before, after)
        self.log_access(accesslog_key(opened), "write", ",".join(envs), names, "ok")

    def log_access(self, key: bytes, verb: str, env: str, names: list[str], outcome: str) -> None:
        """Append a record for this process's own read or write (FileSystemError if it cannot)."""
        from vault.agent.client import invoking_command
        from vault.service import accesslog

        fields = {"verb": verb, "env": env, "names": names, "command": invoking_command(),
                  "pid": os.getpid(), "uid": os.getuid(), "exe": _own_exe(), "outcome": outcome}
        log = accesslog.AccessLog(accesslog.log_path(self.path), key, read_tail=False)
        self._log_io(lambda: log.append(fields))

    @staticmethod
    def _log_io(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except OSError as e:
            from vault.errors import FileSystemError

            raise FileSystemError(f"cannot write the access log ({e.strerror or type(e).__name__})",
                                  "nothing is handed out unlogged; free space or fix the permissions of "
                                  "the vault's folder") from None

    def create(self, make_slots: Callable[[str, bytes], list], data: VaultData) -> list[str]:
        """Create the vault file with the keyslots `make_slots(vault_id, data_key)` returns; their kinds."""
        opened = self.store.create(make_slots, data)
        return [s.type for s in opened.header.keyslots]

    def restore_backup(self) -> tuple[int, Path | None]:
        """Replace the vault by its previous generation: (that generation, where the replaced file is kept)."""
        opened, kept = self.store.restore_backup()
        from pathlib import Path

        return opened.header.generation, Path(kept) if kept else None

    def release_passphrase_fd(self) -> None:
        """Close --passphrase-fd once read, so that a child process does not inherit it."""
        if self.passphrase_fd is not None:
            import contextlib

            with contextlib.suppress(OSError):
                os.close(self.passphrase_fd)


def accesslog_key(opened) -> bytes:
    """The access log's MAC key of an opened vault (its fixed log key, or the legacy one)."""
    from vault.service import accesslog

    return accesslog.mac_key(opened.data_key, opened.data.log_key)
