"""`tokensafe watch` end to end: real files, real events, the installed command."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest

from tests.conftest import create_passphrase_vault, files_containing
from tests.guard.test_audit_e2e import postman_env
from tests.guard.tokens import auth0_mgmt, opaque
from tests.guard.watchproc import WatchProc

pytestmark = pytest.mark.e2e


def plant() -> str:
    return "tsPLANTED" + opaque(40)


def leak_check(session, w: WatchProc, secrets: list[str], root: Path, allowed: set[Path]) -> None:
    session.transcript.append((w.argv, bytes(w.out), bytes(w.err)))
    for s in secrets:
        session.assert_no_leak(s)
        assert set(files_containing(root, s.encode())) <= allowed


def test_written_renamed_slow_and_burst(session, tmp_path: Path) -> None:
    watched = tmp_path / "Downloads"
    watched.mkdir()
    w = WatchProc(session.env, tmp_path, str(watched))
    secrets = [plant() for _ in range(3)]
    try:
        # 1. written in one go
        (watched / "a.env").write_text(f"API_TOKEN={secrets[0]}\n")
        # 2. written elsewhere (temp name), renamed into place: editors, browsers
        tmp = watched / "b.env.crdownload"
        tmp.write_text(f"Authorization: Bearer {secrets[1]}\n")
        os.rename(tmp, watched / "b.txt")
        # 3. written slowly, in pieces, with pauses inside the token
        with open(watched / "c.env", "w") as f:
            s = f"API_KEY={secrets[2]}\n"
            for i in range(0, len(s), 7):
                f.write(s[i:i + 7])
                f.flush()
                time.sleep(0.15)
        got = w.take(3)
        names = sorted(Path(o["path"]).name for _, o in got)
        assert names == ["a.env", "b.txt", "c.env"], (names, bytes(w.err))
        c = next(o for _, o in got if o["path"].endswith("c.env"))
        assert c["preview"].endswith(f"({len(secrets[2])})")  # the whole token, not a piece
        # 4. a burst: 300 files at once, a third of them with tokens
        sub = watched / "burst"
        sub.mkdir()
        for i in range(300):
            (sub / f"f{i}.env").write_text(f"API_TOKEN={opaque()}\n" if i % 3 == 0 else "PORT=1\n")
        burst = w.take(100, timeout=60)
        missing = sorted({f"f{i}.env" for i in range(0, 300, 3)} - {Path(o["path"]).name for _, o in burst})
        assert len(burst) == 100, (missing, [(sub / m).read_text() for m in missing], bytes(w.err))
        assert w.quiet(0.5) == []  # nothing twice
        assert w.stop() == 0
        assert b"stopped" in w.err
    finally:
        if w.p.poll() is None:
            w.p.kill()
    leak_check(session, w, secrets, tmp_path, {watched / "a.env", watched / "b.txt", watched / "c.env"})


def test_quarantine(session, tmp_path: Path) -> None:
    watched = tmp_path / "w"
    watched.mkdir()
    q = tmp_path / "q"
    w = WatchProc(session.env, tmp_path, str(watched), "--action", "quarantine", "--quarantine-dir", str(q))
    tok = plant()
    body = f"curl -H 'Authorization: Bearer {tok}' https://api.example.com\n".encode()
    try:
        (watched / "history.txt").write_bytes(body)
        (watched / "clean.txt").write_text("nothing here\n")
        got = [o for _, o in w.take(2)]
        assert [o["event"] for o in got] == ["finding", "quarantined"]
        dest = Path(got[1]["detail"])
        assert dest.parent == q and dest.read_bytes() == body
        assert stat.S_IMODE(q.stat().st_mode) == 0o700 and stat.S_IMODE(dest.stat().st_mode) == 0o600
        assert not (watched / "history.txt").exists() and (watched / "clean.txt").exists()
        assert b"quarantine: " + str(q).encode() in w.err
        assert w.stop(signal.SIGINT) == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    leak_check(session, w, [tok], tmp_path, {dest})


def test_scrub_then_restore_byte_equal(session, tmp_path: Path) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]))
    watched = tmp_path / "w"
    watched.mkdir()
    mgmt = auth0_mgmt(exp=4_000_000_000)
    tok = plant()
    w = WatchProc(session.env, tmp_path, str(watched), "--action", "scrub")
    env_file = watched / "prod.postman_environment.json"
    log_file = watched / "debug.log"
    env_bytes = postman_env({"auth0_domain": ("acme.eu.auth0.com", "default"),
                             "auth0_token": (mgmt, "secret")}).encode()
    log_bytes = f"GET /x headers={{'Authorization': 'Bearer {tok}'}}\nok\n".encode()
    try:
        tmp = watched / ".env.json.tmp"
        tmp.write_bytes(env_bytes)
        os.rename(tmp, env_file)
        log_file.write_bytes(log_bytes)
        got = [o for _, o in w.take(4, timeout=30)]
        assert sorted(o["event"] for o in got) == ["finding", "finding", "scrubbed", "scrubbed"], got
        assert w.quiet(0.5) == []  # its own rewrite is not a new finding
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    assert mgmt.encode() not in env_file.read_bytes() and b"{{vault:auth0_token}}" in env_file.read_bytes()
    assert tok.encode() not in log_file.read_bytes() and b"{{vault:bearer_" in log_file.read_bytes()
    leak_check(session, w, [mgmt, tok], tmp_path, set())
    assert session("restore", str(env_file)).returncode == 0
    assert session("restore", str(log_file)).returncode == 0
    assert env_file.read_bytes() == env_bytes and log_file.read_bytes() == log_bytes


def test_keeps_going_through_bad_files(session, tmp_path: Path) -> None:
    watched = tmp_path / "w"
    watched.mkdir()
    w = WatchProc(session.env, tmp_path, str(watched))
    tok = plant()
    try:
        os.mkfifo(watched / "pipe")  # not a file: a warning, not a crash
        gone = watched / "gone.env"
        gone.write_text(f"API_TOKEN={opaque()}\n")
        gone.unlink()  # deleted before it could be read
        (watched / "x.env").write_text(f"API_TOKEN={tok}\n")
        got = [o for _, o in w.take(1)]
        assert [Path(o["path"]).name for o in got] == ["x.env"]
        assert w.p.poll() is None
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    leak_check(session, w, [tok], tmp_path, {watched / "x.env"})


def test_scrub_same_name_other_value(session, tmp_path: Path) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]))
    watched = tmp_path / "w"
    (watched / "a").mkdir(parents=True)
    (watched / "b").mkdir()
    toks = [plant(), plant()]
    w = WatchProc(session.env, tmp_path, str(watched), "--action", "scrub")
    try:
        (watched / "a" / ".env").write_text(f"API_TOKEN={toks[0]}\n")
        assert [o["event"] for _, o in w.take(2)] == ["finding", "scrubbed"]
        (watched / "b" / ".env").write_text(f"API_TOKEN={toks[1]}\n")
        assert [o["event"] for _, o in w.take(2)] == ["finding", "scrubbed"]
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    # each file's values went into a new environment of its own, never into `dev`
    assert (watched / "a" / ".env").read_text() == "API_TOKEN={{vault:API_TOKEN}}\n"
    assert (watched / "b" / ".env").read_text() == "API_TOKEN={{vault:API_TOKEN}}\n"
    leak_check(session, w, toks, tmp_path, set())
    for env_name, t in (("from-env", toks[0]), ("from-env-2", toks[1])):
        got = session("get", "API_TOKEN", "--env", env_name)
        assert got.returncode == 0 and got.stdout.decode().strip() == t
    for d, t in (("a", toks[0]), ("b", toks[1])):
        assert session("restore", str(watched / d / ".env")).returncode == 0
        assert (watched / d / ".env").read_text() == f"API_TOKEN={t}\n"


def test_default_folders_and_desktop_notification(session, home: Path, tmp_path: Path) -> None:
    downloads = home / "Downloads"
    downloads.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "notify.log"
    fake = bindir / "notify-send"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')  # one append per call: no interleaving
    fake.chmod(0o755)
    env = {**session.env, "PATH": f"{bindir}:{session.env['PATH']}"}
    w = WatchProc(env, project, notify=True)
    toks = [plant(), plant()]
    try:
        assert b"Downloads" in bytes(w.err) and str(project).encode() in bytes(w.err)
        (downloads / "prod.env").write_text(f"API_TOKEN={toks[0]}\n")
        (project / "dev.env").write_text(f"API_TOKEN={toks[1]}\n")
        got = sorted(Path(o["path"]).name for _, o in w.take(2))
        assert got == ["dev.env", "prod.env"]
        deadline = time.monotonic() + 10
        while (not log.exists() or log.read_text().count("\n") < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = log.read_text().splitlines()
        assert len(lines) == 2 and all("high-entropy" in ln for ln in lines)
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    leak_check(session, w, toks, tmp_path, {downloads / "prod.env", project / "dev.env"})
    for t in toks:
        assert t not in log.read_text()
