"""A real `bao server -dev` on 127.0.0.1, one per test session (per xdist worker), stopped after."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bao.py beside this file
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))  # the backend contract suite

from bao import DevServer, dev_server  # noqa: E402


@pytest.fixture(scope="session")
def bao_dev() -> Iterator[DevServer]:
    with tempfile.TemporaryDirectory(prefix="ts-bao-") as d, dev_server(Path(d)) as server:
        yield server


@pytest.fixture
def kv_path() -> str:
    """A fresh KV v2 key path under secret/ (the dev server is shared by the session's tests)."""
    return f"tests/{uuid.uuid4().hex}"
