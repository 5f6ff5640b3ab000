"""`tokensafe audit --git [RANGE]` end to end, on throwaway repositories built here."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import files_containing
from tests.guard.tokens import opaque
from vault.guard.history import check_range


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        return subprocess.run(["git", "-C", str(self.root), "-c", "user.email=t@e", "-c", "user.name=t",
                               *args], check=True, capture_output=True, text=True, env=env).stdout.strip()

    def write(self, name: str, text: str | bytes) -> None:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode() if isinstance(text, str) else text)

    def commit(self, msg: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg)
        return self.git("rev-parse", "HEAD")


def tok(tag: str) -> str:
    return f"ts{tag}PLANT" + opaque(36)


@pytest.fixture
def history(tmp_path: Path):
    """c1: removed.env (gone later) + kept.env; c2: removed.env deleted, kept.env renamed;
    c3: a Kubernetes Secret with a base64 password."""
    r = Repo(tmp_path / "repo")
    t = {"gone": tok("G"), "kept": tok("K"), "new": "Zq8#mP2vL9xKw" + opaque(6)}
    r.write("removed.env", f"API_TOKEN={t['gone']}\n")
    r.write("kept.env", f"# app\nSECRET_TOKEN={t['kept']}\n")
    c1 = r.commit("one")
    r.git("rm", "-q", "removed.env")
    (r.root / "config").mkdir()
    r.git("mv", "kept.env", "config/renamed.env")
    r.write("config/renamed.env", f"# app\nSECRET_TOKEN={t['kept']}\nLOG=1\n")
    c2 = r.commit("two")
    pw = base64.b64encode(t["new"].encode()).decode()
    r.write("k8s/secret.yaml", f"apiVersion: v1\nkind: Secret\ndata:\n  password: {pw}\n")
    c3 = r.commit("three")
    return r, t, (c1, c2, c3)


def _json(r: subprocess.CompletedProcess) -> dict:
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_history_finds_removed_kept_and_renamed(session, history) -> None:
    repo, t, (c1, c2, c3) = history
    session.cwd = repo.root
    r = session("audit", "--git", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    got = {(f["path"], f["line"], f["facts"]["commit"], f["facts"]["in_worktree"]) for f in doc["findings"]}
    assert got == {
        ("removed.env", 1, c1, False),  # committed, then deleted: found in history
        ("kept.env", 2, c1, True),  # first introduced as kept.env; renamed since, still there
        ("k8s/secret.yaml", 4, c3, True),
    }
    k8s = next(f for f in doc["findings"] if f["path"] == "k8s/secret.yaml")
    assert k8s["facts"]["encoding"] == "base64" and k8s["facts"]["key"] == "data.password"
    # each unique blob once: removed.env, kept.env, renamed.env (changed), secret.yaml
    assert doc["stats"]["files"] == 4
    text = session("audit", "--git")
    assert text.returncode == 1
    assert f"commit={c1[:12]}".encode() in text.stdout and b"removed from work tree" in text.stdout
    for v in t.values():
        session.assert_no_leak(v)


def test_history_range(session, history) -> None:
    repo, t, (c1, c2, c3) = history
    session.cwd = repo.root
    doc = _json(session("audit", "--git", "HEAD~1..HEAD", "--json"))
    assert [(f["path"], f["facts"]["commit"]) for f in doc["findings"]] == [("k8s/secret.yaml", c3)]
    # the range c1..c2 holds the renamed file's new blob only: the kept token, first seen there
    doc = _json(session("audit", "--git", f"{c1}..{c2}", "--json"))
    assert [(f["path"], f["facts"]["commit"]) for f in doc["findings"]] == [("config/renamed.env", c2)]
    # a repository named as PATH, from elsewhere
    session.cwd = repo.root.parent
    doc = _json(session("audit", "--git", c1, str(repo.root), "--json"))
    assert {f["path"] for f in doc["findings"]} == {"removed.env", "kept.env"}


def test_history_baseline(session, history, tmp_path: Path) -> None:
    repo, t, _ = history
    session.cwd = repo.root
    base = tmp_path / "baseline.json"
    r = session("audit", "--git", "--baseline", str(base), "--update-baseline")
    assert r.returncode == 0, r.stderr
    r = session("audit", "--git", "--baseline", str(base))
    assert r.returncode == 0, (r.stdout + r.stderr).decode()
    assert b"3 known findings silenced" in r.stdout
    # a baseline made from the work tree silences the same tokens in history (fingerprints)
    wt = tmp_path / "wt-baseline.json"
    assert session("audit", ".", "--baseline", str(wt), "--update-baseline").returncode == 0
    doc = _json(session("audit", "--git", "--baseline", str(wt), "--json"))
    assert [f["path"] for f in doc["findings"]] == ["removed.env"]
    assert all(v.encode() not in base.read_bytes() + wt.read_bytes() for v in t.values())


def test_history_size_cap_binary_and_dedupe(session, tmp_path: Path) -> None:
    r = Repo(tmp_path / "repo")
    big = tok("B")
    r.write("big.env", f"API_TOKEN={big}\n" + "#" * 5000 + "\n")
    r.write("bin.dat", b"\x00\x01" * 100 + f"API_TOKEN={tok('X')}".encode())
    same = tok("S")
    r.write("a/copy1.env", f"API_TOKEN={same}\n")
    r.write("b/copy2.env", f"API_TOKEN={same}\n")  # the same blob at two paths: scanned once
    r.commit("one")
    session.cwd = r.root
    doc = _json(session("audit", "--git", "--max-size", "1K", "--json"))
    assert doc["stats"]["files"] == 2 and doc["stats"]["too_large"] == 1
    assert doc["stats"]["binary_files"] == 1
    assert [e["path"] for e in doc["errors"]] == [f"big.env (commit {r.git('rev-parse', 'HEAD')[:12]})"]
    assert [f["path"] for f in doc["findings"]] == ["a/copy1.env"]
    session.assert_no_leak(big)
    session.assert_no_leak(same)


def test_history_usage_errors(session, tmp_path: Path, history) -> None:
    repo, _, _ = history
    plain = tmp_path / "plain"
    plain.mkdir()
    session.cwd = plain
    r = session("audit", "--git")
    assert r.returncode == 2 and b"not a git repository" in r.stderr
    session.cwd = repo.root
    r = session("audit", "--git", "no-such-branch")
    assert r.returncode == 2 and b"no-such-branch" in r.stderr
    out = tmp_path / "written-by-git"
    for bad in (f"--output={out}", "-p"):  # click or check_range refuses it: never given to git
        r = session("audit", f"--git={bad}")
        assert r.returncode == 2 and (b"not a revision range" in r.stderr or b"no such option" in r.stderr)
    assert not out.exists()
    r = session("audit", "--git", "--staged")
    assert r.returncode == 2
    r = session("audit", "--git", "HEAD", str(repo.root), str(plain))
    assert r.returncode == 2 and b"one repository" in r.stderr


def test_history_runs_no_program_the_repository_names(session, history, tmp_path: Path) -> None:
    """fsmonitor, hooks, pager, gpg (log.showSignature), textconv: none run on a scan."""
    repo, t, _ = history
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\necho ran >> {marker}\ncat\n")
    script.chmod(0o755)
    (repo.root / ".gitattributes").write_text("* diff=x\n")
    repo.commit("attributes")  # before the config: this test's own git would run it
    # A signed commit on top (a made-up signature): `git log` with the repository's
    # log.showSignature would hand it to its gpg.program.
    head = repo.git("rev-parse", "HEAD")
    raw = (f"tree {repo.git('rev-parse', 'HEAD^{tree}')}\nparent {head}\n"
           "author t <t@e> 1700000000 +0000\ncommitter t <t@e> 1700000000 +0000\n"
           "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n"
           "\nsigned\n")
    (tmp_path / "commit.txt").write_text(raw)
    signed = repo.git("hash-object", "-t", "commit", "-w", str(tmp_path / "commit.txt"))
    repo.git("update-ref", "refs/heads/main", signed)
    for k, v in (("core.fsmonitor", str(script)), ("core.pager", str(script)),
                 ("log.showSignature", "true"), ("gpg.program", str(script)),
                 ("core.hooksPath", str(tmp_path)), ("diff.x.textconv", str(script)),
                 ("pager.log", str(script)), ("alias.log", f"!{script}")):
        repo.git("config", k, v)
    session.cwd = repo.root
    session.env["GIT_DIR"] = str(tmp_path)  # an inherited GIT_DIR must not redirect the scan
    doc = _json(session("audit", "--git", "--json"))
    assert len(doc["findings"]) == 3
    assert not marker.exists()


def test_history_of_a_bare_repository(session, history, tmp_path: Path) -> None:
    """No work tree: in_worktree is null (unknown), the history is scanned all the same."""
    repo, t, (c1, _, _) = history
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.root), str(bare)], check=True)
    session.cwd = tmp_path
    doc = _json(session("audit", "--git", "--json", str(bare)))
    assert {(f["path"], f["facts"]["in_worktree"]) for f in doc["findings"]} == {
        ("removed.env", None), ("kept.env", None), ("k8s/secret.yaml", None)}
    session.assert_no_leak(t["gone"])


@pytest.mark.parametrize("rng", ["main", "v1.0..HEAD", "HEAD~3...main", "a/b@{1}"])
def test_check_range_accepts_ranges(rng: str) -> None:
    check_range(rng)


@pytest.mark.parametrize("rng", ["", "-p", "--output=x", "a\nb", "x\0"])
def test_check_range_refuses_options(rng: str) -> None:
    from vault.errors import UsageError

    with pytest.raises(UsageError):
        check_range(rng)


def test_no_token_bytes_left_in_home(session, history, home: Path) -> None:
    """The scan writes nothing holding a token (no cache of blobs, no temp files)."""
    repo, t, _ = history
    session.cwd = repo.root
    assert session("audit", "--git", "--json").returncode == 1
    for v in t.values():
        assert files_containing(home, v.encode()) == []


def test_pool_and_in_process_agree(history, monkeypatch) -> None:
    """A large history is scanned on a pool of workers: same findings, same oldest commits."""
    from tests.guard.tokens import NOW
    from vault.guard import history as hist
    from vault.guard.readers import ScanConfig

    repo, _, (c1, _, c3) = history
    for i in range(30):  # enough blobs for several batches
        repo.write(f"more/{i}.env", f"API_TOKEN={tok(str(i))}\n" + "#" * 3000 + "\n")
    repo.commit("more")
    cfg = ScanConfig(b"k" * 32, now=NOW)

    def run(workers: int) -> list[tuple]:
        res = hist.scan_history(cfg, str(repo.root), workers=workers)
        return [(f.path, f.line, f.fingerprint, f.facts["commit"], f.facts["in_worktree"])
                for f in res.findings]

    alone = run(1)
    monkeypatch.setattr(hist, "IN_PROCESS_BYTES", 0)
    monkeypatch.setattr(hist, "BATCH_BYTES", 8000)
    assert run(2) == alone
    assert len(alone) == 33 and {c for *_, c, _ in alone} >= {c1, c3}
