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

import os
import stat

from vault import errors

TYPE_CHECKING = False  # typing and pathlib cost `get` through the agent ~10 ms of imports
if TYPE_CHECKING:
    import socket
    from pathlib import Path
    from typing import Any

MAX_LINE = 64 << 20  # a whole vault's JSON must fit; anything larger is a broken peer
SOCKET_SUFFIX = ".sock"


def runtime_folder() -> str:
    """The folder of agent sockets (not created or checked here)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base):
        return os.path.join(base, "tokensafe")
    return f"/tmp/tokensafe-{os.getuid()}"


def vault_tag(vault_path: str | os.PathLike[str]) -> str:
    """A short stable name for a vault (its resolved path, hashed): one agent per vault."""
    try:
        from _blake2 import blake2b  # the C module itself: hashlib costs milliseconds to import
    except ImportError:  # pragma: no cover - CPython always has it
        from hashlib import blake2b
    return blake2b(os.fsencode(os.fspath(vault_path)), digest_size=10).hexdigest()


def socket_file(vault_path: str | os.PathLike[str]) -> str:
    return os.path.join(runtime_folder(), f"agent-{vault_tag(vault_path)}{SOCKET_SUFFIX}")


def lock_file(vault_path: str | os.PathLike[str]) -> str:
    """Held (flock) by the running agent for its whole life: a second agent cannot start."""
    return os.path.join(runtime_folder(), f"agent-{vault_tag(vault_path)}.lock")


# The same as Paths, for the agent and the service (the client's fast path keeps to strings).

def runtime_dir() -> Path:
    from pathlib import Path

    return Path(runtime_folder())


def socket_path(vault_path: str | os.PathLike[str]) -> Path:
    from pathlib import Path

    return Path(socket_file(vault_path))


def pid_lock_path(vault_path: str | os.PathLike[str]) -> Path:
    from pathlib import Path

    return Path(lock_file(vault_path))


def check_private_dir(path: str | Path, create: bool = False) -> str | Path:
    """`path` is a folder of ours that no one else can enter; else PolicyError (9).

    With `create`, a missing folder is made 0700 (its parent must exist).
    """
    if create:
        import contextlib  # the agent's side only: clients never create the folder

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
    import sys

    raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # struct ucred: 3 C ints
    pid, uid, gid = (int.from_bytes(raw[i:i + 4], sys.byteorder, signed=True) for i in (0, 4, 8))
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


# JSON through CPython's C codec (`_json`), which `json` itself uses: importing `json` also
# compiles its regular expressions, a tenth of what a `get` through the agent costs.

def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of compact JSON (what `json.dumps(separators=(",", ":"))` writes)."""
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # pragma: no cover - CPython has it
        quote = None
    parts = []
    for key, value in message.items():
        if quote is None or type(key) is not str:
            break
        if value is None or type(value) is bool:
            text = "null" if value is None else "true" if value else "false"
        elif type(value) is int:
            text = str(value)
        elif type(value) is str:
            text = quote(value)
        else:  # nested or float: the general encoder
            break
        parts.append(f"{quote(key)}:{text}")
    else:
        return ("{" + ",".join(parts) + "}\n").encode()
    import json

    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not in the protocol")


class _DecoderSettings:
    """What `json.JSONDecoder` hands its C scanner: strict strings, plain dicts, no NaN."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)


_scan_once: Any = None


def decode(line: bytes) -> Any:
    """The JSON value of one line (what `json.loads` returns); ValueError if it is not JSON."""
    global _scan_once
    if _scan_once is None:
        try:
            from _json import make_scanner
        except ImportError:  # pragma: no cover - CPython has it
            import json

            _scan_once = json.JSONDecoder().scan_once
        else:
            _scan_once = make_scanner(_DecoderSettings())
    text = line.decode("utf-8").strip(" \t\r\n")  # UnicodeDecodeError is a ValueError
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        raise ValueError("not a JSON value") from None
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


class PeerGone(Exception):
    """The other end closed the connection (or broke the protocol) before answering."""


def receive(reader: Any) -> dict[str, Any]:
    """One message from `reader` (a socket's binary makefile); PeerGone on EOF or garbage."""
    line = reader.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        raise PeerGone("the connection closed mid-message" if line else "the connection closed")
    try:
        message = decode(line)
    except (ValueError, RecursionError):
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
