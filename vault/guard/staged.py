"""`audit --staged`: scan what git is about to commit (the index), not the work tree.

git runs as for `audit --git` (vault.guard.gitsafe: none of the programs a repository's config
names, no global config), but with the variables that say which index a commit in progress
uses, since a pre-commit hook may be handed a temporary one.
"""

from __future__ import annotations

import time

from vault.guard import gitsafe
from vault.guard.engine import ScanResult
from vault.guard.model import FileError, display_path
from vault.guard.readers import FileScanner, ScanConfig


def _git(*args: str, input: bytes | None = None) -> bytes:
    return gitsafe.run(None, *args, input=input, keep_env=gitsafe.COMMIT_IN_PROGRESS,
                       hint="run `tokensafe audit --staged` inside a git work tree")


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
