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
