"""The exit-status table and one flat error hierarchy. Messages never contain secret values.

Each error carries the exit status the CLI maps it to and an optional hint that tells the
user what to do next. `ExitStatus` is the one table: the README and `tokensafe --help`
print it from here, and scripts can rely on it.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """What a `tokensafe` exit status means (`run` passes its child's status through)."""

    OK = 0
    FINDINGS = 1  # audit/watch found tokens (or a --fail-on threshold was reached); status: a dead token
    USAGE = 2  # the command line or its input is wrong
    AUTH = 3  # the vault cannot be unlocked: wrong passphrase/key, no key source, locked
    NOT_FOUND = 4  # no such vault, entry, environment, keyslot or collection item
    INTEGRITY = 5  # the vault file is tampered with or corrupt; it is left untouched
    BUSY = 6  # another tokensafe process holds the vault's lock past the wait
    FILESYSTEM = 7  # a file or folder could not be read or written (permissions, space, missing folder)
    NETWORK = 8  # a server could not be reached, timed out, or broke the protocol
    REFUSED = 9  # refused for safety: a host not allowed, unsafe permissions, a terminal
    HTTP_STATUS = 10  # request/send --fail: the server answered with a status of 400 or more
    INTERNAL = 70  # a bug in tokensafe (EX_SOFTWARE); `--debug` shows the traceback
    INTERRUPTED = 130  # Ctrl-C


EXIT_STATUS_HELP: dict[ExitStatus, str] = {
    ExitStatus.OK: "success",
    ExitStatus.FINDINGS: "findings (audit, watch --once) / an expired token that cannot be renewed (status)",
    ExitStatus.USAGE: "usage error: bad option, argument or input",
    ExitStatus.AUTH: "cannot unlock: wrong passphrase or key, no key source; a token server refused the credentials",
    ExitStatus.NOT_FOUND: "not found: vault, entry, environment, keyslot, collection item",
    ExitStatus.INTEGRITY: "integrity failure: the vault is tampered with or corrupt (left untouched)",
    ExitStatus.BUSY: "vault busy: another tokensafe process held its lock too long",
    ExitStatus.FILESYSTEM: "file-system error: permission denied, missing folder, disk full",
    ExitStatus.NETWORK: "network error: connection refused, DNS, TLS, timeout",
    ExitStatus.REFUSED: "refused for safety: host not allowed, unsafe permissions, terminal output",
    ExitStatus.HTTP_STATUS: "request/send --fail: a response status of 400 or more",
    ExitStatus.INTERNAL: "internal error (a bug); --debug shows the traceback",
    ExitStatus.INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_status_table() -> str:
    """The table as plain text lines, for `--help` (the README holds the same rows)."""
    return "\n".join(f"{int(s):>3}  {EXIT_STATUS_HELP[s]}" for s in ExitStatus)


class TokensafeError(Exception):
    """Base class; the CLI prints `tokensafe: error: MESSAGE` and `tokensafe: hint: HINT`."""

    exit_code: int = ExitStatus.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TokensafeError):
    """The command line or its input is wrong (exit 2)."""

    exit_code = ExitStatus.USAGE


class LockedError(TokensafeError):
    """The vault cannot be unlocked: wrong key, no passphrase source, no keyring (exit 3)."""

    exit_code = ExitStatus.AUTH


class NotFoundError(TokensafeError):
    """A vault, entry, environment or keyslot does not exist (exit 4)."""

    exit_code = ExitStatus.NOT_FOUND


class IntegrityError(TokensafeError):
    """The vault file is tampered with or corrupt; it is left untouched (exit 5)."""

    exit_code = ExitStatus.INTEGRITY


class BusyError(TokensafeError):
    """Another process held the vault's lock for longer than the wait (exit 6)."""

    exit_code = ExitStatus.BUSY


class FileSystemError(TokensafeError):
    """A file or folder could not be read or written (exit 7)."""

    exit_code = ExitStatus.FILESYSTEM


class NetworkError(TokensafeError):
    """A server could not be reached, timed out or answered outside the protocol (exit 8)."""

    exit_code = ExitStatus.NETWORK


class PolicyError(TokensafeError):
    """An action is refused for safety: unsafe permissions, host not allowed, terminal output (exit 9)."""

    exit_code = ExitStatus.REFUSED


def os_error_message(e: OSError, what: str) -> FileSystemError:
    """A FileSystemError for an OSError on `what` (a displayable path), without a traceback."""
    reason = e.strerror or type(e).__name__
    return FileSystemError(f"cannot {what}: {reason}")


# Hints for an OSError that no command expected, by errno name (see `from_os_error`).
_OS_HINTS = {
    "ENOENT": "check that the file or its folder exists",
    "ENOTDIR": "a part of the path is a file, not a folder",
    "EACCES": "check the permissions of the file and its folder",
    "EPERM": "check the permissions of the file and its folder",
    "EROFS": "the file system is read-only; choose another place",
    "ENOSPC": "the disk is full; free some space",
    "EDQUOT": "the disk quota is used up; free some space",
    "EISDIR": "name a file, not a folder",
}


def from_os_error(e: OSError) -> TokensafeError:
    """The error an OSError that escaped a command stands for: a network failure (exit 8)
    or a file-system one (exit 7), as one line: `cannot …: <strerror> (<filename>)`."""
    import errno
    import os
    import socket

    reason = e.strerror or str(e) or type(e).__name__
    if isinstance(e, (ConnectionError, TimeoutError, socket.gaierror, socket.herror)):
        return NetworkError(f"cannot reach a server: {reason}",
                            "check the host, the network, proxies and certificates")
    paths = [os.fsdecode(p) if isinstance(p, (str, bytes, os.PathLike)) else str(p)
             for p in (e.filename, e.filename2) if p is not None]
    where = f" ({' -> '.join(paths)})" if paths else ""
    what = "access a file" if paths else "complete a file operation"
    return FileSystemError(f"cannot {what}: {reason}{where}", _OS_HINTS.get(errno.errorcode.get(e.errno or 0, "")))
