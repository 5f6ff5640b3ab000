"""The contract every storage backend passes (like keyring's shared backend test suite).

A backend's test module subclasses `BackendContract` and provides one fixture,
`make_backend`: a callable that returns a NEW backend instance — a separate lock holder,
like another process — on the same document, which does not exist yet. Documents are
opaque bytes here: the vault format is tested elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from vault.errors import BusyError
from vault.store.backend import Backend, ConflictError

MakeBackend = Callable[[], Backend]


class BackendContract:
    # reading and compare-and-swap ---------------------------------------------------------

    def test_a_missing_document_reads_as_none(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        assert b.read() is None
        assert b.read_backup() is None

    def test_write_then_read_round_trip(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        gen = b.write(b"first \x00\xff bytes", None)
        doc = make_backend().read()
        assert doc is not None and doc.data == b"first \x00\xff bytes" and doc.generation == gen
        assert b"first" not in repr(doc).encode()

    def test_creating_over_an_existing_document_conflicts(self, make_backend: MakeBackend) -> None:
        make_backend().write(b"one", None)
        with pytest.raises(ConflictError):
            make_backend().write(b"two", None)
        assert make_backend().read().data == b"one"

    def test_a_write_on_a_stale_generation_conflicts_and_changes_nothing(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        g1 = b.write(b"one", None)
        g2 = b.write(b"two", g1)
        assert g2 != g1
        with pytest.raises(ConflictError):
            make_backend().write(b"three", g1)
        doc = b.read()
        assert doc.data == b"two" and doc.generation == g2
        assert isinstance(ConflictError("x"), BusyError)  # a lost race is "busy", exit 6

    def test_every_change_moves_the_generation(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        gens = [b.write(b"v0", None)]
        for i in range(1, 5):
            gens.append(b.write(f"v{i}".encode(), gens[-1]))
        assert len(set(gens)) == len(gens)

    # backups ---------------------------------------------------------------------------

    def test_the_backup_is_the_previous_generation(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        g1 = b.write(b"one", None)
        assert b.read_backup() is None  # nothing to keep after the first write
        g2 = b.write(b"two", g1)
        assert b.read_backup().data == b"one"
        b.write(b"three", g2)
        assert make_backend().read_backup().data == b"two"

    def test_restore_brings_back_the_backup_by_compare_and_swap(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        g1 = b.write(b"one", None)
        g2 = b.write(b"two", g1)
        bak = b.read_backup()
        with pytest.raises(ConflictError):
            b.restore(bak, g1)  # stale: the current document is not g1 any more
        assert b.read().data == b"two"
        b.restore(bak, g2)
        doc = make_backend().read()
        assert doc.data == b"one" and doc.generation != g2
        b.write(b"four", doc.generation)  # and life goes on from there
        assert b.read().data == b"four"

    # the lock --------------------------------------------------------------------------

    def test_the_lock_excludes_another_holder_until_the_wait_runs_out(self, make_backend: MakeBackend) -> None:
        first, second = make_backend(), make_backend()
        with first.lock(5):
            started = time.monotonic()
            with pytest.raises(BusyError) as exc, second.lock(0.3):
                pass
            waited = time.monotonic() - started
        assert 0.25 <= waited < 5, waited
        assert exc.value.hint and "TOKENSAFE_LOCK_WAIT" in exc.value.hint
        with second.lock(1):  # free again
            pass

    def test_a_waiting_holder_gets_the_lock_as_soon_as_it_is_released(self, make_backend: MakeBackend) -> None:
        first, second = make_backend(), make_backend()
        held = threading.Event()
        release_at: list[float] = []

        def hold() -> None:
            with first.lock(5):
                held.set()
                time.sleep(0.4)
                release_at.append(time.monotonic())

        t = threading.Thread(target=hold)
        t.start()
        assert held.wait(5)
        with second.lock(10):
            got_at = time.monotonic()
        t.join()
        assert got_at >= release_at[0]
        assert got_at - release_at[0] < 1.0, "the waiter slept through the release"

    def test_the_lock_is_reentrant_for_its_holder_and_writes_work_under_it(self, make_backend: MakeBackend) -> None:
        b = make_backend()
        with b.lock(5), b.lock(5):
            gen = b.write(b"one", None)
            b.write(b"two", gen)
        assert make_backend().read().data == b"two"

    # many writers ----------------------------------------------------------------------

    @staticmethod
    def _run(workers: int, work: Callable[[int], None]) -> None:
        errors: list[BaseException] = []

        def guarded(w: int) -> None:
            try:
                work(w)
            except BaseException as e:  # re-raised below, in the test's thread
                errors.append(e)

        threads = [threading.Thread(target=guarded, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]

    def test_concurrent_compare_and_swap_writers_lose_no_update(self, make_backend: MakeBackend) -> None:
        make_backend().write(b"", None)
        workers, each = 6, 15
        conflicts = [0]

        def work(w: int) -> None:
            b = make_backend()
            for i in range(each):
                while True:  # the read-modify-CAS loop, without the lock
                    doc = b.read()
                    try:
                        b.write(doc.data + f"{w}.{i};".encode(), doc.generation)
                        break
                    except ConflictError:
                        conflicts[0] += 1

        self._run(workers, work)
        items = make_backend().read().data.decode().split(";")[:-1]
        assert sorted(items) == sorted(f"{w}.{i}" for w in range(workers) for i in range(each))

    def test_concurrent_writers_under_the_lock_lose_no_update(self, make_backend: MakeBackend) -> None:
        make_backend().write(b"", None)
        workers, each = 6, 15

        def work(w: int) -> None:
            b = make_backend()
            for i in range(each):
                with b.lock(60):
                    doc = b.read()
                    b.write(doc.data + f"{w}.{i};".encode(), doc.generation)

        self._run(workers, work)
        items = make_backend().read().data.decode().split(";")[:-1]
        assert len(items) == workers * each and len(set(items)) == workers * each
