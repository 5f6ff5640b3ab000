"""`audit --git [RANGE]`: every blob a repository's history added, scanned once.

`git log --raw --reverse` (oldest commit first) names each blob a commit added or changed,
with its path: the first sighting of a blob id is the commit that introduced it, so each
unique blob is scanned once and a finding carries the commit and path that first held it
(a token kept through later edits, renames and copies is one finding). Sizes come from one
`git cat-file --batch-check`, contents stream through one `git cat-file --batch`; blobs over
the size cap are listed and skipped. A token found in history is then looked for in the
work tree (facts["in_worktree"]), so a token removed since is told apart from a live one.
git runs hardened (vault/guard/gitsafe.py): the repository is not trusted.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator

from vault.errors import UsageError
from vault.guard import gitsafe
from vault.guard.engine import ScanResult
from vault.guard.model import FileError, Finding, display_path
from vault.guard.readers import FileScanner, ScanConfig

HINT = "run it in a git work tree or name the repository: tokensafe audit --git [RANGE] [REPO]"
_NULL_SHA = b"0" * 40
_FILE_MODES = (b"100644", b"100755")
IN_PROCESS_BYTES = 8 * 1024 * 1024  # below this, a pool costs more than it saves
BATCH_BYTES = 4 * 1024 * 1024  # regular files; symlinks and submodules hold no content


def check_range(rng: str) -> None:
    """A revision range is one argument and never an option (`--output=…` must not reach git)."""
    if not rng or rng.startswith("-") or any(c in rng for c in "\0\n\r") or len(rng) > 1024:
        raise UsageError(f"{rng!r} is not a revision range",
                         "e.g. --git main, --git v1.0..HEAD, or --git alone for every branch and tag")


def _blobs(repo: str, rng: str | None) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(blob id, commit, path) of each blob in the first commit (oldest first) that added it."""
    revs = ["--end-of-options", rng] if rng else ["--all"]
    proc = gitsafe.popen(repo, "log", "--format=%x01%H", "--raw", "--no-abbrev", "-z", "--root",
                         "-m", "--no-renames", "--reverse", "--no-show-signature", "--no-textconv",
                         "--no-ext-diff", "--no-color", "--no-mailmap", *revs,
                         stderr=subprocess.PIPE)  # a few lines at most: read once stdout ends
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdin.close()  # type: ignore[union-attr]
    seen: set[bytes] = set()
    commit = b""
    header: list[bytes] | None = None
    rest = b""
    while True:
        chunk = proc.stdout.read(1 << 16)
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop() if chunk else b""
        for tok in parts:
            if header is not None:  # the path after a raw line
                sha, mode = header[3], header[1]
                header = None
                if sha != _NULL_SHA and mode in _FILE_MODES and sha not in seen:
                    seen.add(sha)
                    yield sha, commit, tok
                continue
            tok = tok.lstrip(b"\n")
            if tok.startswith(b"\x01"):
                commit = tok[1:].strip()
            elif tok.startswith(b":"):
                f = tok[1:].split()
                header = f if len(f) >= 5 else None
        if not chunk:
            break
    err = proc.stderr.read(1 << 16).decode("utf-8", "replace").strip().splitlines()
    if proc.wait() != 0:
        raise UsageError(f"git failed: {gitsafe.reason(err) or proc.returncode}",
                         "name a branch, tag, commit or range of this repository "
                         "(e.g. --git main, --git v1.0..HEAD), or --git alone for all of them")


def _sizes(repo: str, shas: list[bytes]) -> dict[bytes, int]:
    out = gitsafe.run(repo, "cat-file", "--batch-check", input=b"".join(s + b"\n" for s in shas),
                      hint=HINT)
    sizes = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] == b"blob":
            sizes[f[0]] = int(f[2])
    return sizes


