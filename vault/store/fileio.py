"""Private folders, permission checks, the writer lock and atomic replacement."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from vault.errors import BusyError, PolicyError
from vault.store.paths import display

if TYPE_CHECKING:
    from pathlib import Path

LOCK_WAIT_S = 30.0  # default wait for another writer; TOKENSAFE_LOCK_WAIT overrides


def ensure_private_dir(folder: Path) -> None:
    """Create the vault's folder 0700 if missing; refuse one others can write."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    # Every folder we create is 0700, parents included (mkdir(parents=True) would apply the
    # umask to them, and a umask of 0 would make them world-writable).
    for d in reversed(missing):
        d.mkdir(mode=0o700)
        os.chmod(d, 0o700)
    check_permissions(folder, is_dir=True)


def check_permissions(path: Path, is_dir: bool = False) -> None:
    """Refuse (like ssh) a file or folder that another user owns or group/others can write,
    and a file (vault, backup, fingerprints) that group or others can read."""
    if os.name != "posix":
        return
    st = path.stat()
    if st.st_uid != os.getuid():
        raise PolicyError(
            f"{display(path)} belongs to another user (uid {st.st_uid})",
            "a vault must belong to you; move it, or fix it with chown",
        )
    if is_dir and path.parent != path and (st.st_mode & stat.S_ISVTX):
        return  # a sticky shared folder such as /tmp is fine as a parent
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = "700" if is_dir else "600"
        raise PolicyError(
            f"{display(path)} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})",
            f"others could replace your vault; fix it with: chmod {mode} {display(path)}",
        )
    if not is_dir and st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        raise PolicyError(
            f"{display(path)} is readable by group or others (mode {stat.S_IMODE(st.st_mode):o})",
            f"others could copy it and guess its passphrase offline; fix it with: chmod 600 {display(path)}",
        )


