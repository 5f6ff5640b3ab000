"""Finding 7: `watch` never follows a symlink out of the watched folders.

Before: `--action scrub` rewrote a link's target outside the watched tree, and quarantine
moved the link but chmod-ed its target. Now links are never followed (O_NOFOLLOW), modes
change through the opened descriptor, and a link leading out is reported, not acted on.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.conftest import create_passphrase_vault
from tests.guard.tokens import opaque
from tests.guard.watchproc import WatchProc


def _wait_err(w: WatchProc, needle: bytes, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in w.err:
            return True
        time.sleep(0.05)
    return False


def _outside_target(tmp_path: Path, tok: str) -> tuple[Path, bytes]:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "prod.env"
    body = f"API_TOKEN={tok}\n".encode()
    target.write_bytes(body)
    os.chmod(target, 0o644)
    return target, body


@pytest.mark.e2e
@pytest.mark.parametrize("action", ["scrub", "quarantine"])
def test_watch_leaves_a_link_target_outside_alone(session, tmp_path: Path, action: str) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]))
    tok = "tsPLANTED" + opaque(40)
    target, body = _outside_target(tmp_path, tok)
    watched = tmp_path / "w"
    watched.mkdir()
    extra = ["--quarantine-dir", str(tmp_path / "q")] if action == "quarantine" else []
    w = WatchProc(session.env, tmp_path, str(watched), "--action", action, *extra)
    try:
        (watched / "link.env").symlink_to(target)
        os.utime(watched / "link.env", follow_symlinks=False)
        # a real file after the link: once it is handled, the link was too
        (watched / "real.env").write_text(f"API_TOKEN={opaque(40)}\n")
        got = [o for _, o in w.take(2, timeout=30)]
        assert any(o["path"].endswith("real.env") for o in got), (got, bytes(w.err))
        assert _wait_err(w, b"leading out of the watched folders"), bytes(w.err)
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    assert target.read_bytes() == body  # not scrubbed through the link
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not chmod-ed through the link
    assert not any(o["path"].endswith("link.env") for o in got)
    session.transcript.append((w.argv, bytes(w.out), bytes(w.err)))
    session.assert_no_leak(tok)


def test_quarantine_refuses_a_link_and_changes_no_target_mode(tmp_path: Path) -> None:
    from vault.guard import watcher

    target, body = _outside_target(tmp_path, "tsPLANTED" + opaque(40))
    link = tmp_path / "w" / "x.env"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(OSError):
        watcher.quarantine(link, tmp_path / "q")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and link.is_symlink()
    # a regular file: made private through its descriptor, then moved
    f = tmp_path / "w" / "y.env"
    f.write_bytes(body)
    os.chmod(f, 0o644)
    dest = watcher.quarantine(f, tmp_path / "q")
    assert dest.read_bytes() == body and stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_scrub_without_following_refuses_a_link(tmp_path: Path) -> None:
    from vault.errors import PolicyError
    from vault.guard import scrub

    target, _ = _outside_target(tmp_path, "tsPLANTED" + opaque(40))
    link = tmp_path / "a.env"
    link.symlink_to(target)
    with pytest.raises(PolicyError):
        scrub.read_file(link, follow=False)
    assert scrub.read_file(target, follow=False).startswith(b"API_TOKEN=")


def test_scan_without_following_does_not_open_a_link(tmp_path: Path) -> None:
    from vault.guard.readers import FileScanner, ScanConfig

    target, _ = _outside_target(tmp_path, "tsPLANTED" + opaque(40))
    link = tmp_path / "a.env"
    link.symlink_to(target)
    scanner = FileScanner(ScanConfig(b"k" * 32))
    res = scanner.scan_path(str(link), follow=False)
    assert res.findings == [] and res.error is not None and "symlink" in res.error.reason
    assert len(scanner.scan_path(str(link)).findings) == 1  # audit still follows (user's choice)
