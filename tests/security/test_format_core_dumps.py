"""#9 finding 12: a tokensafe process that opened a vault writes no core dump and cannot be
attached to (not dumpable); `get` stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PASSPHRASE

PROBE = """
import ctypes, resource, sys
from vault.service.context import Context
Context(sys.argv[1]).read()
print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), resource.getrlimit(resource.RLIMIT_CORE))
"""


def test_opening_a_vault_drops_core_dumps_and_dumpability(vault: Path) -> None:
    import os

    env = {**os.environ, "TOKENSAFE_PASSPHRASE": PASSPHRASE}
    r = subprocess.run([sys.executable, "-c", PROBE, str(vault)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split(None, 1) == ["0", "(0, 0)\n"]  # PR_GET_DUMPABLE = 0, no core size


def test_tokensafe_run_process_has_no_core_size(session, vault: Path) -> None:
    env = {"TOKENSAFE_VAULT": str(vault), "TOKENSAFE_PASSPHRASE": PASSPHRASE}
    assert session("set", "tok", input="value-0123456789abcdef", env=env).returncode == 0
    probe = "import os;print([l for l in open(f'/proc/{os.getppid()}/limits') if 'core' in l][0])"
    r = session("run", "--", sys.executable, "-c", probe, env=env)
    assert r.returncode == 0, r.stderr
    fields = r.stdout.decode().split()
    assert fields[-3:-1] == ["0", "0"], r.stdout  # Max core file size: soft 0, hard 0
