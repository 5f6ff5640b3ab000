"""Running git on a repository that is not trusted (a clone from anywhere).

A repository's own config can name programs that git runs (`core.fsmonitor`, hooks,
`gpg.program` under `log.showSignature`, a pager, textconv and external diff drivers). The
guard only reads objects, so every call disables those, ignores the system and the user's
global config (their aliases and pagers do not belong in a scan), drops inherited GIT_*
variables (`GIT_DIR` must not redirect the scan) and never prompts.
"""

from __future__ import annotations

import os
import subprocess

from vault.errors import UsageError

SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-c", "log.showSignature=false", "-c", "core.pager=cat", "-c", "color.ui=false",
               "-c", "diff.noprefix=false", "-c", "core.quotePath=false")


def reason(stderr_lines: list[str]) -> str:
    """git's `fatal:` line (its last line may be a usage text)."""
    fatal = [ln for ln in stderr_lines if ln.startswith(("fatal:", "error:"))]
    return (fatal or stderr_lines or [""])[-1]


# Where a commit in progress is: git sets these for hooks (GIT_INDEX_FILE names a temporary
# index under `git commit -a` or a partial commit), so `audit --staged` must see them.
COMMIT_IN_PROGRESS = ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR",
                      "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")


def env(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of a git call: none of the caller's GIT_* but `keep`'s, no config but the repository's."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in keep}
    e.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
             GIT_PAGER="cat", GIT_OPTIONAL_LOCKS="0", GIT_NO_REPLACE_OBJECTS="1", LC_ALL="C")
    return e


def argv(repo: str | None, *args: str) -> list[str]:
    where = ["-C", repo] if repo is not None else []
    return ["git", "--no-pager", *where, *SAFE_CONFIG, *args]


def run(repo: str | None, *args: str, input: bytes | None = None, hint: str = "",
        keep_env: tuple[str, ...] = ()) -> bytes:
    """git's stdout; UsageError (exit 2) when git is missing or fails, with git's last line."""
    try:
        return subprocess.run(argv(repo, *args), input=input, capture_output=True, check=True,
                              env=env(keep_env), stdin=None if input is not None else subprocess.DEVNULL).stdout
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git, or audit paths instead") from None
    except subprocess.CalledProcessError as e:
        msg = e.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git failed: {reason(msg) or e.returncode}", hint) from None


def popen(repo: str | None, *args: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv(repo, *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=stderr, env=env())
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git, or audit paths instead") from None
