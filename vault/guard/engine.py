"""Walk paths, fan files out to a process pool, gather findings and per-file errors.

Small jobs (under 8 MiB) run in-process: a fork costs ~1 ms, but each worker then copies the
pages it writes and warms up on its own, ~30 ms of CPU for two, which a pool wins back in wall
time only from ~6-8 MB on two idle cores. Large ones go to one forked worker per core
(`_ForkPool`; multiprocessing's spawn pool where there is no fork), fed while the walk goes
on (feed.py): files of 1 MiB or more one by one, biggest known first, small ones in batches of
up to 256 files or 8 MB, smaller towards the end; a batch sends back a summary and only the
results that carry something (findings, an error, a skip).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import signal
import stat
import time
from collections.abc import Callable, Iterable, Iterator
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
from vault.record import Record

if TYPE_CHECKING:
    from vault.guard.feed import BatchFeed

# Version-control stores (compressed objects) and tool caches that only hold derived data.
DEFAULT_EXCLUDES = (".git", ".hg", ".svn", "__pycache__", ".hypothesis", ".ruff_cache",
                    ".mypy_cache", ".tox", ".tokensafe-quarantine")
IN_PROCESS_BYTES = 8 * 1024 * 1024
FORK = hasattr(os, "fork")  # else (Windows) multiprocessing's spawn pool
BATCH_BYTES = 8 * 1024 * 1024


class ScanResult(Record):
    __slots__ = ("findings", "errors", "stats", "encrypted")

    def __init__(self, findings: list[Finding] | None = None, errors: list[FileError] | None = None,
                 stats: ScanStats | None = None, encrypted: list | None = None) -> None:
        self.findings = [] if findings is None else findings
        self.errors = [] if errors is None else errors
        self.stats = ScanStats() if stats is None else stats
        self.encrypted = [] if encrypted is None else encrypted  # ciphertext.Encrypted: info, never findings


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
    walker = None
    if FORK:
        pool: _ForkPool | None = _ForkPool(workers, cfg)
        answers = pool.run(feed, rest)
    else:
        pool = None
        walker = feed.walk_in_thread(rest)
        answers = _spawn_results(workers, cfg, feed)
    unreported = 0  # bytes done before the walk ended, when the total was not known yet
    try:
        for clean, nbytes, binary, kept in answers:
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
        feed.stop()  # wakes multiprocessing's task thread if we leave early (an error, ^C)
        if pool is not None:
            pool.close()
        answers.close()
    if walker is not None:
        walker.join()
        if feed.error is not None:
            raise feed.error
    if progress and unreported:
        progress(unreported, feed.total)


BatchAnswer = tuple[int, int, int, list[FileResult]]


def _spawn_results(workers: int, cfg: ScanConfig, feed: BatchFeed) -> Iterator[BatchAnswer]:
    """Where there is no fork (Windows): multiprocessing's pool, workers importing afresh."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        for answer in pool.imap_unordered(_scan_batch, feed.batches()):
            feed.returned()
            yield answer


_LEN = 8  # bytes of a message's length prefix
_WALK_STEP = 64  # files walked between two looks at the workers (~0.2 ms on a local disk)
_WALK_SLICE = 0.002  # or seconds, whichever comes first
_PER_WORKER = 2  # batches a worker holds: one it scans, one waiting, so it never waits for us


