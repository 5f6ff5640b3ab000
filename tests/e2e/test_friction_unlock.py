"""One unlock per command, at most one prompt, and no record left by a failed step (#14, 2-3).

Through the installed command, without a keyring: prompts on a pseudo-terminal are counted,
`--passphrase-fd` is read once even when a command opens the vault several times, and a
long-running `watch --action scrub` keeps the key it unlocked at start.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, create_passphrase_vault, files_containing
from tests.e2e.ptyproc import PtyProc, pty_run

pytestmark = pytest.mark.e2e

TOKEN_A = "tsPLANTED-unlock-a-7c1e9d4b2a6f8e0d3c5b7a9f1e2d4c6b"
TOKEN_B = "tsPLANTED-unlock-b-0f2e4d6c8b1a3f5e7d9c0b2a4f6e8d1c"


def postman(path: Path, token: str) -> Path:
    path.write_text(json.dumps({
        "name": path.stem, "_postman_variable_scope": "environment",
        "values": [{"key": "auth0_domain", "value": "tenant.eu.auth0.com", "enabled": True},
                   {"key": "auth0_token", "value": token, "type": "secret", "enabled": True}]}))
    return path


@pytest.fixture
def vault(session):
    """A cheap passphrase vault; the session then has no passphrase in its environment."""
    path = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(path, "dev")
    del session.env["TOKENSAFE_PASSPHRASE"]
    return path


def with_fd(session, text: str, *args: str) -> tuple[int, bytes, bytes]:
    """Run with `--passphrase-fd N`, N a pipe holding `text` (read once, then empty)."""
    import shutil
    import subprocess

    r, w = os.pipe()
    os.write(w, text.encode() + b"\n")
    os.close(w)
    try:
        argv = [shutil.which("tokensafe"), *args, "--passphrase-fd", str(r)]
        p = subprocess.run(argv, env=session.env, cwd=session.cwd, capture_output=True,
                           stdin=subprocess.DEVNULL, pass_fds=(r,), timeout=60)
    finally:
        os.close(r)
    session.transcript.append((argv, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def test_import_scrub_asks_once_on_a_terminal(session, vault, tmp_path: Path) -> None:
    f = postman(tmp_path / "s3.postman_environment.json", TOKEN_A)
    original = f.read_bytes()
    code, out, prompts = pty_run(session, "import", str(f), "--scrub", answer=PASSPHRASE)
    assert (code, prompts) == (0, 1), out
    assert "scrubbed" in out and TOKEN_A.encode() not in f.read_bytes()
    code, out, prompts = pty_run(session, "restore", str(f), answer=PASSPHRASE)
    assert (code, prompts) == (0, 1), out
    assert f.read_bytes() == original
    session.assert_no_leak(TOKEN_A)


def test_import_scrub_with_passphrase_fd_and_no_stale_record(session, vault, tmp_path: Path) -> None:
    f = postman(tmp_path / "s3.postman_environment.json", TOKEN_A)
    original = f.read_bytes()
    # A wrong passphrase fails before anything is written, and leaves no scrub record.
    code, _, err = with_fd(session, "wrong passphrase", "import", str(f), "--scrub")
    assert code == 3 and b"wrong passphrase" in err
    assert f.read_bytes() == original
    # The right one, from a descriptor that can be read only once: import, check, scrub.
    code, out, err = with_fd(session, PASSPHRASE, "import", str(f), "--scrub")
    assert code == 0, err
    assert b"scrubbed before" not in err + out and b"scrubbed" in out
    assert TOKEN_A.encode() not in f.read_bytes()
    code, _, err = with_fd(session, PASSPHRASE, "restore", str(f))  # no --force needed
    assert code == 0, err
    assert f.read_bytes() == original
    session.assert_no_leak(TOKEN_A)


def dropped(watched: Path, name: str, token: str) -> Path:
    tmp = watched / f".{name}.part"
    postman(tmp, token)
    os.rename(tmp, watched / name)  # whole, as a browser's download lands
    return watched / name


def test_watch_scrub_with_passphrase_fd_scrubs_every_file(session, vault, tmp_path: Path) -> None:
    import shutil
    import subprocess

    watched = tmp_path / "Downloads"
    watched.mkdir()
    r, w = os.pipe()
    os.write(w, PASSPHRASE.encode() + b"\n")
    os.close(w)
    # PATH without notify-send: watch must say that notifications are off.
    env = {**session.env, "PATH": os.path.dirname(shutil.which("tokensafe"))}
    argv = [shutil.which("tokensafe"), "watch", str(watched), "--action", "scrub", "--passphrase-fd", str(r)]
    p = subprocess.Popen(argv, env=env, cwd=session.cwd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(r,))
    os.close(r)
    got = {"out": b"", "err": b""}

    def collect(stream, key: str) -> None:
        for line in stream:
            got[key] += line

    import threading

    readers = [threading.Thread(target=collect, args=(p.stdout, "out"), daemon=True),
               threading.Thread(target=collect, args=(p.stderr, "err"), daemon=True)]
    for t in readers:
        t.start()
    files: list[Path] = []
    try:
        wait_for(lambda: b"watching" in got["err"], got)
        for i, token in enumerate((TOKEN_A, TOKEN_B)):
            files.append(dropped(watched, f"env{i}.json", token))
            wait_for(lambda: files_scrubbed(files), got)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        for t in readers:
            t.join(10)
    out, err = got["out"], got["err"]
    session.transcript.append((argv, out, err))
    assert p.returncode == 0, err
    assert files_scrubbed(files), (out, err)
    assert out.count(b"scrubbed") == 2, out
    assert b"Error" not in err and b"wrong passphrase" not in err, err  # no class names, no re-read
    assert b"no desktop notifications" in err and b"notify-send" in err
    for t in (TOKEN_A, TOKEN_B):
        session.assert_no_leak(t)
        assert files_containing(tmp_path / "Downloads", t.encode()) == []


def wait_for(cond, got: dict, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, got
        time.sleep(0.05)


def files_scrubbed(files: list[Path]) -> bool:
    return all(p.exists() and b"{{vault:" in p.read_bytes() for p in files)


def test_watch_scrub_on_a_terminal_asks_once_for_its_whole_life(session, vault, tmp_path: Path) -> None:
    watched = tmp_path / "Downloads"
    watched.mkdir()
    proc = PtyProc(["watch", str(watched), "--action", "scrub", "--no-notify"], session.env,
                   session.cwd, PASSPHRASE)
    try:
        proc.expect(rb"watching")
        for i, token in enumerate((TOKEN_A, TOKEN_B)):
            dropped(watched, f"env{i}.json", token)
            proc.expect(rb"scrubbed \(", count=i + 1)
    finally:
        proc.signal(signal.SIGTERM)
        code = proc.wait()
    session.transcript.append((proc.argv, b"", bytes(proc.out)))
    assert code == 0, proc.text
    assert proc.prompts == 1, proc.text
    for t in (TOKEN_A, TOKEN_B):
        session.assert_no_leak(t)