def lock_wait_from_env(default: float = LOCK_WAIT_S) -> float:
    """TOKENSAFE_LOCK_WAIT in seconds (0 = do not wait; unset or empty: `default`).

    A value that is not a number of seconds from 0 to a day is a usage error: ignoring it
    would silently wait 30 s where the user asked for something else.
    """
    raw = os.environ.get("TOKENSAFE_LOCK_WAIT", "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 24 * 3600:  # also false for nan
        from vault.errors import UsageError

        raise UsageError(f"TOKENSAFE_LOCK_WAIT={raw[:40]!r} is not a number of seconds from 0 to 86400",
                         "e.g. TOKENSAFE_LOCK_WAIT=60; unset it for the default of 30 s")
    return value


def busy(what: str, wait_s: float) -> BusyError:
    return BusyError(
        f"the vault is locked by another tokensafe process ({what}); gave up after {wait_s:g} s",
        "wait for the other command to finish and try again, or wait longer with TOKENSAFE_LOCK_WAIT=SECONDS",
    )


@contextlib.contextmanager
def locked(lock_file: Path, wait_s: float | None = None) -> Iterator[None]:
    """Exclusive inter-process lock for a read-modify-write (flock; released on crash).

    Waits up to `wait_s` seconds (default: TOKENSAFE_LOCK_WAIT, else 30), then BusyError.
    """
    wait_s = lock_wait_from_env() if wait_s is None else wait_s
    fd = acquire(lock_file, wait_s)
    try:
        yield
    finally:
        os.close(fd)  # closing releases the lock


def acquire(lock_file: Path, wait_s: float) -> int:
    """Open `lock_file` and lock it exclusively; returns the descriptor (closing it unlocks)."""
    fd = _open_lock(lock_file)
    if os.name != "posix":  # pragma: no cover - Windows
        _acquire_windows(fd, lock_file, wait_s)
        return fd
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
    return _wait_for_lock(lock_file, wait_s)


def _open_lock(lock_file: Path) -> int:
    # O_NOFOLLOW: a symlink planted as the lock file is refused (ELOOP), never followed to
    # create or truncate a file elsewhere; the caller has checked the folder's owner and mode.
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(lock_file, flags, 0o600)
    except OSError as e:
        if os.path.islink(lock_file):
            raise PolicyError(f"{display(lock_file)} is a symbolic link; refusing to follow it",
                              f"remove it (rm {display(lock_file)}); tokensafe makes the lock file itself") from None
        raise e


def _wait_for_lock(lock_file: Path, wait_s: float) -> int:
    """Block in flock(2) in a helper thread; give up after `wait_s` (BusyError).

    Why a thread: the kernel wakes a blocked flock the moment the holder releases, where
    polling with LOCK_NB sleeps through releases and, under load, loses to other pollers
    again and again (8 of 80 writers timed out on a busy machine). flock has no timeout of
    its own; a SIGALRM timer (setitimer) could interrupt it, but signals reach only the main
    thread and the timer is process-global, so it would break callers that use threads or
    their own alarms. The thread owns its descriptor: if we stop waiting, it closes that
    descriptor itself once flock returns (dropping the lock it then got), so we never close
    a descriptor another thread is blocked on. The waiter is a daemon thread: if the process
    exits first, the kernel drops the wait with the process.
    """
    import fcntl

    got = threading.Event()
    state: dict[str, object] = {}
    guard = threading.Lock()

    def wait() -> None:
        try:
            fd = _open_lock(lock_file)
        except OSError as e:
            state["error"] = e
            got.set()
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            os.close(fd)
            state["error"] = e
            got.set()
            return
        with guard:
            if state.get("abandoned"):
                os.close(fd)
                return
            state["fd"] = fd
        got.set()

    threading.Thread(target=wait, name="tokensafe-lock", daemon=True).start()
    got.wait(wait_s)
    with guard:
        if "fd" in state:
            return int(state["fd"])  # type: ignore[call-overload]
        state["abandoned"] = True
    if "error" in state:
        raise state["error"]  # type: ignore[misc]
    raise busy(display(lock_file), wait_s)


def _acquire_windows(fd: int, lock_file: Path, wait_s: float) -> None:  # pragma: no cover
    import msvcrt

    deadline = time.monotonic() + wait_s
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise busy(display(lock_file), wait_s) from None
            time.sleep(0.05)


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(folder: Path, prefix: str, data: bytes, mode: int = 0o600) -> Path:
    """Write `data` to a new temp file in `folder` (same filesystem as the target), fsynced."""
    # mkstemp's job without importing tempfile (it costs `get` start-up time): O_EXCL + random name.
    while True:
        name = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
            break
        except FileExistsError:
            continue
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else None
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    os.close(fd)
    from pathlib import Path  # not at the top: `audit` imports this module, and pathlib is ~3 ms

    return Path(name)


def atomic_write(path: Path, data: bytes, mode: int = 0o600, keep_backup: Path | None = None) -> None:
    """Replace `path` with `data` atomically: readers see the old bytes or the new, never neither.

    With `keep_backup`, the old file is hard-linked there first (the replace swaps inodes,
    so the link keeps the previous generation byte for byte).
    """
    folder = path.parent
    tmp = write_temp(folder, "." + path.name + ".", data, mode)
    try:
        if keep_backup is not None and path.exists():
            link_tmp = folder / f".{keep_backup.name}.{os.getpid()}.link"
            with contextlib.suppress(FileNotFoundError):
                link_tmp.unlink()
            os.link(path, link_tmp)
            os.replace(link_tmp, keep_backup)
            # rename(2) does nothing when both names are already links to one file (the
            # backup already is the current file, e.g. after a crash right here): drop ours.
            with contextlib.suppress(FileNotFoundError):
                link_tmp.unlink()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(folder)


def clean_stale_temps(path: Path, older_than_s: float = 0.0) -> None:
    """Remove temp files left by writers that crashed (called under the lock)."""
    now = time.time()
    strays = [*path.parent.glob(f".{path.name}.*.tmp"), *path.parent.glob(f".{path.name}.*.link")]
    for p in strays:  # temp files, and backup links a writer made before it was killed
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > older_than_s:
                p.unlink()
