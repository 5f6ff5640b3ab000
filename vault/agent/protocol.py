"""Where an unlock agent listens, and how requests and answers cross its socket.

One agent per vault: its socket is `agent-<hash of the resolved vault path>.sock` in a
private runtime folder — `$XDG_RUNTIME_DIR/tokensafe/`, else `/tmp/tokensafe-<uid>/` — that
must be a real folder owned by this user and closed to others (0700). Messages are JSON
objects, one per line. Errors travel as the name of a `vault.errors` class, its message and
its hint, and are raised again on the client side with the same exit status.

Imported on the start-up path of every command (to look for an agent): stdlib only, and
`socket`/`json` only once there is an agent to talk to (importing `socket` costs more than
the rest of the lookup).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault import errors

if TYPE_CHECKING:
    import socket

MAX_LINE = 64 << 20  # a whole vault's JSON must fit; anything larger is a broken peer
SOCKET_SUFFIX = ".sock"


def runtime_dir() -> Path:
    """The folder of agent sockets (not created or checked here)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base):
        return Path(base) / "tokensafe"
    return Path("/tmp") / f"tokensafe-{os.getuid()}"


def vault_tag(vault_path: Path) -> str:
    """A short stable name for a vault (its resolved path, hashed): one agent per vault."""
    try:
        from _blake2 import blake2b  # the C module itself: hashlib costs milliseconds to import
    except ImportError:  # pragma: no cover - CPython always has it
        from hashlib import blake2b
    return blake2b(os.fsencode(str(vault_path)), digest_size=10).hexdigest()


def socket_path(vault_path: Path) -> Path:
    return runtime_dir() / f"agent-{vault_tag(vault_path)}{SOCKET_SUFFIX}"


def pid_lock_path(vault_path: Path) -> Path:
    """Held (flock) by the running agent for its whole life: a second agent cannot start."""
    return runtime_dir() / f"agent-{vault_tag(vault_path)}.lock"


def check_private_dir(path: Path, create: bool = False) -> Path:
    """`path` is a folder of ours that no one else can enter; else PolicyError (9).

    With `create`, a missing folder is made 0700 (its parent must exist).
    """
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise errors.PolicyError(f"the agent folder {path} is not a folder (a link or a file?)",
                                 "remove it; `tokensafe unlock` makes it again")
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise errors.PolicyError(
            f"the agent folder {path} is not private (owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o})",
            "it must belong to you with mode 0700: `chmod 700` it or remove it")
    return path


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end, from the kernel (SO_PEERCRED)."""
    import _socket
    import struct

    raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return pid, uid, gid


class LineReader:
    """`readline(limit)` over a bare `_socket.socket`, which has no makefile.

    Clients use `_socket` itself: importing the `socket` module (its enums, `selectors`)
    costs a `get` through the agent about 2 ms, a third of what its own code costs to import.
    """

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buf = b""

    def readline(self, limit: int) -> bytes:
        parts, size, found = [self.buf], len(self.buf), b"\n" in self.buf
        while not found and size < limit:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                break
            parts.append(chunk)  # joined once: a whole vault can take many chunks
            size += len(chunk)
            found = b"\n" in chunk
        data = b"".join(parts)
        end = data.find(b"\n")
        cut = min(limit, end + 1 if end >= 0 else len(data))
        line, self.buf = data[:cut], data[cut:]
        return line


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    import json

    sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")


class PeerGone(Exception):
    """The other end closed the connection (or broke the protocol) before answering."""


def receive(reader: Any) -> dict[str, Any]:
    """One message from `reader` (a socket's binary makefile); PeerGone on EOF or garbage."""
    import json

    line = reader.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        raise PeerGone("the connection closed mid-message" if line else "the connection closed")
    try:
        message = json.loads(line)
    except ValueError:
        raise PeerGone("a message that is not JSON") from None
    if not isinstance(message, dict):
        raise PeerGone("a message that is not a JSON object")
    return message


_ERROR_CLASSES = {cls.__name__: cls for cls in (
    errors.UsageError, errors.LockedError, errors.NotFoundError, errors.IntegrityError,
    errors.BusyError, errors.FileSystemError, errors.NetworkError, errors.PolicyError)}


def error_reply(exc: errors.TokensafeError) -> dict[str, Any]:
    kind = type(exc).__name__ if type(exc).__name__ in _ERROR_CLASSES else "IntegrityError"
    for cls in type(exc).__mro__:  # a subclass travels as the table class it derives from
        if cls.__name__ in _ERROR_CLASSES:
            kind = cls.__name__
            break
    return {"ok": False, "error": kind, "message": exc.message, "hint": exc.hint}


def raise_error(reply: dict[str, Any]) -> None:
    """Raise the error an answer carries (nothing if it is a success)."""
    if reply.get("ok"):
        return
    cls = _ERROR_CLASSES.get(str(reply.get("error")), errors.LockedError)
    raise cls(str(reply.get("message") or "the unlock agent refused"),
              str(reply["hint"]) if reply.get("hint") else None)
