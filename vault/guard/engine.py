"""Walk paths, fan files out to a process pool, gather findings and per-file errors.

Small jobs run in-process (a pool costs ~100 ms to start). Large ones go to one worker per
core, fed while the walk goes on (feed.py): files of 1 MiB or more one by one, biggest known
first, small ones in batches of up to 256 files or 8 MB; a batch sends back a summary and
only the results that carry something (findings, an error, a skip).
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from vault.guard.model import (
    FileError,
    FileResult,
    Finding,
    ScanStats,
    display_path,
    os_error_reason,
)
from vault.guard.readers import FileScanner, ScanConfig

# Version-control stores (compressed objects) and tool caches that only hold derived data.
DEFAULT_EXCLUDES = (".git", ".hg", ".svn", "__pycache__", ".hypothesis", ".ruff_cache",
                    ".mypy_cache", ".tox", ".tokensafe-quarantine")
IN_PROCESS_BYTES = 8 * 1024 * 1024
BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    encrypted: list = field(default_factory=list)  # ciphertext.Encrypted: info, never findings


def _matcher(excludes: tuple[str, ...]) -> Callable[[str, str], bool]:
    """One compiled regex for all globs; a glob with `/` is matched against the relative path."""
    import re

    names = [fnmatch.translate(g) for g in excludes if "/" not in g]
    rels = [fnmatch.translate(g.rstrip("/")) for g in excludes if "/" in g]
    name_re = re.compile("|".join(names)) if names else None
    rel_re = re.compile("|".join(rels)) if rels else None

    def excluded(top: str, path: str, name: str) -> bool:
        if name_re is not None and name_re.match(name):
            return True
        return rel_re is not None and bool(rel_re.match(os.path.relpath(path, top)))
    return excluded


def walk(paths: Iterable[str], excludes: tuple[str, ...] = (),
         errors: list[FileError] | None = None,
         stats: ScanStats | None = None) -> Iterator[tuple[str, int]]:
    """Yield (path, size) of regular files under `paths`; follows symlinks, once each."""
    excluded = _matcher(tuple(excludes) + DEFAULT_EXCLUDES)
    errors = errors if errors is not None else []
    seen_dirs: set[tuple[int, int]] = set()

    def err(p: str, reason: str) -> None:
        errors.append(FileError(display_path(p), reason))

    for top in paths:
        try:
            st = os.stat(top)
        except OSError as e:
            err(top, os_error_reason(e))
            continue
        if stat.S_ISREG(st.st_mode):
            yield top, st.st_size
            continue
        if not stat.S_ISDIR(st.st_mode):
            err(top, "not a regular file (device, FIFO or socket)")
            if stats is not None:
                stats.special += 1
            continue
        stack = [top]
        while stack:
            d = stack.pop()
            try:
                dst = os.stat(d)
            except OSError as e:
                err(d, os_error_reason(e))
                continue
            ident = (dst.st_dev, dst.st_ino)
            if ident in seen_dirs:
                if os.path.islink(d):
                    err(d, "symlink loop (folder already scanned)")
                continue
            seen_dirs.add(ident)
            try:
                with os.scandir(d) as it:
                    entries = list(it)
            except OSError as e:
                err(d, os_error_reason(e))
                continue
            for ent in entries:
                if excluded(top, ent.path, ent.name):
                    if stats is not None:
                        stats.excluded += 1
                    continue
                try:
                    if ent.is_dir():  # follows symlinks; loops caught by seen_dirs
                        stack.append(ent.path)
                        continue
                    est = ent.stat()
                except OSError as e:
                    err(ent.path, os_error_reason(e))
                    continue
                if stat.S_ISREG(est.st_mode):
                    yield ent.path, est.st_size
                elif stats is not None:
                    stats.special += 1  # sockets, FIFOs, devices: never opened, only counted


_worker: FileScanner | None = None


def _init_worker(cfg: ScanConfig) -> None:
    global _worker
    _worker = FileScanner(cfg)


def _scan_batch(paths: list[str]) -> tuple[int, int, int, list[FileResult]]:
    """(clean files, their bytes, how many of them binary, the other results): a result object
    per clean file cost more to pickle to the parent than the file cost to scan."""
    assert _worker is not None
    files = nbytes = binary = 0
    kept: list[FileResult] = []
    for p in paths:
        fr = _worker.scan_path(p)
        if fr.findings or fr.error or fr.skipped or fr.encrypted:  # encrypted: listed as info
            kept.append(fr)
        else:
            files += 1
            nbytes += fr.nbytes
            binary += fr.binary
    return files, nbytes, binary, kept


def scan(paths: Iterable[str], cfg: ScanConfig, excludes: tuple[str, ...] = (),
         workers: int | None = None,
         progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Scan files and trees; `progress(nbytes, total_bytes)` is called as files finish, once
    the walk is over (the total is known then)."""
    t0 = time.perf_counter()
    result = ScanResult()
    walk_errors: list[FileError] = []  # the walk may run in its own thread: its own lists
    walk_stats = ScanStats()
    found = walk(paths, excludes, walk_errors, walk_stats)
    if not workers:
        try:
            workers = len(os.sched_getaffinity(0))  # the cores this process may use
        except (AttributeError, OSError):
            workers = os.cpu_count() or 1
    # Walk until the job is big enough for a pool; a small one is scanned here.
    first: list[tuple[str, int]] = []
    size = 0
    pooled = False
    for f in found:
        first.append(f)
        size += f[1]
        if workers > 1 and size > IN_PROCESS_BYTES and len(first) > 2:
            pooled = True
            break
    file_errors: list[FileError] = []

    def collect(fr: FileResult) -> None:
        result.stats.files += fr.skipped is None  # files read; skipped ones are counted below
        result.stats.bytes += fr.nbytes
        result.stats.binary += fr.binary
        result.stats.special += fr.skipped == "special"
        result.stats.too_large += fr.skipped == "large"
        if fr.error:
            file_errors.append(fr.error)
        result.findings.extend(fr.findings)
        result.encrypted.extend(fr.encrypted)

    if not pooled:
        scanner = FileScanner(cfg)
        for p, _ in first:
            fr = scanner.scan_path(p)
            collect(fr)
            if progress:
                progress(fr.nbytes, size)
    else:
        _scan_pooled(first, found, cfg, workers, collect, result.stats, progress)
    result.errors = walk_errors + file_errors
    result.stats.excluded += walk_stats.excluded
    result.stats.special += walk_stats.special
    result.stats.errors = len(result.errors)
    result.stats.seconds = time.perf_counter() - t0
    result.findings.sort(key=lambda f: (f.path, f.line, f.column))
    result.encrypted.sort(key=lambda e: (e.path, e.line))
    return result


