"""The guard's records (`vault.record`, no dataclasses): what workers pickle to the parent,
the frozen configuration, fresh defaults, and an audit's start-up without `dataclasses`."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guard.tokens import opaque
from vault import crypto
from vault.guard.ciphertext import Encrypted
from vault.guard.detectors import Context, Verdict
from vault.guard.engine import ScanResult
from vault.guard.model import Candidate, FileError, FileResult, Finding, ScanStats
from vault.guard.providers import FORMATS
from vault.guard.readers import ScanConfig
from vault.store.model import Environment, VaultData

ROOT = Path(__file__).resolve().parents[2]


def _finding(line: int = 3) -> Finding:
    return Finding("a/.env", line, 7, "high-entropy", "high", "abcd…", "f" * 16, {"key": "API_KEY"},
                   120, 40)


def test_worker_results_survive_a_pickle_round_trip() -> None:
    """What `_scan_batch` sends from a forked worker: results holding findings, errors and
    encrypted spans, plus the per-batch stats."""
    results = [
        FileResult("a/.env", [_finding(), _finding(9)], nbytes=300, kind="dotenv",
                   encrypted=[Encrypted("a/.env", 4, "sops", "DB_PASS")]),
        FileResult("b/bin", error=FileError("b/bin", "permission denied")),
        FileResult("c/fifo", skipped="special", binary=True),
    ]
    stats = ScanStats(files=3, bytes=300, binary=1, errors=1, special=1, seconds=0.25)
    cand = Candidate(opaque(), 10, 50, "kv", key="TOKEN", quoted=False, follows=";")
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps((results, stats, cand), proto))
        assert back == (results, stats, cand)
        assert [type(r) for r in back[0]] == [FileResult] * 3
        assert back[0][0].findings[1].line == 9 and back[0][0].encrypted[0].key == "DB_PASS"


def test_equality_is_field_by_field_within_one_class() -> None:
    assert _finding() == _finding() and _finding() != _finding(4)
    assert FileError("p", "r") != Encrypted("p", 1, "r")  # another class: never equal
    assert Verdict("high") == Verdict("high", {}) and Verdict("high") != Verdict("low")
    with pytest.raises(TypeError):
        hash(_finding())  # mutable: unhashable, like a dataclass


def test_defaults_are_fresh_objects() -> None:
    a, b = FileResult("x"), FileResult("y")
    a.findings.append(_finding())
    a.encrypted.append(Encrypted("x", 1, "age"))
    assert b.findings == [] and b.encrypted == []
    r1, r2 = ScanResult(), ScanResult()
    r1.stats.files += 1
    r1.errors.append(FileError("x", "r"))
    assert r2.stats.files == 0 and r2.errors == [] and r1.stats is not r2.stats
    assert Verdict("low").facts is not Verdict("low").facts
    assert _finding().facts is not Finding("p", 1, 1, "d", "low", "", "").facts
    assert Environment("a").entries is not Environment("b").entries
    assert VaultData().originals is not VaultData().originals


def test_context_reads_the_clock_per_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: 1234.5)
    assert Context().now == 1234.5 and Context(7.0).now == 7.0


def test_scan_config_is_frozen_hashable_picklable_and_keeps_keys_out_of_repr() -> None:
    cfg = ScanConfig(b"K" * 32, b"V" * 32, frozenset({"ab" * 32}), deep=True, max_size=10)
    with pytest.raises(AttributeError):
        cfg.deep = False  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del cfg.roots
    assert hash(cfg) == hash(ScanConfig(b"K" * 32, b"V" * 32, frozenset({"ab" * 32}), deep=True,
                                        max_size=10))
    back = pickle.loads(pickle.dumps(cfg, pickle.HIGHEST_PROTOCOL))
    assert back == cfg and back.guard_key == b"K" * 32
    moved = cfg.with_roots(("src",))
    assert moved.roots == ("src",) and cfg.roots == ()
    assert moved.as_dict() == {**cfg.as_dict(), "roots": ("src",)}
    text = repr(moved)
    assert "KKKK" not in text and "VVVV" not in text and "abab" not in text
    assert "deep=True" in text and "roots=('src',)" in text


def test_kdf_params_and_provider_formats_stay_immutable() -> None:
    p = crypto.KdfParams(1, 1, 8)
    assert p == crypto.KdfParams(iterations=1, lanes=1, memory_kib=8) and hash(p) == hash((1, 1, 8))
    assert crypto.KdfParams() == crypto.DEFAULT_KDF and crypto.DEFAULT_KDF.memory_kib == 64 * 1024
    with pytest.raises(AttributeError):
        p.lanes = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        FORMATS[0].severity = "low"  # type: ignore[misc]
    assert len({f: f.id for f in FORMATS}) == len(FORMATS)


def test_audit_starts_without_dataclasses(tmp_path: Path) -> None:
    """`dataclasses` imports `inspect`, `ast`, `dis` and `tokenize`: ~6 ms of every audit;
    `pathlib` with `urllib.parse` and `ipaddress` ~3 ms more. A plain audit needs none."""
    heavy = ("dataclasses", "inspect", "pathlib", "urllib.parse", "ipaddress")
    # A Python's site may have imported some for its own .pth files: forgotten first, so an
    # import by the audit shows
    code = (f"import sys\nfor m in {heavy!r}: sys.modules.pop(m, None)\n"
            "from vault.cli import main; sys.argv[0] = 'tokensafe'; main()")
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code, "audit", "--json", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, check=True)
    names = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()
             if line.startswith("import time:")]
    imported = set(names[next(i for i, n in enumerate(names) if n.startswith("vault")):])
    assert "vault.guard.engine" in imported  # the audit did import the scanner
    assert not imported & set(heavy), sorted(imported & set(heavy))


def _records() -> list[type]:
    import importlib

    from vault.record import Record

    for m in ("vault.service.entries", "vault.service.accesslog", "vault.service.auth0",
              "vault.service.hosts", "vault.service.remote", "vault.service.agent",
              "vault.service.inject", "vault.service.guard"):
        importlib.import_module(m)
    found, todo = [], [Record]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return [c for c in found if c._names]


def test_every_record_is_built_from_its_fields_in_order() -> None:
    """A record pickles as `cls(*fields)`: its `__init__` must take exactly its fields, in order."""
    import inspect

    classes = _records()
    assert {FileResult, Finding, ScanConfig, crypto.KdfParams} <= set(classes)
    for cls in classes:
        params = tuple(inspect.signature(cls.__init__).parameters)[1:]
        assert params == cls._names, cls.__qualname__


def test_guard_key_is_made_private_once_and_a_corrupt_one_is_left_alone(tmp_path: Path) -> None:
    """The guard key (read with os.path, not pathlib): made 0600 in a new 0700 folder on first
    use, the same key after; a corrupt file is reported and not replaced."""
    import stat

    from vault.errors import IntegrityError
    from vault.guard.keys import load_guard_key

    path = tmp_path / "new" / "guard.key"
    key = load_guard_key(path)
    assert len(key) == 32 and load_guard_key(str(path)) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.write_text("not hex\n")
    with pytest.raises(IntegrityError, match="corrupt"):
        load_guard_key(path)
    assert path.read_text() == "not hex\n"
