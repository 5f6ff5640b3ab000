"""OpenBaoBackend against a real dev server: the storage seam's contract suite, and what only KV v2 does."""

from __future__ import annotations

import pytest

from tests.store.backend_contract import BackendContract
from vault.remote.backend import OpenBaoBackend
from vault.remote.kv import KVClient


class TestOpenBaoContract(BackendContract):
    @pytest.fixture
    def make_backend(self, bao_dev, kv_path: str):
        return lambda: OpenBaoBackend(KVClient([bao_dev.url], bao_dev.token, "secret", timeout=10), kv_path)


def test_generations_are_kv_v2_versions_and_the_backup_is_the_version_before(bao_dev, kv_path: str) -> None:
    kv = KVClient([bao_dev.url], bao_dev.token, "secret", timeout=10)
    backend = OpenBaoBackend(kv, kv_path)
    first = backend.write(b"one", None)
    second = backend.write(b"two", first)
    assert int(second) == int(first) + 1  # the generation token is the KV v2 version
    current, backup = backend.read(), backend.read_backup()
    assert current is not None and current.data == b"two" and current.generation == second
    assert backup is not None and backup.data == b"one"
