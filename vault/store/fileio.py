"""Private folders, permission checks, the writer lock and atomic replacement."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from vault.errors import PolicyError, TokensafeError
from vault.store.paths import display

LOCK_WAIT_S = 10.0


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
    """Refuse (like ssh) a file or folder that another user owns or group/others can write."""
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


@contextlib.contextmanager
def locked(lock_file: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Exclusive inter-process lock for a read-modify-write (flock; released on crash)."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, lock_file, wait_s)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, lock_file: Path, wait_s: float) -> None:
    if os.name != "posix":  # pragma: no cover - Windows
        import msvcrt

        deadline = time.monotonic() + wait_s
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
    else:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        deadline = time.monotonic() + wait_s
        delay = 0.002
        while time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                continue
    raise TokensafeError(
        f"the vault is locked by another tokensafe process ({display(lock_file)})",
        "wait for the other command to finish and try again",
    )


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
