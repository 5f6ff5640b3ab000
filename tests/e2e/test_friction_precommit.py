"""The README's pre-commit recipes, run as written in a git repository the test creates.

Both the plain `.git/hooks/pre-commit` and the pre-commit framework's `repo: local` hook:
a clean commit goes through and tokensafe prints nothing; a staged token stops the commit
with a message that says how to fix or allow it; `tokensafe:allow` lets it through. No
network: the hooks run the installed `tokensafe`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PLANTED

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_blocks(lang: str) -> list[str]:
    """The ```lang blocks of the README's "Pre-commit" section."""
    text = README.read_text()
    section = text[text.index("### Pre-commit\n"):]
    section = section[:section.index("\n### ", 5)]
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


@pytest.fixture
def repo(session, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    env = {**session.env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    git(root, env, "init", "-q", "-b", "main")
    return root, env


def git(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, timeout=120)


def commit_cycle(root: Path, env: dict[str, str]) -> None:
    """Clean commit silent; token stopped with a fix/allow hint; tokensafe:allow passes."""
    (root / "README.txt").write_text("hello\n")
    git(root, env, "add", "README.txt")
    r = git(root, env, "commit", "-q", "-m", "clean")
    assert r.returncode == 0, r.stderr
    # pre-commit's own status line ("tokensafe audit ….Passed") is the framework's, not ours.
    said = re.sub(rb"(?m)^[^\n]*\.{3,}(Passed|Failed)\n", b"", r.stdout + r.stderr)
    assert said == b"", said

    (root / ".env").write_text(f"AUTH0_TOKEN={PLANTED}\n")
    git(root, env, "add", ".env")
    r = git(root, env, "commit", "-q", "-m", "leak")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert b"commit stopped" in out and b"tokensafe:allow" in out and b"--update-baseline" in out
    assert PLANTED.encode() not in out
    assert git(root, env, "log", "--oneline").stdout.count(b"\n") == 1  # nothing committed

    (root / ".env").write_text(f"AUTH0_TOKEN={PLANTED}  # tokensafe:allow\n")
    git(root, env, "add", ".env")
    r = git(root, env, "commit", "-q", "-m", "allowed")
    assert r.returncode == 0, r.stdout + r.stderr
    assert PLANTED.encode() not in r.stdout + r.stderr


def test_plain_git_hook_from_the_readme(repo) -> None:
    root, env = repo
    (block,) = readme_blocks("sh")
    r = subprocess.run(["sh", "-c", block], cwd=root, env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    hook = root / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK)
    commit_cycle(root, env)


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is in the [test] extra")
def test_pre_commit_framework_repo_local_from_the_readme(repo) -> None:
    root, env = repo
    (block,) = readme_blocks("yaml")
    (root / ".pre-commit-config.yaml").write_text(block)
    git(root, env, "add", ".pre-commit-config.yaml")
    r = subprocess.run(["pre-commit", "install"], cwd=root, env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    commit_cycle(root, env)
