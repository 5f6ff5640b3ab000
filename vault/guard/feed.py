"""Hand files to the pool while the walk still runs, biggest known big file first.

DESIGN: walking 5,000 files costs ~15 ms, a twentieth of scanning them on two cores; the
pool need not wait for it. Files are added as the walk finds them (by the fork pool's loop
between answers, or a walker thread) and batches taken as workers need them (`take()`, or
`batches()` for multiprocessing's task thread), so what goes next is decided late: any file
of a chunk or more (the ones that take long) before small ones, the biggest first, which
keeps the old "biggest first so no core idles at the end" once the walk is done, and small
files go in batches of up to 256 files or `batch_bytes` (a result object per file would cost
more to move between processes than to scan). Once the walk is over, a batch is at most
1/`limit` of what is left (not under 16 files or 128 KB), so the last batches are small and
no worker is left scanning a full one while the others idle. `limit` is also how many
batches `batches()` lets out at once.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable, Iterator

BIG = 1024 * 1024  # a file this large is a batch of its own
MAX_FILES = 256
# Floor of the shrinking batches at the end of a job: below it a batch costs more to send
# and answer than to scan.
MIN_FILES = 16
MIN_BYTES = 128 * 1024


class BatchFeed:
    def __init__(self, batch_bytes: int, limit: int) -> None:
        self.batch_bytes = batch_bytes
        self.limit = limit  # batches handed out and not yet returned
        self._cond = threading.Condition()
        self._big: list[tuple[int, int, str]] = []  # heap of (-size, order, path)
        self._small: deque[tuple[str, int]] = deque()
        self._small_bytes = 0
        self._out = 0
        self._order = 0
        self.done = False  # the walk is over (or was stopped)
        self.stopped = False
        self.total = 0  # bytes of the files walked so far
        self.error: BaseException | None = None

    def add(self, path: str, size: int) -> None:
        with self._cond:
            self.total += size
            if size >= BIG:
                heapq.heappush(self._big, (-size, self._order, path))
                self._order += 1
            else:
                self._small.append((path, size))
                self._small_bytes += size
            if self._ready():
                self._cond.notify_all()

    def walk_in_thread(self, files: Iterable[tuple[str, int]]) -> threading.Thread:
        """Add what `files` yields from a daemon thread; `done` once it ends or fails."""
        def run() -> None:
            try:
                for path, size in files:
                    if self.stopped:
                        break
                    self.add(path, size)
            except BaseException as e:  # handed to the scanning thread, which re-raises it
                self.error = e
            finally:
                with self._cond:
                    self.done = True
                    self._cond.notify_all()
        t = threading.Thread(target=run, name="tokensafe-walk", daemon=True)
        t.start()
        return t

    def returned(self) -> None:
        """A batch's result came back: another may go out."""
        with self._cond:
            self._out -= 1
            self._cond.notify_all()

    def stop(self) -> None:
        """Wake and end everything (an error or an interrupt in the scanning thread)."""
        with self._cond:
            self.stopped = self.done = True
            self._big.clear()
            self._small.clear()
            self._cond.notify_all()

    def _ready(self) -> bool:
        return bool(self._big) or len(self._small) >= MAX_FILES or \
            self._small_bytes >= self.batch_bytes or (self.done and bool(self._small))

    def batches(self) -> Iterator[list[str]]:
        while True:
            with self._cond:
                while not self.stopped and (self._out >= self.limit or not self._ready()):
                    if self.done and not self._big and not self._small:
                        return
                    self._cond.wait()
                if self.stopped:
                    return
                batch = self._take()
                self._out += 1
            yield batch

    def take(self) -> list[str] | None:
        """The next batch if one is ready, else None, without waiting (for a caller that walks
        and hands out batches in one thread, and counts for itself what is out)."""
        with self._cond:
            return self._take() if self._ready() else None

    def finish(self) -> None:
        """The walk is over (for a caller that adds files itself)."""
        with self._cond:
            self.done = True
            self._cond.notify_all()

    @property
    def empty(self) -> bool:
        return not self._big and not self._small

    def _take(self) -> list[str]:
        if self._big:
            return [heapq.heappop(self._big)[2]]
        max_files, max_bytes = MAX_FILES, self.batch_bytes
        if self.done:
            # What is left is known: each batch takes a share of it that shrinks as the end
            # nears, so the workers finish together instead of one running a full batch alone.
            max_files = min(max_files, max(MIN_FILES, len(self._small) // self.limit))
            max_bytes = min(max_bytes, max(MIN_BYTES, self._small_bytes // self.limit))
        batch: list[str] = []
        size = 0
        while self._small and len(batch) < max_files and size < max_bytes:
            path, n = self._small.popleft()
            batch.append(path)
            size += n
        self._small_bytes -= size
        return batch
