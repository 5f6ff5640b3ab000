"""`tokensafe import [--scrub]` and `restore` end to end, with leak checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import create_passphrase_vault, files_containing
from tests.guard.test_audit_e2e import postman_env
from tests.guard.tokens import auth0_mgmt, opaque

pytestmark = pytest.mark.e2e


@pytest.fixture
def vaulted(session, home: Path) -> Path:
    p = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(p)
    return p


def test_import_scrub_restore_postman(session, vaulted: Path, tmp_path: Path) -> None:
    mgmt = auth0_mgmt(exp=4_000_000_000)
    other = "tsPLANTED" + opaque(30)
    f = tmp_path / "Downloads" / "prod.postman_environment.json"
    f.parent.mkdir()
    f.write_text(postman_env({"auth0_domain": ("acme.eu.auth0.com", "default"),
                              "auth0_token": (mgmt, "secret"),
                              "legacy key": (other, "secret"),
                              "user_id": ("auth0|5f1c2a", "default"),
                              "baseUrl": ("{{scheme}}://api", "default")}))
    os.chmod(f, 0o640)
    before = f.read_bytes()

    r = session("import", str(f), "--env", "prod", "--scrub")
    assert r.returncode == 0, r.stderr
    after = f.read_bytes()
    assert mgmt.encode() not in after and other.encode() not in after
    doc = json.loads(after)
    vals = {v["key"]: v["value"] for v in doc["values"]}
    assert vals["auth0_token"] == "{{vault:auth0_token}}"
    assert vals["legacy key"] == "{{vault:legacy_key}}"
    assert vals["auth0_domain"] == "acme.eu.auth0.com" and vals["user_id"] == "auth0|5f1c2a"
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    # The values are retrievable from the vault, by name.
    assert session("get", "auth0_token", "--env", "prod").stdout.decode().strip() == mgmt
    assert session("get", "auth0_domain", "--env", "prod").returncode == 0
    # The scrubbed file no longer fails an audit.
    assert session("audit", str(f)).returncode == 0
    # A second scrub finds nothing left to scrub and keeps the stored original.
    r = session("import", str(f), "--scrub")
    assert r.returncode == 0 and b"nothing to scrub" in r.stdout and f.read_bytes() == after

    r = session("restore", str(f))
    assert r.returncode == 0, r.stderr
    assert f.read_bytes() == before
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    assert session("restore", str(f)).returncode == 4  # the vault forgot the original

    for s in (mgmt, other):
        session.assert_no_leak(s, allow_stdout_of=("get",))
        assert files_containing(tmp_path, s.encode()) == [f]


def test_restore_refuses_a_changed_file(session, vaulted: Path, tmp_path: Path) -> None:
    tok = "tsPLANTED" + opaque(30)
    f = tmp_path / ".env"
    f.write_text(f"API_TOKEN={tok}\nPORT=8080\n")
    before = f.read_bytes()
    assert session("import", str(f), "--scrub").returncode == 0
    assert f.read_text() == "API_TOKEN={{vault:API_TOKEN}}\nPORT=8080\n"
    f.write_text("API_TOKEN={{vault:API_TOKEN}}\nPORT=9090\n")
    r = session("restore", str(f))
    assert r.returncode == 9 and b"--force" in r.stderr
    assert session("restore", "--force", str(f)).returncode == 0
    assert f.read_bytes() == before
    session.assert_no_leak(tok)


def test_import_conflict_changes_nothing(session, vaulted: Path, tmp_path: Path) -> None:
    f = tmp_path / ".env"
    f.write_text(f"API_TOKEN={opaque()}\n")
    assert session("import", str(f)).returncode == 0
    f.write_text(f"API_TOKEN={opaque()}\n")
    before = f.read_bytes()
    r = session("import", str(f), "--scrub")
    assert r.returncode == 9 and b"--overwrite" in r.stderr
    assert f.read_bytes() == before


def test_nothing_scrubbed_without_a_vault(session, tmp_path: Path) -> None:
    tok = "tsPLANTED" + opaque(30)
    f = tmp_path / ".env"
    f.write_text(f"API_TOKEN={tok}\n")
    before = f.read_bytes()
    r = session("import", str(f), "--scrub")
    assert r.returncode == 4
    assert f.read_bytes() == before
    session.assert_no_leak(tok)


def test_import_rejects_other_files(session, vaulted: Path, tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    r = session("import", str(f))
    assert r.returncode == 2 and b"tokensafe: hint:" in r.stderr
    bad = tmp_path / "x.postman_environment.json"
    bad.write_text('{"values": [')
    assert session("import", str(bad)).returncode == 2


def test_audit_knows_what_is_in_the_vault(session, vaulted: Path, tmp_path: Path) -> None:
    tok = "tsPLANTED" + opaque(30)
    f = tmp_path / ".env"
    f.write_text(f"API_TOKEN={tok}\n")
    assert session("import", str(f)).returncode == 0
    notes = tmp_path / "notes" / "todo.txt"
    notes.parent.mkdir()
    notes.write_text(f"remember to rotate {tok} next week\nAPI_TOKEN={tok}\n")
    r = session("audit", "--json", str(notes.parent))  # plain audit never unlocks the vault
    got = [(x["line"], x["detector"], x["facts"].get("in_vault")) for x in json.loads(r.stdout)["findings"]]
    assert got == [(2, "high-entropy", None)]
    r = session("audit", "--deep", "--json", str(notes.parent))  # unlocks: any key, bare values too
    got = [(x["line"], x["detector"], x["facts"].get("in_vault")) for x in json.loads(r.stdout)["findings"]]
    assert got == [(1, "vault-known", True), (2, "high-entropy", True)]
    session.assert_no_leak(tok)
