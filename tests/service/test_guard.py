"""audit, import, restore and watch called directly through the service API."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.guard.test_audit_e2e import postman_env
from tests.guard.tokens import auth0_mgmt, opaque
from vault.errors import NotFoundError, PolicyError, UsageError
from vault.service import entries, guard
from vault.service.context import Context


@pytest.fixture
def ctx(vault: Path, warnings: list[str]) -> Context:
    return Context(str(vault), warn=warnings.append)


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, str]:
    tok = opaque(40)
    d = tmp_path / "exports"
    d.mkdir()
    (d / ".env").write_text(f"API_TOKEN={tok}\nPORT=8080\n")
    (d / "notes.txt").write_text("nothing to see here\n")
    return d, tok


def test_audit_finds_fails_and_never_holds_the_value(ctx: Context, leaky: tuple[Path, str]) -> None:
    d, tok = leaky
    out = guard.audit(ctx, guard.AuditOptions([str(d)]))
    assert out.failed and out.errors == [] and out.suppressed == 0
    (f,) = out.findings
    assert f.path.endswith(".env") and f.line == 1
    assert tok not in repr(out) and tok not in json.dumps(f.to_json())
    above = guard.SEVERITIES[guard.SEVERITIES.index(f.severity) + 1]  # an opaque token is not critical
    assert not guard.audit(ctx, guard.AuditOptions([str(d)], fail_on=above)).failed
    assert guard.audit(ctx, guard.AuditOptions([str(d)], exclude=[".env"])).findings == []


def test_audit_baseline_silences_known_findings(ctx: Context, leaky: tuple[Path, str], tmp_path: Path) -> None:
    d, _ = leaky
    base = tmp_path / "baseline"
    wrote = guard.audit(ctx, guard.AuditOptions([str(d)], baseline=base, update_baseline=True))
    assert wrote.baseline_written == 1 and base.exists()
    again = guard.audit(ctx, guard.AuditOptions([str(d)], baseline=base))
    assert (again.findings, again.suppressed, again.failed) == ([], 1, False)


@pytest.mark.parametrize("opts", [
    guard.AuditOptions(update_baseline=True),
    guard.AuditOptions(["."], staged=True),
    guard.AuditOptions(fail_on="severe"),
])
def test_audit_refuses_contradictions(ctx: Context, opts: guard.AuditOptions) -> None:
    with pytest.raises(UsageError):
        guard.audit(ctx, opts)


def test_import_summary_then_scrub_and_restore(ctx: Context, tmp_path: Path) -> None:
    mgmt = auth0_mgmt(exp=4_000_000_000)
    f = tmp_path / "prod.postman_environment.json"
    f.write_text(postman_env({"auth0_domain": ("acme.eu.auth0.com", "default"),
                              "auth0_token": (mgmt, "secret"),
                              "user_id": ("auth0|5f1c2a", "default")}))
    before = f.read_bytes()

    out = guard.import_file(ctx, guard.ImportOptions(f, env="prod"))
    assert (out.env, sorted(out.imported), out.unchanged, out.left, out.scrubbed) == \
        ("prod", ["auth0_domain", "auth0_token"], [], ["user_id"], [])
    assert f.read_bytes() == before  # no --scrub: the file is left alone
    assert entries.get_value(ctx, "auth0_token", "prod") == mgmt

    out = guard.import_file(ctx, guard.ImportOptions(f, env="prod", scrub=True))
    assert out.imported == [] and sorted(out.unchanged) == ["auth0_domain", "auth0_token"]
    assert out.scrubbed == ["auth0_token"]
    vals = {v["key"]: v["value"] for v in json.loads(f.read_bytes())["values"]}
    assert vals["auth0_token"] == "{{vault:auth0_token}}" and mgmt not in f.read_text()

    assert guard.restore_file(ctx, f) == str(f.resolve())
    assert f.read_bytes() == before
    with pytest.raises(NotFoundError):
        guard.restore_file(ctx, f)  # the vault forgot the original


def test_import_conflict_changes_nothing(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / ".env"
    f.write_text(f"API_TOKEN={opaque()}\n")
    guard.import_file(ctx, guard.ImportOptions(f))
    first = entries.get_value(ctx, "API_TOKEN")
    f.write_text(f"API_TOKEN={opaque()}\n")
    with pytest.raises(PolicyError):
        guard.import_file(ctx, guard.ImportOptions(f, scrub=True))
    assert entries.get_value(ctx, "API_TOKEN") == first
    out = guard.import_file(ctx, guard.ImportOptions(f, overwrite=True))
    assert out.imported == ["API_TOKEN"] and entries.get_value(ctx, "API_TOKEN") != first


def test_watch_reports_a_file_as_it_appears(ctx: Context, tmp_path: Path) -> None:
    d = tmp_path / "Downloads"
    d.mkdir()
    found = threading.Event()
    seen: list = []

    def on_finding(f) -> None:
        seen.append(f)
        found.set()

    session = guard.watch(ctx, guard.WatchOptions([d], notify=False), on_finding,
                          lambda *a: None, lambda e: None)
    assert session.folders == [d] and session.quarantine_dir is None
    session.start()
    try:
        tok = opaque(40)
        (d / ".env").write_text(f"API_TOKEN={tok}\n")
        assert found.wait(20)
    finally:
        session.stop()
    assert seen[0].path.endswith(".env") and tok not in repr(seen[0])


def test_watch_refuses_what_is_not_a_folder(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a folder"):
        guard.watch(ctx, guard.WatchOptions([tmp_path / "missing"]), print, print, print)
    with pytest.raises(UsageError):
        guard.watch(ctx, guard.WatchOptions([tmp_path], action="delete"), print, print, print)
