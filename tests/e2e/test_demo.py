"""`tokensafe demo` is the README's first command: it must run on a fresh machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def test_demo_runs_without_keyring_or_network_and_cleans_up(home: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENSAFE_")}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["HOME"] = str(home)
    tmpdir = tmp_path / "tmp"  # private, so a demo running elsewhere cannot confuse the check
    tmpdir.mkdir()
    env["TMPDIR"] = str(tmpdir)
    r = subprocess.run([shutil.which("tokensafe") or "tokensafe", "demo"], env=env,
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "$ tokensafe init" in r.stdout
    assert "plaintext found: none" in r.stdout
    assert "integrity" in r.stdout  # the tampered copy was caught
    # The demo token is a JWT; its payload segment must never be printed.
    assert "eyJpc3Mi" not in r.stdout + r.stderr
    assert list(tmpdir.iterdir()) == [], "demo left files behind"
    # It never touched the user's default vault location.
    assert not (home / ".local/share/tokensafe").exists()
