"""`watch`: feed files that appear or change to the same scanner `audit` uses.

Events are debounced per path: a close-after-write or a rename into place is scanned after
a short settle (editors save by writing a temp file and renaming it), a bare "modified" only
after writes have been quiet for a while (a slow writer may still be mid-token). Nothing is
polled: the observer blocks on inotify (or the platform's equivalent) and the worker sleeps
on a condition, so an idle watch uses no CPU.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vault.guard.model import FileError, Finding, display_path
from vault.guard.readers import FileScanner, ScanConfig

SETTLE_CLOSED = 0.03  # after close-after-write or rename into place
SETTLE_MODIFIED = 3.0  # after a bare write: the writer may not be done
TEMP_GLOBS = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "*.tmp", "*.temp", "*.part",
              "*.crdownload", "*.download", "*.partial", "4913", ".~lock.*", ".*.tmp")


def default_paths() -> list[Path]:
    from platformdirs import user_downloads_dir

    out = []
    for p in (Path(user_downloads_dir()), Path.cwd()):
        if p.is_dir() and p not in out:
            out.append(p)
    return out


def quarantine_dir() -> Path:
    from vault.dirs import user_data_dir

    return Path(user_data_dir()) / "quarantine"


def ensure_private(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


class LinkRefused(OSError):
    """A symlink where watch follows none (its target may lie outside the watched folders)."""


def open_nofollow(path: Path | str) -> int:
    """A descriptor on `path` itself, never on what a symlink there points to."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        import errno

        if e.errno == errno.ELOOP:
            raise LinkRefused(e.errno, "a symlink: watch does not follow links") from None
        raise


