"""Walk paths, fan files out to a process pool, gather findings and per-file errors.

Small jobs run in-process (a pool costs ~100 ms to start). Large ones go to one worker per
core, fed while the walk goes on (feed.py): files of 1 MiB or more one by one, biggest known
first, small ones in batches of up to 256 files or 8 MB; a batch sends back a summary and
only the results that carry something (findings, an error, a skip).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vault.guard.model import (
    FileError,
    FileResult,
    Finding,
    ScanStats,
    display_path,
    os_error_reason,
)
from vault.guard.readers import FileScanner, ScanConfig

if TYPE_CHECKING:
    from vault.guard.feed import BatchFeed

# Version-control stores (compressed objects) and tool caches that only hold derived data.
DEFAULT_EXCLUDES = (".git", ".hg", ".svn", "__pycache__", ".hypothesis", ".ruff_cache",
                    ".mypy_cache", ".tox", ".tokensafe-quarantine")
IN_PROCESS_BYTES = 8 * 1024 * 1024
FORK = hasattr(os, "fork")  # else (Windows) multiprocessing's spawn pool
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
    from vault.guard.feed import BatchFeed

    feed = BatchFeed(BATCH_BYTES, limit=2 * workers)
    for p, n in first:
        feed.add(p, n)
    # Forked before the walk thread starts: a child never inherits a lock that thread holds.
    pool = _ForkPool(workers, cfg, feed) if FORK else None
    walker = feed.walk_in_thread(rest)
    unreported = 0  # bytes done before the walk ended, when the total was not known yet
    answers = pool.results() if pool is not None else _spawn_results(workers, cfg, feed)
    try:
        for clean, nbytes, binary, kept in answers:
            if pool is None:
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
        feed.stop()  # wakes the task thread if we leave early (an error, ^C)
        if pool is not None:
            pool.close()
        else:
            answers.close()  # ends multiprocessing's pool
    walker.join()
    if feed.error is not None:
        raise feed.error
    if progress and unreported:
        progress(unreported, feed.total)


def _spawn_results(workers: int, cfg: ScanConfig, feed: BatchFeed) -> Iterator[BatchAnswer]:
    """Where there is no fork (Windows): multiprocessing's pool, workers importing afresh."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        yield from pool.imap_unordered(_scan_batch, feed.batches())


BatchAnswer = tuple[int, int, int, list[FileResult]]
_LEN = 8  # bytes of a message's length prefix


class _ForkPool:
    """Forked workers, each with a task pipe and an answer pipe; a task thread writes batches
    (NUL-joined file names) to the worker with the fewest out, a thread per worker reads
    answers (pickled `_scan_batch` tuples). Lighter than multiprocessing.Pool: no module
    imports (~10 ms of every audit), no queues or locks between the processes, and a
    worker that dies is an error here, not a hang."""

    def __init__(self, workers: int, cfg: ScanConfig, feed: BatchFeed) -> None:
        import queue
        import threading

        self.feed = feed
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.pids: list[int] = []
        self._tasks: list[int] = []  # write ends, one per worker
        self._out: list[int] = []  # batches a worker holds
        self._closed = False
        self._sent_all = False  # every batch of the feed went to a worker
        readers: list[int] = []
        own: list[int] = []  # every pipe end of this pool, closed in each child but its own
        try:
            for _ in range(workers):
                task_r, task_w = os.pipe()
                ans_r, ans_w = os.pipe()
                own += [task_r, task_w, ans_r, ans_w]
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child; coverage does not follow a fork
                    _worker_main(cfg, task_r, ans_w, [fd for fd in own if fd not in (task_r, ans_w)])
                os.close(task_r)
                os.close(ans_w)
                own.remove(task_r)
                own.remove(ans_w)
                self.pids.append(pid)
                self._tasks.append(task_w)
                self._out.append(0)
                readers.append(ans_r)
        except BaseException:
            for fd in own:
                os.close(fd)
            self._tasks.clear()
            self._reap(kill=True)
            raise
        self._threads = [threading.Thread(target=self._read, args=(i, fd), daemon=True,
                                          name=f"tokensafe-answers-{i}")
                         for i, fd in enumerate(readers)]
        self._threads.append(threading.Thread(target=self._send, daemon=True, name="tokensafe-tasks"))
        for t in self._threads:
            t.start()

    def _send(self) -> None:
        """Hand out the feed's batches, then tell every worker to end."""
        try:
            for batch in self.feed.batches():
                with self._lock:
                    i = min(range(len(self._out)), key=self._out.__getitem__)
                    self._out[i] += 1
                _write_message(self._tasks[i], b"\0".join(map(os.fsencode, batch)))
            self._sent_all = True
        except OSError:
            pass  # a worker is gone: results() says so once the others end
        finally:
            for fd in self._tasks:
                with contextlib.suppress(OSError):
                    _write_message(fd, b"")  # the end: the worker exits

    def _read(self, i: int, fd: int) -> None:
        import pickle

        with os.fdopen(fd, "rb") as f:
            while True:
                head = f.read(_LEN)
                body = f.read(int.from_bytes(head, "big")) if len(head) == _LEN else b""
                if not body:
                    break
                with self._lock:
                    self._out[i] -= 1
                self.feed.returned()
                self.answers.put(pickle.loads(body))
        self.answers.put(None)  # this worker has ended (or died)

    def results(self) -> Iterator[BatchAnswer]:
        """Answers as they come, until every worker has ended; a worker's error is raised."""
        ended = 0
        while ended < len(self.pids):
            got = self.answers.get()
            if got is None:
                ended += 1
                continue
            ok, value = got
            if not ok:
                raise value
            yield value
        with self._lock:
            lost = sum(self._out)
        if lost or not (self._sent_all or self.feed.stopped):
            raise RuntimeError("a scan worker ended before answering (killed, or out of memory?)")

    def close(self) -> None:
        """End the workers (at once if any is still busy: an error or ^C) and reap them."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            busy = sum(self._out) > 0
        self._reap(kill=busy)
        for t in self._threads:
            t.join()
        for fd in self._tasks:
            os.close(fd)

    def _reap(self, kill: bool) -> None:
        import signal

        for pid in self.pids:
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _write_message(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_LEN, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def _worker_main(cfg: ScanConfig, task_r: int, ans_w: int, others: list[int]) -> None:  # pragma: no cover
    """A forked worker: scan each batch read from `task_r`, answer on `ans_w`; never returns."""
    import pickle
    import signal

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the parent's to handle
        for fd in others:
            os.close(fd)
        _init_worker(cfg)
        with os.fdopen(task_r, "rb") as tasks, os.fdopen(ans_w, "wb") as answers:
            while True:
                head = tasks.read(_LEN)
                body = tasks.read(int.from_bytes(head, "big")) if len(head) == _LEN else b""
                if not body:
                    break
                try:
                    answer = (True, _scan_batch([os.fsdecode(p) for p in body.split(b"\0")]))
                except Exception as e:  # a bug: raised in the parent, as multiprocessing did
                    answer = (False, e)
                try:
                    data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
                except Exception:  # an exception that does not pickle: its type only
                    data = pickle.dumps((False, RuntimeError(f"{type(answer[1]).__name__} in a scan worker")))
                answers.write(len(data).to_bytes(_LEN, "big"))
                answers.write(data)
                answers.flush()
    except BaseException:
        code = 1  # the parent went away (a broken pipe) or stopped us
    finally:
        os._exit(code)  # never the parent's atexit handlers or buffered output
