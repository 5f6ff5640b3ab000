"""Plain data of the guard: candidates (internal, hold a value) and findings (never do)."""

from __future__ import annotations

import errno
from typing import Any

from vault.record import Record

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class Candidate(Record):
    """A value found somewhere, before classification. Lives inside one scan only."""

    __slots__ = ("value", "start", "end", "source", "key", "scope", "var_type", "encoding", "key_kind",
                 "quoted", "facts", "follows")

    def __init__(self, value: str, start: int, end: int, source: str, key: str | None = None,
                 scope: str | None = None, var_type: str | None = None, encoding: str | None = None,
                 key_kind: str | None = "", quoted: bool = True, facts: dict[str, Any] | None = None,
                 follows: str = "") -> None:
        self.value = value
        self.start = start  # absolute byte offset of the value's raw form in the file
        self.end = end  # absolute byte offset just past it
        self.source = source  # jwt | b64jwt | bearer | basic | authz | kv | pair | pem | docker | provider | run
        self.key = key  # the variable/field name the value is assigned to
        self.scope = scope  # Postman scope: environment | globals | collection
        self.var_type = var_type  # Postman variable type (`secret`, `default`, …)
        self.encoding = encoding  # how the value was encoded in the file (base64, …)
        self.key_kind = key_kind  # cache of filters.secret_key_kind(key); "" = not computed
        self.quoted = quoted  # False: an unquoted value, which in code is a reference, not a literal
        self.facts = facts  # what the reader knows besides (credential files: host)
        self.follows = follows  # unquoted values: the bytes after the value (`(`, `[`, `;`): code or not

    def __repr__(self) -> str:  # never show the value
        return f"Candidate(source={self.source!r}, key={self.key!r}, start={self.start})"


class Finding(Record):
    """What reports carry: where, what, how bad; a preview and fingerprint, never the value."""

    __slots__ = ("path", "line", "column", "detector", "severity", "preview", "fingerprint", "facts",
                 "offset", "length")

    def __init__(self, path: str, line: int, column: int, detector: str, severity: str, preview: str,
                 fingerprint: str, facts: dict[str, Any] | None = None, offset: int = 0,
                 length: int = 0) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.detector = detector
        self.severity = severity
        self.preview = preview
        self.fingerprint = fingerprint
        self.facts = {} if facts is None else facts
        self.offset = offset  # byte offset of the value (for scrub); not shown in reports
        self.length = length  # byte length of the value's raw form (for scrub)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "line": self.line, "column": self.column,
            "detector": self.detector, "severity": self.severity, "preview": self.preview,
            "fingerprint": self.fingerprint, "facts": self.facts,
        }


class FileError(Record):
    __slots__ = ("path", "reason")

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


class FileResult(Record):
    __slots__ = ("path", "findings", "error", "nbytes", "binary", "kind", "skipped", "encrypted")

    def __init__(self, path: str, findings: list[Finding] | None = None, error: FileError | None = None,
                 nbytes: int = 0, binary: bool = False, kind: str = "text", skipped: str | None = None,
                 encrypted: list[Any] | None = None) -> None:
        self.path = path
        self.findings = [] if findings is None else findings
        self.error = error
        self.nbytes = nbytes
        self.binary = binary
        self.kind = kind
        self.skipped = skipped  # "special" (device, FIFO, /proc …) or "large" (over the size cap)
        self.encrypted = [] if encrypted is None else encrypted  # ciphertext.Encrypted: info, not findings


class ScanStats(Record):
    __slots__ = ("files", "bytes", "binary", "errors", "excluded", "special", "too_large", "seconds")

    def __init__(self, files: int = 0, bytes: int = 0, binary: int = 0, errors: int = 0,
                 excluded: int = 0, special: int = 0, too_large: int = 0, seconds: float = 0.0) -> None:
        self.files = files
        self.bytes = bytes
        self.binary = binary
        self.errors = errors
        self.excluded = excluded
        self.special = special  # devices, FIFOs, sockets, /proc and /sys files: never read
        self.too_large = too_large  # over the size cap
        self.seconds = seconds

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "bytes": self.bytes, "binary_files": self.binary,
                "errors": self.errors, "excluded": self.excluded, "special": self.special,
                "too_large": self.too_large,
                "seconds": round(self.seconds, 3)}


def display_path(path: str) -> str:
    """A printable path: undecodable bytes of non-UTF-8 names shown as U+FFFD, never a crash."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def os_error_reason(e: OSError, missing: str = "does not exist (or vanished during the scan)") -> str:
    """A short reason for a file the scan could not read (never the file's content)."""
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno == errno.ENOENT:
        return missing
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.EISDIR:
        return "is a directory"
    return e.strerror or type(e).__name__
