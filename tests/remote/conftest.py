"""A real `bao server -dev` on 127.0.0.1, one per test session (per xdist worker), stopped after."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inject.conftest import other_server, server  # noqa: F401 - fixtures
from tests.remote.bao import DevServer, dev_server


@pytest.fixture(scope="session")
def bao_dev() -> Iterator[DevServer]:
    with tempfile.TemporaryDirectory(prefix="ts-bao-") as d, dev_server(Path(d)) as srv:
        yield srv


@pytest.fixture
def kv_path() -> str:
    """A fresh KV v2 key path under secret/ (the dev server is shared by the session's tests)."""
    return f"tests/{uuid.uuid4().hex}"
