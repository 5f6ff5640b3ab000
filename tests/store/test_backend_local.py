"""The local vault file as a Backend: the shared contract, plus what only a file does."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from backend_contract import BackendContract

from vault.errors import BusyError, PolicyError
from vault.store import fileio
from vault.store.backend import LocalFile
from vault.store.paths import backup_path, lock_path


@pytest.fixture
def doc_path(tmp_path: Path) -> Path:
    return tmp_path / "vaultdir" / "vault.tokensafe"


class TestLocalFileContract(BackendContract):
    @pytest.fixture
    def make_backend(self, doc_path: Path):
        return lambda: LocalFile(doc_path)


def test_backup_is_a_hard_link_to_the_previous_bytes(doc_path: Path) -> None:
    b = LocalFile(doc_path)
    g = b.write(b"one", None)
    before = os.stat(doc_path)
    b.write(b"two", g)
    bak = backup_path(doc_path)
    assert bak.read_bytes() == b"one" and os.stat(bak).st_ino == before.st_ino


def test_restore_keeps_the_replaced_file_beside_it(doc_path: Path) -> None:
    b = LocalFile(doc_path)
    g = b.write(b"one", None)
    g = b.write(b"two", g)
    kept = b.restore(b.read_backup(), g)
    assert kept is not None and Path(kept).read_bytes() == b"two"
    assert Path(kept).name.startswith(doc_path.name + ".replaced-")
    assert doc_path.read_bytes() == b"one"


def test_files_and_folder_are_private(doc_path: Path) -> None:
    old = os.umask(0)
    try:
        LocalFile(doc_path).write(b"one", None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(doc_path.parent).st_mode) == 0o700
    for p in (doc_path, lock_path(doc_path)):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p


def test_a_document_others_can_write_is_refused(doc_path: Path) -> None:
    b = LocalFile(doc_path)
    b.write(b"one", None)
    os.chmod(doc_path, 0o622)
    with pytest.raises(PolicyError):
        b.read()


def test_the_lock_is_flock_so_another_process_is_excluded_too(doc_path: Path) -> None:
    """A child process holding flock on the lock file keeps us out; its exit lets us in."""
    import subprocess
    import sys

    LocalFile(doc_path).write(b"one", None)
    code = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code, str(lock_path(doc_path))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"held\n"
        with pytest.raises(BusyError), LocalFile(doc_path).lock(0.2):
            pass
        released = threading.Timer(0.3, lambda: child.stdin.close())  # type: ignore[union-attr]
        released.start()
        with LocalFile(doc_path).lock(10):  # blocks until the child exits
            assert child.wait(10) == 0
    finally:
        child.kill()
        child.wait()


def test_an_abandoned_wait_does_not_keep_the_lock(doc_path: Path) -> None:
    """A waiter that gave up (BusyError) must not hold the lock when it is later released."""
    first = LocalFile(doc_path)
    with first.lock(5), pytest.raises(BusyError), LocalFile(doc_path).lock(0.1):
        pass
    # The abandoned waiter thread got the lock on release and must have dropped it at once.
    for _ in range(20):
        with LocalFile(doc_path).lock(2):
            pass


@pytest.mark.parametrize("value, want", [("", 30.0), ("7.5", 7.5), ("0", 0.0), (" 12 ", 12.0)])
def test_lock_wait_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, want: float) -> None:
    monkeypatch.setenv("TOKENSAFE_LOCK_WAIT", value)
    assert fileio.lock_wait_from_env() == want


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "1e9"])
def test_a_lock_wait_that_is_not_seconds_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from vault.errors import ExitStatus, UsageError

    monkeypatch.setenv("TOKENSAFE_LOCK_WAIT", value)
    with pytest.raises(UsageError, match="TOKENSAFE_LOCK_WAIT") as e:
        fileio.lock_wait_from_env()
    assert e.value.exit_code == ExitStatus.USAGE