def _scan_pooled(first: list[tuple[str, int]], rest: Iterator[tuple[str, int]], cfg: ScanConfig,
                 workers: int, collect: Callable[[FileResult], None], stats: ScanStats,
                 progress: Callable[[int, int], None] | None) -> None:
    """One worker per core, fed while the walk goes on (feed.py says how)."""
    import multiprocessing as mp

    from vault.guard.feed import BatchFeed

    feed = BatchFeed(BATCH_BYTES, limit=2 * workers)
    for p, n in first:
        feed.add(p, n)
    walker = feed.walk_in_thread(rest)
    unreported = 0  # bytes done before the walk ended, when the total was not known yet
    # fork where available: workers start in ms and inherit the imported modules
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        try:
            for clean, nbytes, binary, kept in pool.imap_unordered(_scan_batch, feed.batches()):
                feed.returned()
                stats.files += clean
                stats.bytes += nbytes
                stats.binary += binary
                for fr in kept:
                    collect(fr)
                    nbytes += fr.nbytes
                if progress:
                    if feed.done:
                        progress(nbytes + unreported, feed.total)
                        unreported = 0
                    else:
                        unreported += nbytes
        finally:
            feed.stop()  # wakes the pool's task thread if we leave early (an error, ^C)
    walker.join()
    if feed.error is not None:
        raise feed.error
    if progress and unreported:
        progress(unreported, feed.total)
