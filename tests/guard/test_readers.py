"""Readers: chunk boundaries, encodings, binaries, and files that misbehave."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, auth0_mgmt, opaque
from vault.guard import readers
from vault.guard.engine import scan
from vault.guard.readers import CHUNK, FileScanner, ScanConfig

CFG = ScanConfig(b"k" * 32, now=NOW)


def run(*paths: Path):
    return scan([str(p) for p in paths], CFG, workers=1)


@pytest.mark.parametrize("shift", [-5000, -300, -20, -1, 0, 1, 17, 4000])
def test_token_across_chunk_boundary(tmp_path: Path, shift: int) -> None:
    tok = auth0_mgmt(scope=" ".join(f"read:r{i}" for i in range(200)))  # ~4 KB
    line = f"MGMT_TOKEN={tok}\n".encode()
    at = CHUNK + readers.HEAD + shift
    filler = (b"x" * 99 + b"\n") * (at // 100 + 1)
    data = filler[:at] + line + filler
    p = tmp_path / "big.env"
    p.write_bytes(data)
    res = run(p)
    assert [(f.detector, f.line) for f in res.findings] == [
        ("auth0-management-token", data.count(b"\n", 0, at) + 1)]
    assert res.findings[0].offset == at + len("MGMT_TOKEN=")


def test_many_chunks_each_found_once(tmp_path: Path) -> None:
    toks = [opaque() for _ in range(30)]
    chunks = [f"Authorization: Bearer {t}\n".encode() + b"y" * 200_000 + b"\n" for t in toks]
    p = tmp_path / "log.log"
    p.write_bytes(b"".join(chunks))
    res = run(p)
    assert len(res.findings) == 30
    assert [f.line for f in res.findings] == [1 + 2 * i for i in range(30)]


def test_long_single_line_column(tmp_path: Path) -> None:
    tok = opaque()
    data = b"var a=1;" * 300_000 + f'fetch(u,{{headers:{{Authorization:"Bearer {tok}"}}}})'.encode()
    p = tmp_path / "app.min.js"
    p.write_bytes(data)
    [f] = run(p).findings
    assert f.line == 1 and f.column == data.index(tok.encode()) + 1


def test_utf16_with_bom(tmp_path: Path) -> None:
    tok = opaque()
    for enc, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        p = tmp_path / f"{enc}.txt"
        p.write_bytes(bom + f"hello\r\nAPI_TOKEN={tok}\r\n".encode(enc))
        [f] = run(p).findings
        assert (f.detector, f.line, f.column) == ("high-entropy", 2, 11)


def test_binary_files_only_strong_shapes(tmp_path: Path) -> None:
    tok = opaque()
    p = tmp_path / "000123.ldb"
    p.write_bytes(os.urandom(5000) + b"\x00authorization\x00Bearer " + tok.encode() + b"\x00"
                  + b"\x00api_token=" + opaque().encode() + os.urandom(100))
    res = run(p)
    assert [f.detector for f in res.findings] == ["bearer"]
    assert res.stats.binary == 1


def test_binary_private_names_are_not_assignments(tmp_path: Path) -> None:
    """A compiled library's symbol table (`private`, then `curveEcPrivateKey:` beside
    arbitrary bytes): a `private` anchor with no PEM after it must not fall back to reading an
    assignment, which binaries never get. The same bytes as text still give the finding."""
    body = b"private\x00" * 3 + b"\x00curveEcPrivateKey:" + opaque(24).encode() + b"\x00"
    p = tmp_path / "_rust.abi3.so"
    p.write_bytes(b"\x7fELF\x02\x01\x01\x00" + body)
    assert run(p).findings == []
    p = tmp_path / "keys.txt"
    p.write_bytes(body.replace(b"\x00", b"\n"))
    assert [f.detector for f in run(p).findings] == ["high-entropy"]


def test_errors_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.env"
    good.write_text(f"API_TOKEN={opaque()}\n")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # folder loop
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "fifo")
    res = run(tmp_path, tmp_path / "missing.json")
    assert len(res.findings) == 1
    reasons = {Path(e.path).name: e.reason for e in res.errors}
    assert reasons["loop1"] == reasons["loop2"] == "symlink loop"
    assert "missing.json" in reasons and "dangling" in reasons


def _reasons_as_nobody(folder: Path) -> list[str]:
    """Scan `folder` in a forked child that dropped root, so permissions bite as for a user."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            os.write(w, json.dumps([e.reason for e in run(folder).errors]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged scan failed"
    return json.loads(out)


def test_unreadable_file(tmp_path: Path) -> None:
    folder = tmp_path
    if os.geteuid() == 0:  # root reads everything: drop to nobody in a child (CI runs as root)
        folder = Path(tempfile.mkdtemp(prefix="ts-unreadable-"))
        folder.chmod(0o755)
    p = folder / "secret.env"
    p.write_text("x")
    p.chmod(0)
    try:
        reasons = _reasons_as_nobody(folder) if os.geteuid() == 0 else [e.reason for e in run(folder).errors]
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder)
    assert reasons == ["permission denied"]


def test_file_vanishing_mid_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [tmp_path / f"f{i}.env" for i in range(5)]
    for p in files:
        p.write_text(f"API_TOKEN={opaque()}\n")
    real = FileScanner.scan_path

    def flaky(self, path: str):
        if path.endswith("f2.env"):
            os.unlink(path)
        return real(self, path)
    monkeypatch.setattr(FileScanner, "scan_path", flaky)
    res = run(tmp_path)
    assert len(res.findings) == 4
    assert [e.reason for e in res.errors] == ["vanished before it could be read"]


def test_non_utf8_file_name(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9-\xff.env"
    with open(name, "wb") as f:
        f.write(f"API_TOKEN={opaque()}\n".encode())
    [f] = run(tmp_path).findings
    assert f.path.endswith("caf\ufffd-\ufffd.env")
    f.path.encode("utf-8")  # printable, JSON-able


def test_excludes(tmp_path: Path) -> None:
    for sub in ("a", "b", ".git", "node_modules"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x.env").write_text(f"API_TOKEN={opaque()}\n")
    res = scan([str(tmp_path)], CFG, excludes=("node_modules", "b/*"), workers=1)
    assert sorted(Path(f.path).parent.name for f in res.findings) == ["a"]


def test_pool_and_in_process_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.guard import engine

    for i in range(40):
        (tmp_path / f"f{i}.env").write_text(f"API_TOKEN={opaque()}\n" + "z=1\n" * 100)
    one = scan([str(tmp_path)], CFG, workers=1)
    monkeypatch.setattr(engine, "IN_PROCESS_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_BYTES", 1000)
    two = scan([str(tmp_path)], CFG, workers=2)
    assert [f.to_json() for f in one.findings] == [f.to_json() for f in two.findings]
    assert len(one.findings) == 40


def test_memory_stays_flat_on_a_huge_file(tmp_path: Path) -> None:
    import tracemalloc

    p = tmp_path / "huge.log"
    line = b"2024-01-01T00:00:00Z INFO [svc] req_id=0b5c7a52 GET /users status=200 token_cache=miss\n"
    with open(p, "wb") as f:
        for _ in range(48):
            f.write(line * (1024 * 1024 // len(line)))
        f.write(f"Authorization: Bearer {opaque()}\n".encode())
    tracemalloc.start()
    res = run(p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(res.findings) == 1 and res.stats.bytes > 48e6
    assert peak < 12 * 1024 * 1024, peak  # a few chunks, never the file
