"""A vault written by main before this format revision opens, and its next write keeps the old bytes as `.bak`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import independent_reader as ir

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors" / "from_main"
META = json.loads((VECTOR_DIR / "main_v1.json").read_text())


def _planted(session) -> tuple[Path, bytes]:
    path = Path(session.env["TOKENSAFE_VAULT"])
    path.parent.mkdir(mode=0o700)
    shutil.copyfile(VECTOR_DIR / META["file"], path)
    os.chmod(path, 0o600)
    return path, path.read_bytes()


def test_vault_from_main_opens_and_is_rewritten_in_the_new_form(session) -> None:
    path, old = _planted(session)
    env = {"TOKENSAFE_PASSPHRASE": META["passphrase"]}
    got = session("get", "auth0_token", env=env)
    assert got.returncode == 0, got.stderr
    assert got.stdout.decode().strip() == META["entries"]["auth0_token"]
    put = session("set", "added_later", input="a-value-after-the-upgrade", env=env)
    assert put.returncode == 0, put.stderr
    assert path.with_name(path.name + ".bak").read_bytes() == old  # the old version, byte for byte
    new = path.read_bytes()
    payload, seen = ir.read(new, passphrase=META["passphrase"])
    assert seen["padded_plaintext_length"] % 1024 == 0  # padded now
    assert payload["environments"]["dev"]["entries"]["auth0_domain"]["value"] == META["entries"]["auth0_domain"]
    rec = session("get", "added_later", env={"TOKENSAFE_PASSPHRASE": "", "TOKENSAFE_RECOVERY_KEY": META["recovery_key"]})
    assert rec.returncode == 0 and rec.stdout.decode().strip() == "a-value-after-the-upgrade", rec.stderr
    session.assert_no_leak(META["entries"]["auth0_token"])