def quarantine(path: Path, folder: Path) -> Path:
    """Move `path` into the private folder (0700; file 0600); returns where it went.

    The file is opened without following a link and made private through that descriptor
    (fchmod), so a symlink swapped in at `path` can never make us change another file's mode.
    """
    import errno
    import stat

    ensure_private(folder)
    dest = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{path.name}"
    n = 1
    while dest.exists():
        n += 1
        dest = dest.with_name(f"{dest.name}.{n}")
    fd = open_nofollow(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LinkRefused(errno.EINVAL, "not a regular file")
        os.fchmod(fd, 0o600)  # private before it moves
        try:
            os.rename(path, dest)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            # Another filesystem: copy privately from the descriptor, make it durable, then
            # remove the original.
            out_fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(out_fd, "wb") as out, os.fdopen(os.dup(fd), "rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.unlink(path)
    finally:
        os.close(fd)
    return dest


@dataclass
class Sink:
    """Where the watcher reports: one call per finding, action and problem."""

    finding: Callable[[Finding], None]
    action: Callable[[str, Path, str], None]  # (what, path, detail)
    error: Callable[[FileError], None]


@dataclass
class Watcher:
    paths: list[Path]
    cfg: ScanConfig
    sink: Sink
    action: str = "report"  # report | quarantine | scrub
    quarantine_to: Path | None = None
    scrub: Callable[[Path], str] | None = None  # returns a description; raises on failure
    notify: bool = True
    _pending: dict[str, float] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _last: dict[str, tuple[int, int]] = field(default_factory=dict)
    _reported: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.scanner = FileScanner(self.cfg)
        self._notify_cmd = shutil.which("notify-send") if self.notify else None
        self._skip_prefix = str(self.quarantine_to.resolve()) if self.quarantine_to else None
        self._roots = [os.path.realpath(p) for p in self.paths]
        self._links_said: set[str] = set()

    # -- events ---------------------------------------------------------------------------

    def enqueue(self, path: str, settle: float) -> None:
        name = os.path.basename(path)
        if any(fnmatch.fnmatch(name, g) for g in TEMP_GLOBS):
            return
        if self._skip_prefix and os.path.abspath(path).startswith(self._skip_prefix):
            return
        with self._cond:
            self._pending[path] = time.monotonic() + settle
            self._cond.notify()

    def _handler(self):
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_closed(self, event) -> None:
                if not event.is_directory:
                    watcher.enqueue(_s(event.src_path), SETTLE_CLOSED)

            def on_moved(self, event) -> None:
                dest = _s(event.dest_path)
                if event.is_directory:
                    watcher.enqueue_tree(dest)
                else:
                    watcher.enqueue(dest, SETTLE_CLOSED)

            def on_created(self, event) -> None:
                if event.is_directory:
                    # Files written into a new folder before its watch was added send no
                    # events of their own: look inside once it is being watched.
                    watcher.enqueue_tree(_s(event.src_path), SETTLE_MODIFIED)
                else:
                    watcher.enqueue(_s(event.src_path), SETTLE_MODIFIED)

            def on_modified(self, event) -> None:
                if not event.is_directory:
                    watcher.enqueue(_s(event.src_path), SETTLE_MODIFIED)

        return Handler()

    def enqueue_tree(self, top: str, settle: float = SETTLE_CLOSED) -> None:
        for dirpath, _, files in os.walk(top):
            for f in files:
                self.enqueue(os.path.join(dirpath, f), settle)

    # -- the worker -----------------------------------------------------------------------

    def _due(self) -> list[str]:
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                due = [p for p, t in self._pending.items() if t <= now]
                if due:
                    for p in due:
                        del self._pending[p]
                    return due
                wait = min(self._pending.values()) - now if self._pending else None
                self._cond.wait(wait)
            return []

    def _work(self) -> None:
        while not self._stop.is_set():
            for path in self._due():
                try:
                    self.handle(path)
                except Exception as e:  # one bad file must never stop the watch
                    self.sink.error(FileError(display_path(path), _reason(e)))

    def handle(self, path: str) -> None:
        import stat

        try:
            st = os.lstat(path)
        except OSError:
            return  # gone again (temp files, moved on): nothing to say
        if stat.S_ISLNK(st.st_mode):
            # Never followed: a link's target inside the watched folders is scanned on its
            # own; one outside them is none of watch's business (and scrub or quarantine
            # through it would change a file the user never put here).
            if not self._inside_roots(path) and path not in self._links_said:
                self._links_said.add(path)
                self.sink.error(FileError(display_path(path),
                                          "a symlink leading out of the watched folders: not followed"))
            return
        sig = (st.st_size, st.st_mtime_ns)
        if self._last.get(path) == sig:
            return
        self._last[path] = sig
        res = self.scanner.scan_path(path, follow=False)
        if res.error:
            if "vanished" not in res.error.reason:
                self.sink.error(res.error)
            return
        fresh = [f for f in res.findings if (path, f.fingerprint) not in self._reported]
        if not fresh:
            return
        for f in fresh:
            self._reported.add((path, f.fingerprint))
            self.sink.finding(f)
        self._desktop_notify(path, fresh)
        p = Path(path)
        if self.action == "quarantine" and self.quarantine_to is not None:
            dest = quarantine(p, self.quarantine_to)
            self._last.pop(path, None)
            self.sink.action("quarantined", p, str(dest))
        elif self.action == "scrub" and self.scrub is not None:
            detail = self.scrub(p)
            self.sink.action("scrubbed", p, detail)

    def _inside_roots(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self._roots)

    def _desktop_notify(self, path: str, findings: list[Finding]) -> None:
        if not self._notify_cmd:
            return
        worst = max(findings, key=lambda f: ("low", "medium", "high", "critical").index(f.severity))
        body = f"{display_path(path)}: {len(findings)} finding(s), worst {worst.severity} ({worst.detector})"
        with contextlib.suppress(OSError):
            subprocess.Popen([self._notify_cmd, "-a", "tokensafe", "tokensafe: token in a file", body],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True,
                             # never the vault's unlock material (TOKENSAFE_PASSPHRASE …)
                             env={k: v for k, v in os.environ.items() if not k.startswith("TOKENSAFE_")})

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the observer and the worker threads; returns at once."""
        from watchdog.events import (
            DirCreatedEvent,
            DirMovedEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileModifiedEvent,
            FileMovedEvent,
        )
        from watchdog.observers import Observer

        self._observer = Observer()
        kinds = [FileClosedEvent, FileMovedEvent, DirMovedEvent, FileCreatedEvent, DirCreatedEvent,
                 FileModifiedEvent]
        handler = self._handler()
        for p in self.paths:
            try:
                self._observer.schedule(handler, str(p), recursive=True, event_filter=kinds)
            except OSError as e:
                self.sink.error(FileError(display_path(str(p)), f"cannot watch: {e.strerror or e}"))
        self._worker = threading.Thread(target=self._work, name="tokensafe-watch", daemon=True)
        self._observer.start()
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._worker.join(timeout=5)


def _s(p: str | bytes) -> str:
    return os.fsdecode(p) if isinstance(p, bytes) else p


def _reason(e: Exception) -> str:
    """A failure as a user reads it: our errors by message and hint, no Python class names."""
    from vault.errors import TokensafeError

    if isinstance(e, TokensafeError):
        return e.message + (f" ({e.hint})" if e.hint else "")
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower() if e.strerror[:1].isupper() and not e.strerror[1:2].isupper() else e.strerror
    return f"unexpected error, please report it: {type(e).__name__}: {e}"
