"""The service modules on the `get`/`run` start-up path stay light at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("click", "httpx", "watchdog", "hyperscan", "vault.guard", "vault.inject.http")


@pytest.mark.parametrize("module", ["vault.service.entries", "vault.service.inject", "vault.service.context",
                                    "vault.service.refresh"])
def test_fast_path_modules_import_nothing_heavy(module: str) -> None:
    code = (f"import sys, {module}; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "none"
