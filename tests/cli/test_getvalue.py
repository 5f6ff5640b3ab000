"""The click-free fast path of `get` must mean exactly what the full parser means."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.fastpath import check_parse_plain
from tests.conftest import create_passphrase_vault
from vault.cli.getvalue import parse_plain

TABLE = [
    (["tok"], {"name": "tok"}),
    (["tok", "-n"], {"name": "tok", "no_newline": True}),
    (["--env", "prod", "tok"], {"name": "tok", "env_name": "prod"}),
    (["-e", "prod", "tok"], {"name": "tok", "env_name": "prod"}),
    (["--env=prod", "tok"], {"name": "tok", "env_name": "prod"}),
    (["tok", "--vault", "/x/v"], {"name": "tok", "vault_path": "/x/v"}),
    (["tok", "--passphrase-fd", "3"], {"name": "tok", "passphrase_fd": 3}),
    # Everything else goes to click, which knows --help, --reveal and how to say no.
    (["tok", "--reveal"], None),
    (["--help"], None),
    (["tok", "other"], None),
    ([], None),
    (["tok", "--env"], None),
    (["tok", "--env", "--reveal"], None),
    (["tok", "--passphrase-fd", "x"], None),
    (["tok", "-n=1"], None),
    (["--", "tok"], None),
    (["tok", "--bogus"], None),
]


@pytest.mark.parametrize(("args", "expected"), TABLE)
def test_parse_plain(args: list[str], expected: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:
    check_parse_plain(parse_plain, args, expected, monkeypatch)


FORMS = [["tok"], ["tok", "-n"], ["-e", "prod", "tok"], ["missing"], ["--env", "nope", "tok"],
         ["tok", "--vault", "/"]]  # a folder: click's own refusal, on both paths


@pytest.mark.parametrize("args", FORMS)
def test_fast_path_and_click_agree(args: list[str], vault_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.cli
    from vault.store.model import Entry
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import edit_vault

    opened = create_passphrase_vault(vault_path, entries={"tok": "dev-value-123456"})
    with edit_vault(opened.path, Unlocker()) as o:
        o.data.ensure_env("prod").entries["tok"] = Entry.new("tok", "prod-value-654321")

    runner = CliRunner()
    with runner.isolation() as (out, errs, _):
        fast_code = vault.cli.run(["get", *args])
        fast = (fast_code, out.getvalue(), errs.getvalue())
    monkeypatch.setattr(vault.cli, "FAST", {})  # every command line to click
    with runner.isolation() as (out, errs, _):
        slow_code = vault.cli.run(["get", *args])
        slow = (slow_code, out.getvalue(), errs.getvalue())
    assert fast == slow


def test_plain_get_does_not_import_click(vault_path: Path) -> None:
    create_passphrase_vault(vault_path, entries={"tok": "value-for-import-check"})
    code = ("import sys; from vault.cli import run; rc = run(['get', 'tok']); "
            "sys.stderr.write('CLICK' if 'click' in sys.modules else 'NOCLICK'); sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(),
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "value-for-import-check\n"
    assert r.stderr.endswith("NOCLICK")
