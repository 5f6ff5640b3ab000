"""The click-free fast path of `run` must mean, and do, exactly what the full parser does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.fastpath import check_parse_plain
from tests.conftest import PASSPHRASE, create_passphrase_vault
from vault.cli.runfast import parse_plain

TABLE = [
    (["--", "true"], {"argv": ["true"]}),
    (["--", "sh", "-c", "echo $X", "--help"], {"argv": ["sh", "-c", "echo $X", "--help"]}),
    (["--", "--", "x"], {"argv": ["--", "x"]}),
    (["--env", "prod", "--", "true"], {"argv": ["true"], "env_name": "prod"}),
    (["-e", "prod", "--", "true"], {"argv": ["true"], "env_name": "prod"}),
    (["--env=prod", "--", "true"], {"argv": ["true"], "env_name": "prod"}),
    (["--only", "a,b", "--only=c", "--", "true"], {"argv": ["true"], "only": ["a,b", "c"]}),
    (["--as-is", "--no-mask", "--allow-nested", "--", "true"],
     {"argv": ["true"], "as_is": True, "no_mask": True, "allow_nested": True}),
    (["--vault", "/x/v", "--passphrase-fd", "3", "--", "true"],
     {"argv": ["true"], "vault_path": "/x/v", "passphrase_fd": 3}),
    # Everything else goes to click, which knows --help and how to say no.
    (["--help"], None),
    (["-h", "--", "true"], None),
    (["true"], None),  # no `--`: click's interspersed-args rules decide
    (["--"], None),
    ([], None),
    (["--bogus", "--", "true"], None),
    (["--env", "--", "true"], None),
    (["--env", "--as-is", "--", "true"], None),
    (["--only", "", "--", "true"], None),
    (["--as-is=1", "--", "true"], None),
    (["-eprod", "--", "true"], None),
    (["--passphrase-fd", "x", "--", "true"], None),
    (["--passphrase-fd", "-1", "--", "true"], None),
    (["--passphrase-fd", "٣", "--", "true"], None),
    (["--vault", "/", "--", "true"], None),  # click.Path(dir_okay=False) refuses a directory
]


@pytest.mark.parametrize(("args", "expected"), TABLE)
def test_parse_plain(args: list[str], expected: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:
    check_parse_plain(parse_plain, args, expected, monkeypatch)


def test_a_vault_dir_in_the_environment_goes_to_click(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENSAFE_VAULT", str(tmp_path))
    assert parse_plain(["--", "true"]) is None


# Each form runs twice in a child process: through `vault.cli.run` as installed (fast path),
# and with the fast-path table emptied (click). `run` execs and writes to fds 1 and 2
# directly, so only a real process shows what it does.
DRIVER = ("import sys, vault.cli as c\n"
          "if sys.argv[1] == 'click': c.FAST.clear()\n"
          "sys.exit(c.run(sys.argv[2:]))\n")

SHOW = "echo \"X=$X TOK=$TOK PROD=$PROD\"; echo \"err $TOK\" >&2; exit 3"
FORMS = [
    ["--", "sh", "-c", SHOW],
    ["--", "sh", "-c", "env | grep -c '^TOKENSAFE_PASSPHRASE=' ; echo $TOKENSAFE_RUN"],
    ["--only", "tok", "--", "sh", "-c", SHOW],
    ["--only", "tok,x", "--as-is", "--", "sh", "-c", "echo $tok $x $X"],
    ["--as-is", "--", "sh", "-c", "echo $tok $TOK"],
    ["--no-mask", "--", "sh", "-c", SHOW],
    ["-e", "prod", "--", "sh", "-c", SHOW],
    ["--env=nope", "--", "true"],
    ["--only", "missing", "--", "true"],
    ["--", "echo", "{{tok}}"],
    ["--", "no-such-command-xyz"],
    ["--", "--", "sh", "-c", "echo $TOK"],
    ["--", "--"],
    ["--help"],  # both go to click
    ["sh", "-c", "echo $TOK"],  # no `--`: both go to click
]


def _both(args: list[str], env: dict[str, str]) -> tuple[tuple, tuple]:
    out = []
    for mode in ("fast", "click"):
        r = subprocess.run([sys.executable, "-c", DRIVER, mode, "run", *args], capture_output=True,
                           env=env, timeout=60, stdin=subprocess.DEVNULL)
        out.append((r.returncode, r.stdout, r.stderr))
    return out[0], out[1]


@pytest.fixture
def run_env(vault_path: Path) -> dict[str, str]:
    from vault.store.model import Entry
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import edit_vault

    opened = create_passphrase_vault(vault_path, entries={"tok": "dev-value-123456", "x": "x-value-abcdef"})
    with edit_vault(opened.path, Unlocker()) as o:
        o.data.ensure_env("prod").entries["prod"] = Entry.new("prod", "prod-value-654321")
    env = os.environ.copy()
    env.pop("TOKENSAFE_RUN", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


@pytest.mark.parametrize("args", FORMS)
def test_fast_path_and_click_agree(args: list[str], run_env: dict[str, str]) -> None:
    fast, slow = _both(args, run_env)
    assert fast == slow
    if "--no-mask" not in args:
        assert b"dev-value-123456" not in fast[1] + fast[2]


def test_they_agree_on_nesting(run_env: dict[str, str]) -> None:
    nested = {**run_env, "TOKENSAFE_RUN": "1"}
    fast, slow = _both(["--", "true"], nested)
    assert fast == slow
    assert fast[0] != 0 and b"inside another" in fast[2]
    fast, slow = _both(["--allow-nested", "--", "sh", "-c", "echo $TOKENSAFE_RUN $TOK"], nested)
    assert fast == slow == (0, b"2 <redacted:tok>\n", b"")


def test_they_agree_on_passphrase_fd(run_env: dict[str, str]) -> None:
    env = {k: v for k, v in run_env.items() if k != "TOKENSAFE_PASSPHRASE"}
    results = []
    for mode in ("fast", "click"):
        r, w = os.pipe()
        os.write(w, PASSPHRASE.encode() + b"\n")
        os.close(w)
        # The child must not inherit the passphrase's descriptor.
        child = f"echo $TOK; if [ -e /proc/self/fd/{r} ]; then echo fd-open; else echo fd-closed; fi"
        try:
            p = subprocess.run([sys.executable, "-c", DRIVER, mode, "run", "--passphrase-fd", str(r), "--",
                                "sh", "-c", child], capture_output=True, env=env, timeout=60,
                               stdin=subprocess.DEVNULL, pass_fds=(r,))
        finally:
            os.close(r)
        results.append((p.returncode, p.stdout, p.stderr))
    assert results[0] == results[1] == (0, b"<redacted:tok>\nfd-closed\n", b"")


def test_masked_output_through_the_fast_path(run_env: dict[str, str]) -> None:
    fast, _ = _both(["--", "sh", "-c", SHOW], run_env)
    assert fast == (3, b"X=<redacted:x> TOK=<redacted:tok> PROD=\n", b"err <redacted:tok>\n")


def test_plain_run_does_not_import_click(run_env: dict[str, str]) -> None:
    code = ("import sys; from vault.cli import run; rc = run(['run', '--', 'sh', '-c', 'echo $TOK']); "
            "sys.stderr.write('CLICK' if 'click' in sys.modules else 'NOCLICK'); sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, env=run_env, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"<redacted:tok>\n"
    assert r.stderr.endswith(b"NOCLICK")
