"""The click-free fast path of `audit --json|--sarif` must mean, and write, exactly what the
full parser does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.fastpath import check_parse_plain
from tests.guard.tokens import auth0_mgmt, opaque
from vault.cli.auditfast import parse_plain

TABLE = [
    (["--json"], {"as_json": True, "paths": ()}),
    (["--sarif", "a", "b"], {"as_sarif": True, "paths": ("a", "b")}),
    (["a", "--json", "b"], {"as_json": True, "paths": ("a", "b")}),  # interspersed, as click
    (["--json", "--fail-on", "high", "--strict", "x"],
     {"as_json": True, "fail_on": "high", "strict": True, "paths": ("x",)}),
    (["--json", "--exclude", "*.log", "--exclude=vendor/", "."],
     {"as_json": True, "exclude": ["*.log", "vendor/"], "paths": (".",)}),
    (["--json", "--workers", "3", "--vault", "/x/v"],
     {"as_json": True, "workers": 3, "vault_path": "/x/v", "paths": ()}),
    ([], {"paths": ()}),  # text output
    (["."], {"paths": (".",)}),
    (["--staged"], {"staged": True, "paths": ()}),
    (["--baseline", "b", "--update-baseline", "."],
     {"baseline": "b", "update_baseline": True, "paths": (".",)}),
    # Everything else goes to click, which knows --help and how to say no.
    (["--json", "--sarif"], None),
    (["--json", "--help"], None),
    (["--baseline", "/"], None),  # click.Path(dir_okay=False) refuses a directory
    (["--baseline"], None),
    (["--json", "--git"], None),
    (["--json", "--deep"], None),
    (["--json", "--max-size", "1M"], None),
    (["--json", "--fail-on", "HIGH"], None),
    (["--json", "--fail-on"], None),
    (["--json", "--workers", "0"], None),
    (["--json", "--workers", "257"], None),
    (["--json", "--workers", "+3"], None),
    (["--json", "--workers", "٣"], None),
    (["--json=1"], None),
    (["--json", "--", "x"], None),
    (["--json", "-"], None),
    (["--json", ""], None),
    (["--json", "--vault", "/"], None),  # click.Path(dir_okay=False) refuses a directory
]


@pytest.mark.parametrize(("args", "expected"), TABLE)
def test_parse_plain(args: list[str], expected: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:
    check_parse_plain(parse_plain, args, expected, monkeypatch)


# Each form runs twice in a child process: through `vault.cli.run` (fast path) and with the
# fast-path table emptied (click); exit code, stdout and stderr must be the same bytes.
DRIVER = ("import sys, vault.cli as c\n"
          "if sys.argv[1] == 'click': c.FAST.clear()\n"
          "rc = c.run(sys.argv[2:])\n"
          "sys.stderr.write('CLICK' if 'click' in sys.modules else 'NOCLICK')\n"
          "sys.exit(rc)\n")


@pytest.fixture
def tree(tmp_path: Path, home: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "a.env").write_text(f"API_TOKEN={opaque()}\nPASSWORD=hunter2-{opaque(12)}\n")
    (root / "sub" / "mgmt.json").write_text(f'{{"access_token": "{auth0_mgmt()}"}}\n')
    (root / "sub" / "clean.py").write_text("x = 1\n")
    (root / "sub" / "naïve \x1b[31mred.env").write_text(f"SECRET_KEY={opaque()}\n")
    (root / "dangling-ü.env").symlink_to(root / "gone")  # a warning, not ASCII: click.echo writes it
    (root / "dangling.env").symlink_to(root / "gone")
    return root


FORMS = [
    [],
    ["--strict"],
    ["--fail-on", "critical", "--exclude", "*.json"],
    ["--baseline", "BASE", "--update-baseline"],
    ["--baseline", "BASE"],
    ["--update-baseline"],
    ["--staged", "."],
    ["--json"],
    ["--sarif"],
    ["--json", "--fail-on", "critical"],
    ["--json", "--exclude", "sub"],
    ["--json", "--strict"],
    ["--json", "--workers", "2"],
    ["--sarif", "--exclude", "*.env", "--fail-on", "high"],
    ["--json", "missing-path"],
    ["--json", "--fail-on", "HIGH"],  # both go to click, which says no
]


def _both(args: list[str], cwd: Path) -> list[tuple[int, bytes, bytes]]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("TOKENSAFE_VAULT", None)
    out = []
    for mode in ("fast", "click"):
        r = subprocess.run([sys.executable, "-c", DRIVER, mode, "audit", *args], capture_output=True,
                           env=env, timeout=120, cwd=cwd, stdin=subprocess.DEVNULL)
        # the run time (JSON stats, text summary) is the one difference two runs may have
        stdout = re.sub(rb'"seconds": [0-9.e-]+', b'"seconds": _', r.stdout)
        out.append((r.returncode, re.sub(rb" in [0-9]+\.[0-9]{2} s\b", b" in _ s", stdout), r.stderr))
    return out


@pytest.mark.parametrize("form", FORMS)
def test_fast_path_and_click_agree(form: list[str], tree: Path) -> None:
    base = tree.parent / "baseline"
    form = [str(base) if a == "BASE" else a for a in form]
    if "--update-baseline" not in form and "--baseline" in form:
        _both(["--baseline", str(base), "--update-baseline", str(tree)], tree)
    fast, slow = _both(form if form[-1:] in (["missing-path"], ["."]) else [*form, str(tree)], tree)
    assert slow[2].endswith(b"CLICK") and not slow[2].endswith(b"NOCLICK")
    assert (fast[0], fast[1], fast[2].removesuffix(b"NOCLICK").removesuffix(b"CLICK")) == \
        (slow[0], slow[1], slow[2].removesuffix(b"CLICK"))
    if not {"missing-path", "HIGH", "*.env", "--staged", "--update-baseline"} & set(form):
        assert b"tokensafe: warning: skipped " in fast[2] and "dangling-ü.env: ".encode() in fast[2]


def test_plain_json_does_not_import_click(tmp_path: Path, home: Path) -> None:
    (tmp_path / "a.env").write_text(f"API_TOKEN={opaque()}\n")
    fast, _ = _both(["--json", "."], tmp_path)
    assert fast[0] == 1 and b'"detector"' in fast[1] and fast[2] == b"NOCLICK"


def test_an_interrupt_reads_the_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import vault.cli
    from vault.cli import auditfast

    def interrupted(*_a: object, **_kw: object) -> int:
        raise KeyboardInterrupt
    monkeypatch.setattr(auditfast, "audit_command", interrupted)
    got = []
    for table in (dict(vault.cli.FAST), {}):
        monkeypatch.setattr(vault.cli, "FAST", table)
        rc = vault.cli.run(["audit", "--json", str(tmp_path)])
        got.append((rc, *capsys.readouterr()))
    assert got[0] == got[1] == (130, "", "\ntokensafe: error: aborted\n")


def test_staged_reads_the_same_on_both_paths(tmp_path: Path, home: Path) -> None:
    """The pre-commit hook's form: a commit stopped, with the hints, on either path."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (repo / "app.env").write_text(f"API_TOKEN={opaque()}\n")
    (repo / "ok.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    fast, slow = _both(["--staged"], repo)
    assert fast[0] == slow[0] == 1 and fast[1] == slow[1] and b"app.env" in fast[1]
    assert fast[2] == slow[2].removesuffix(b"CLICK") + b"NOCLICK"
    assert b"commit stopped" in fast[2]
    subprocess.run([*git, "rm", "-q", "--cached", "app.env"], cwd=repo, check=True)
    fast, slow = _both(["--staged"], repo)
    assert fast == (0, b"", b"NOCLICK") and slow == (0, b"", b"CLICK")  # a clean commit: silence
