"""`audit --staged`: scan what git is about to commit (the index), not the work tree."""

from __future__ import annotations

import subprocess
import time

from vault.errors import UsageError
from vault.guard.engine import ScanResult
from vault.guard.model import FileError, display_path
from vault.guard.readers import FileScanner, ScanConfig


def _git(*args: str, input: bytes | None = None) -> bytes:
    try:
        return subprocess.run(["git", *args], input=input, capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git, or audit paths instead") from None
    except subprocess.CalledProcessError as e:
        msg = e.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git failed: {msg[-1] if msg else e.returncode}",
                         "run `tokensafe audit --staged` inside a git work tree") from None


def scan_staged(cfg: ScanConfig) -> ScanResult:
    t0 = time.perf_counter()
    result = ScanResult()
    names = [n for n in _git("diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR").split(b"\0") if n]
    if not names:
        return result
    # One `git cat-file --batch` for all blobs instead of a process per file.
    out = _git("cat-file", "--batch", input=b"".join(b":" + n + b"\n" for n in names))
    scanner = FileScanner(cfg)
    pos = 0
    for name in names:
        path = display_path(name.decode("utf-8", "surrogateescape"))
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        pos = nl + 1
        if len(header) < 3 or header[1] != b"blob":
            result.errors.append(FileError(path, "not a blob in the index (submodule?)"))
            continue
        size = int(header[2])
        data = out[pos:pos + size]
        pos += size + 1
        result.stats.files += 1
        result.stats.bytes += size
        result.findings.extend(scanner.scan_bytes(data, path))
        result.encrypted.extend(scanner.encrypted)
    result.stats.errors = len(result.errors)
    result.stats.seconds = time.perf_counter() - t0
    return result