class _ForkPool:
    """Forked workers, each with a task pipe (NUL-joined file names in) and an answer pipe
    (pickled `_scan_batch` tuples out), driven by one loop in the calling thread that walks,
    hands out batches and reads answers (`run`). Lighter than multiprocessing.Pool: no module
    imports (~10 ms of every audit), no threads to start (a few ms each on an idle VM) or to
    hand the GIL between, and a worker that dies is an error here, not a hang."""

    def __init__(self, workers: int, cfg: ScanConfig) -> None:
        import pickle  # noqa: F401  # here, not in each child: ~3 ms of every worker's start

        self.pids: list[int] = []
        self.tasks: list[int] = []  # write ends, non-blocking, one per worker
        self.answers: list[int] = []  # read ends
        self.out: list[int] = []  # batches each worker holds
        own: list[int] = []  # every pipe end of this pool, closed in each child but its own
        # ^C held back while forking: a child must not see it before it ignores it (it would
        # unwind through the caller's code); the parent gets it once the workers are set up.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) \
            if hasattr(signal, "pthread_sigmask") else None
        try:
            for _ in range(workers):
                task_r, task_w = os.pipe()
                ans_r, ans_w = os.pipe()
                own += [task_r, task_w, ans_r, ans_w]
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child; coverage does not follow a fork
                    _worker_main(cfg, task_r, ans_w, [fd for fd in own if fd not in (task_r, ans_w)], held)
                os.close(task_r)
                os.close(ans_w)
                own.remove(task_r)
                own.remove(ans_w)
                os.set_blocking(task_w, False)
                os.set_blocking(ans_r, False)
                self.pids.append(pid)
                self.tasks.append(task_w)
                self.answers.append(ans_r)
                self.out.append(0)
        except BaseException:
            for fd in own:
                os.close(fd)
            self.tasks.clear()
            self.answers.clear()
            self.close()
            raise
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def run(self, feed: BatchFeed, files: Iterator[tuple[str, int]]) -> Iterator[BatchAnswer]:
        """Add what `files` yields to `feed` and scan its batches; answers as they come.
        A worker's exception is raised here; so is one from `files`."""
        import pickle
        import select

        n = len(self.pids)
        unsent = [b""] * n  # task bytes a full pipe did not take yet
        got = [bytearray() for _ in range(n)]
        fd_worker = {fd: i for i, fd in enumerate(self.answers)}
        poller = select.poll()
        for fd in self.answers:
            poller.register(fd, select.POLLIN)
        waiting: set[int] = set()  # workers whose task pipe is polled for room
        walking = True
        while True:
            # Fill each worker up to _PER_WORKER batches, the least loaded first.
            while True:
                i = min(range(n), key=self.out.__getitem__)
                if self.out[i] >= _PER_WORKER:
                    break
                batch = feed.take()
                if batch is None:
                    break
                data = b"\0".join(map(os.fsencode, batch))
                unsent[i] += len(data).to_bytes(_LEN, "big") + data
                self.out[i] += 1
            for i in range(n):
                if unsent[i]:
                    unsent[i] = self._send(i, unsent[i])
                    if unsent[i]:
                        poller.register(self.tasks[i], select.POLLOUT)
                        waiting.add(i)
                if not unsent[i] and i in waiting:
                    poller.unregister(self.tasks[i])
                    waiting.discard(i)
            if walking:
                until = time.perf_counter() + _WALK_SLICE
                for _ in range(_WALK_STEP):
                    f = next(files, None)
                    if f is None:
                        walking = False
                        feed.finish()
                        break
                    feed.add(*f)
                    if time.perf_counter() > until:
                        break  # a slow file system (network, sync client): look at the workers
                timeout = 0  # only look: the walk goes on
            elif feed.empty and not any(self.out):
                return
            else:
                timeout = None
            for fd, _ in poller.poll(timeout):
                i = fd_worker.get(fd)
                if i is None:
                    continue  # a task pipe with room again: written to at the top
                buf = got[i]
                while True:
                    try:
                        chunk = os.read(fd, 1 << 20)
                    except BlockingIOError:
                        break
                    if not chunk:
                        raise RuntimeError("a scan worker ended before answering (killed, or out of memory?)")
                    buf += chunk
                while len(buf) >= _LEN and len(buf) >= _LEN + (size := int.from_bytes(buf[:_LEN], "big")):
                    ok, value = pickle.loads(buf[_LEN:_LEN + size])
                    del buf[:_LEN + size]
                    self.out[i] -= 1
                    if not ok:
                        raise value
                    yield value

    def _send(self, i: int, data: bytes) -> bytes:
        """Write what the task pipe takes now; the rest goes once poll says there is room."""
        try:
            return data[os.write(self.tasks[i], data):]
        except BlockingIOError:
            return data
        except BrokenPipeError:
            raise RuntimeError("a scan worker ended before answering (killed, or out of memory?)") from None

    def close(self) -> None:
        """End the workers: an idle one exits when its task pipe closes, a busy one (an error,
        ^C) is stopped; then reap them."""
        busy = any(self.out)
        for fd in self.tasks + self.answers:
            os.close(fd)
        self.tasks, self.answers = [], []
        for pid in self.pids:
            if busy:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.pids = []


def _worker_main(cfg: ScanConfig, task_r: int, ans_w: int, others: list[int],
                 held: set[signal.Signals] | None) -> None:  # pragma: no cover
    """A forked worker: scan each batch read from `task_r`, answer on `ans_w`, until the task
    pipe closes; never returns."""
    import pickle

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the parent's to handle
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a ^C held back is dropped
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
