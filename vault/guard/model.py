"""Plain data of the guard: candidates (internal, hold a value) and findings (never do)."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(slots=True)
class Candidate:
    """A value found somewhere, before classification. Lives inside one scan only."""

    value: str
    start: int  # absolute byte offset of the value's raw form in the file
    end: int  # absolute byte offset just past it
    source: str  # jwt | b64jwt | bearer | basic | authz | kv | pair | pem | docker | provider | run
    key: str | None = None  # the variable/field name the value is assigned to
    scope: str | None = None  # Postman scope: environment | globals | collection
    var_type: str | None = None  # Postman variable type (`secret`, `default`, …)
    encoding: str | None = None  # how the value was encoded in the file (base64, …)
    key_kind: str | None = ""  # cache of filters.secret_key_kind(key); "" = not computed
    quoted: bool = True  # False: an unquoted value, which in code is a reference, not a literal
    facts: dict[str, Any] | None = None  # what the reader knows besides (credential files: host)
    follows: str = ""  # unquoted values: the bytes after the value (`(`, `[`, `;`): code or not

    def __repr__(self) -> str:  # never show the value
        return f"Candidate(source={self.source!r}, key={self.key!r}, start={self.start})"


@dataclass(slots=True)
class Finding:
    """What reports carry: where, what, how bad; a preview and fingerprint, never the value."""

    path: str
    line: int
    column: int
    detector: str
    severity: str
    preview: str
    fingerprint: str
    facts: dict[str, Any] = field(default_factory=dict)
    offset: int = 0  # byte offset of the value (for scrub); not shown in reports
    length: int = 0  # byte length of the value's raw form (for scrub)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "line": self.line, "column": self.column,
            "detector": self.detector, "severity": self.severity, "preview": self.preview,
            "fingerprint": self.fingerprint, "facts": self.facts,
        }


@dataclass(slots=True)
class FileError:
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: FileError | None = None
    nbytes: int = 0
    binary: bool = False
    kind: str = "text"
    skipped: str | None = None  # "special" (device, FIFO, /proc …) or "large" (over the size cap)
    encrypted: list[Any] = field(default_factory=list)  # ciphertext.Encrypted: info, not findings


@dataclass
class ScanStats:
    files: int = 0
    bytes: int = 0
    binary: int = 0
    errors: int = 0
    excluded: int = 0
    special: int = 0  # devices, FIFOs, sockets, /proc and /sys files: never read
    too_large: int = 0  # over the size cap
    seconds: float = 0.0

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