def _contents(repo: str, shas: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(id, content) of each blob, streamed: one blob in memory at a time."""
    proc = gitsafe.popen(repo, "cat-file", "--batch")
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            for s in shas:
                stdin.write(s + b"\n")
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for _ in shas:
            head = proc.stdout.readline().split()
            if len(head) != 3 or head[1] != b"blob":
                if not head:
                    break
                continue  # missing (a shallow or partial clone): nothing to scan
            size = int(head[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after each object
            yield head[0], data
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
        writer.join(timeout=5)


def repo_kind(repo: str) -> str | None:
    """The work tree's top folder, or None for a bare repository; UsageError if not a repo."""
    bare = gitsafe.run(repo, "rev-parse", "--is-bare-repository",
                       hint=f"{display_path(repo)} must be a git repository (or a folder in one)")
    if bare.strip() == b"true":
        return None
    top = gitsafe.run(repo, "rev-parse", "--show-toplevel", hint=HINT).rstrip(b"\n")
    return top.decode("utf-8", "surrogateescape")


def scan_history(cfg: ScanConfig, repo: str = ".", rng: str | None = None,
                 workers: int | None = None) -> ScanResult:
    t0 = time.perf_counter()
    if rng is not None:
        check_range(rng)
    top = repo_kind(repo)
    result = ScanResult()
    found = list(_blobs(repo, rng))
    where = {sha: (commit, path) for sha, commit, path in found}
    sizes = _sizes(repo, [sha for sha, _, _ in found]) if found else {}
    cap = cfg.max_size
    wanted = []
    for sha, commit, path in found:
        size = sizes.get(sha)
        if size is None:
            continue  # not in this clone (shallow or partial)
        if cap is not None and size > cap:
            result.errors.append(FileError(_shown(path, commit), f"larger than the size cap ({size} > "
                                           f"{cap} bytes; --max-size raises it)"))
            result.stats.too_large += 1
            continue
        wanted.append(sha)
    first: dict[str, Finding] = {}  # fingerprint -> the oldest sighting
    total = sum(sizes[sha] for sha in wanted)
    for sha, data, found_in, partial in _scanned(cfg, _contents(repo, wanted), total, workers):
        commit, raw_path = where[sha]
        path = display_path(raw_path.decode("utf-8", "surrogateescape"))
        result.stats.files += 1
        result.stats.bytes += data
        result.stats.binary += partial == "binary"
        for f in found_in:
            if f.fingerprint not in first:
                f.path = path
                f.facts["commit"] = commit.decode()
                f.facts["path"] = path
                first[f.fingerprint] = f
        if partial == "part":
            result.errors.append(FileError(_shown(raw_path, commit),
                                           "scanned in part: far more places that look like tokens "
                                           "than a real file holds; some were not examined"))
    if first:
        live = _worktree_fingerprints(cfg, top, workers) if top is not None else None
        for f in first.values():
            f.facts["in_worktree"] = None if live is None else f.fingerprint in live
    result.findings = sorted(first.values(), key=lambda f: (f.path, f.line, f.column))
    result.stats.errors = len(result.errors)
    result.stats.seconds = time.perf_counter() - t0
    return result


Scanned = tuple[bytes, int, list[Finding], str]  # (blob id, size, findings, "binary"|"part"|"")
_scanner: list[FileScanner] = []  # a pool worker's own


def _scan_one(scanner: FileScanner, sha: bytes, data: bytes) -> Scanned:
    found = scanner.scan_bytes(data)
    kind = "part" if scanner.unexamined else "binary" if b"\0" in data[:8192] else ""
    return sha, len(data), found, kind


def _init(cfg: ScanConfig) -> None:
    _scanner[:] = [FileScanner(cfg)]


def _scan_batch(batch: list[tuple[bytes, bytes]]) -> list[Scanned]:
    return [_scan_one(_scanner[0], sha, data) for sha, data in batch]


def _batches(blobs: Iterator[tuple[bytes, bytes]]) -> Iterator[list[tuple[bytes, bytes]]]:
    cur: list[tuple[bytes, bytes]] = []
    size = 0
    for sha, data in blobs:
        cur.append((sha, data))
        size += len(data)
        if size >= BATCH_BYTES or len(cur) >= 512:
            yield cur
            cur, size = [], 0
    if cur:
        yield cur


def _scanned(cfg: ScanConfig, blobs: Iterator[tuple[bytes, bytes]], total: int,
             workers: int | None) -> Iterator[Scanned]:
    """Scan blobs in order (the first sighting must stay the oldest): in this process for
    a small history, else on one worker per core, fed in batches of about 4 MB."""
    if not workers:
        try:
            workers = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            workers = os.cpu_count() or 1
    if workers <= 1 or total <= IN_PROCESS_BYTES:
        scanner = FileScanner(cfg)
        for sha, data in blobs:
            yield _scan_one(scanner, sha, data)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(cfg,)) as pool:
        # Not imap: it would read the whole history ahead into its queue. At most two
        # batches per worker are in flight, and results come back in order.
        pending: deque = deque()
        for batch in _batches(blobs):
            pending.append(pool.apply_async(_scan_batch, (batch,)))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def _shown(path: bytes, commit: bytes) -> str:
    return f"{display_path(path.decode('utf-8', 'surrogateescape'))} (commit {commit[:12].decode()})"


def _worktree_fingerprints(cfg: ScanConfig, top: str, workers: int | None) -> set[str]:
    """Fingerprints of what the work tree holds now (untracked files too; .git excluded)."""
    from vault.guard.engine import scan

    return {f.fingerprint for f in scan([top], cfg, workers=workers).findings}
