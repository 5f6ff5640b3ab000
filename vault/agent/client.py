"""Asking a vault's unlock agent, if one runs: what `Context.read/edit/value` try first.

Every function returns None (or False) when there is no agent to ask, so the caller unlocks
the usual way; when there was a socket but no live agent behind it, the caller is told so
in one warning line (once per process) and a stale socket is removed. Nothing here waits
forever: each exchange has a socket timeout, and an agent killed mid-answer closes the
connection, which is an immediate fallback (reads) or a clear error (a write whose fate is
unknown). The agent's uid is checked too, so a socket someone else planted is refused.

On the start-up path of `get`: stdlib only, and a single `lstat` when no agent runs.
"""

from __future__ import annotations

import os
import sys

from vault.agent import protocol
from vault.errors import FileSystemError, PolicyError

TYPE_CHECKING = False  # see protocol: `get` through the agent imports neither typing nor pathlib
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from vault.service.context import Context
    from vault.store.model import VaultData

TIMEOUT_S = 10.0
_noted = False
_given_up: set[str] = set()  # vaults whose agent failed this process once: not asked again


def _note(warn: Callable[[str], None], why: str) -> None:
    global _noted
    if not _noted:
        _noted = True
        warn(f"the unlock agent {why}; unlocking the usual way (`tokensafe unlock` starts it again)")


def invoking_command(argv: list[str] | None = None) -> str:
    """What the answer goes to, for the access log: the child's argv[0] for `run`, else the subcommand."""
    args = list(sys.argv if argv is None else argv)[1:]
    words = [a for a in args if not a.startswith("-")]
    sub = words[0] if words else ""
    if sub == "run" and "--" in args:
        rest = args[args.index("--") + 1:]
        if rest:
            return os.path.basename(rest[0])[:200]
    return f"tokensafe {sub}".strip()[:200]


def _remove_if_stale(vault_path: str | Path) -> bool:
    """Remove the socket if no agent holds the vault's agent lock; True if it was stale."""
    import fcntl

    try:
        fd = os.open(protocol.lock_file(vault_path), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        fd = -1
    try:
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # an agent holds it: starting up or busy, not stale
        import contextlib  # not on `get`'s path: only for a stale socket

        with contextlib.suppress(FileNotFoundError):
            os.unlink(protocol.socket_file(vault_path))
        return True
    finally:
        if fd >= 0:
            os.close(fd)


def connect(vault_path: str | Path, warn: Callable[[str], None] | None = None,
            timeout: float = TIMEOUT_S) -> socket.socket | None:
    """A connection to the vault's agent, or None if none runs (a stale socket is removed)."""
    path = protocol.socket_file(vault_path)
    if os.fspath(vault_path) in _given_up or not os.path.lexists(path):
        return None
    import _socket  # not `socket`: see protocol.LineReader

    protocol.check_private_dir(os.path.dirname(path))
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        sock.close()
        if _remove_if_stale(vault_path) and warn is not None:
            _note(warn, "is gone (its socket was stale)")
        return None
    except OSError as e:
        sock.close()
        if warn is not None:
            _note(warn, f"cannot be reached ({e.strerror or type(e).__name__})")
        return None
    _, uid, _ = protocol.peer_credentials(sock)
    if uid != os.getuid():
        sock.close()
        raise PolicyError(f"the agent socket {path} is served by uid {uid}, not by you",
                          "remove it; only your own agent may answer")
    return sock


def exchange(sock: socket.socket, message: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Send one request; (the answer, the reader for more). PeerGone if the agent went away."""
    try:
        protocol.send(sock, message)
        reader = protocol.LineReader(sock)
        return protocol.receive(reader), reader
    except TimeoutError:
        raise protocol.PeerGone("no answer in time") from None
    except OSError as e:
        raise protocol.PeerGone(e.strerror or type(e).__name__) from None


def ask(vault_path: str | Path, message: dict[str, Any], warn: Callable[[str], None] | None = None,
        timeout: float = TIMEOUT_S) -> dict[str, Any] | None:
    """One request and its answer (errors raised as their vault.errors class); None: no agent."""
    sock = connect(vault_path, warn, timeout)
    if sock is None:
        return None
    try:
        reply, _ = exchange(sock, message)
    except protocol.PeerGone as e:
        _given_up.add(os.fspath(vault_path))  # a frozen agent costs one timeout per command, not one per question
        if warn is not None:
            _note(warn, f"stopped while answering ({e})")
        return None
    finally:
        sock.close()
    if not reply.get("ok") and reply.get("error") == "LockedError":
        if warn is not None:
            _note(warn, "has locked (its time is up)")
        return None
    protocol.raise_error(reply)
    return reply


# what Context uses ------------------------------------------------------------------------

def try_value(ctx: Context, name: str, env: str | None) -> str | None:
    """NAME's value through the agent (only that value crosses the socket); None: no agent."""
    return value_at(ctx.path, name, env, ctx.warn)


def value_at(vault_path: str | Path, name: str, env: str | None,
             warn: Callable[[str], None] | None) -> str | None:
    """`try_value` for a resolved vault path: what `get`'s fast path asks before it builds a Context."""
    reply = ask(vault_path, {"op": "get", "name": name, "env": env, "command": invoking_command()}, warn)
    if reply is None:
        return None
    from vault.secret import Secret

    value = str(reply["value"])
    Secret(value)  # remembered, so that an error later in this process masks it
    return value


def try_read(ctx: Context) -> VaultData | None:
    """The decrypted vault data through the agent; None: no agent."""
    reply = ask(ctx.path, {"op": "read", "command": invoking_command()}, ctx.warn)
    if reply is None:
        return None
    from vault.store.model import VaultData

    return VaultData.from_bytes(str(reply["vault"]).encode())


class EditSession:
    """An edit through the agent: it holds the vault's lock from `open_edit` until exit."""

    def __init__(self, sock: socket.socket, reader: Any, data: VaultData) -> None:
        self.sock = sock
        self.reader = reader
        self.data = data

    def __enter__(self) -> VaultData:
        return self.data

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                import contextlib

                with contextlib.suppress(OSError):
                    protocol.send(self.sock, {"op": "abort"})
                return
            try:
                protocol.send(self.sock, {"op": "commit", "vault": self.data.to_bytes().decode()})
                reply = protocol.receive(self.reader)
            except (OSError, protocol.PeerGone):
                raise FileSystemError(
                    "the unlock agent stopped during a write: the change may or may not be saved",
                    "check with `tokensafe list`, then run the command again") from None
            protocol.raise_error(reply)
        finally:
            self.sock.close()


def open_edit(ctx: Context) -> EditSession | None:
    """Start an edit through the agent (it locks and re-reads the vault); None: no agent."""
    from vault.store.fileio import lock_wait_from_env

    timeout = lock_wait_from_env() + TIMEOUT_S  # the agent may wait for the vault's lock first
    sock = connect(ctx.path, ctx.warn, timeout)
    if sock is None:
        return None
    try:
        reply, reader = exchange(sock, {"op": "edit", "command": invoking_command()})
    except protocol.PeerGone as e:
        sock.close()
        _given_up.add(os.fspath(ctx.path))
        _note(ctx.warn, f"stopped while answering ({e})")
        return None
    if not reply.get("ok"):
        sock.close()
        if reply.get("error") == "LockedError":
            _note(ctx.warn, "has locked (its time is up)")
            return None
        protocol.raise_error(reply)
    from vault.store.model import VaultData

    return EditSession(sock, reader, VaultData.from_bytes(str(reply["vault"]).encode()))
