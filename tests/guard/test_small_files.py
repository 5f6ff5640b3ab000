"""Many small files: the one-read fast path, the cached pseudo-file check, pool batches.

The fast path (a file of at most one chunk read whole) must find exactly what the chunked
reader finds, at the sizes where one turns into the other; the pool's per-batch summaries
must add up to what the in-process scan counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, auth0_mgmt, opaque
from vault.guard import readers
from vault.guard.engine import scan
from vault.guard.model import FileResult
from vault.guard.readers import CHUNK, HEAD, FileScanner, ScanConfig, is_pseudo

CFG = ScanConfig(b"k" * 32, now=NOW)
ROOT = Path(__file__).resolve().parents[2]
_ENGINE = "import os, sys\nfrom vault.guard import engine\nfrom vault.guard.readers import ScanConfig\n"


def _engine_in_child(body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `body` (with engine, ScanConfig, os and sys imported) in a process of its own with
    a timeout: a pool that hangs must fail the test, not freeze it."""
    return subprocess.run([sys.executable, "-c", _ENGINE + body, *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def _key(res: FileResult) -> tuple:
    return (res.nbytes, res.binary, res.kind, res.skipped, res.error and res.error.reason,
            [(f.line, f.column, f.detector, f.severity, f.fingerprint, f.offset, f.length, f.facts)
             for f in res.findings])


def _streamed(path: Path) -> FileResult:
    """The chunked reader on the same file (what scan_path used for every file before)."""
    scanner = FileScanner(CFG)
    res = FileResult(str(path))
    with open(path, "rb", buffering=0) as f:
        scanner._scan_stream(readers._Limited(f, os.fstat(f.fileno()).st_size), res)
    return res


def _file_of(size: int, token_at: int, tmp_path: Path, name: str) -> Path:
    """`size` bytes of text lines with a `MGMT_TOKEN=…` line starting near `token_at`."""
    line = f"MGMT_TOKEN={auth0_mgmt()}\n".encode()
    filler = (b"k_" + b"x" * 96 + b"\n") * (size // 99 + 2)
    at = max(0, min(token_at, size - len(line)))
    at = filler.rfind(b"\n", 0, at) + 1 if at else 0  # the token starts a line
    data = (filler[:at] + line + filler)[:size]
    p = tmp_path / name
    p.write_bytes(data)
    return p


SIZES = [HEAD - 1, HEAD, HEAD + 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK + HEAD - 1, CHUNK + HEAD,
         CHUNK + HEAD + 1, 2 * CHUNK + 3]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_fast_path_and_chunked_reader_agree(tmp_path: Path, size: int, where: str) -> None:
    at = {"start": 0, "middle": size // 2, "end": size - 3000}[where]
    p = _file_of(size, at, tmp_path, "f.env")
    fast = FileScanner(CFG).scan_path(str(p))
    assert fast.nbytes == size and len(fast.findings) == 1
    assert _key(fast) == _key(_streamed(p))
    assert [(f.line, f.fingerprint) for f in fast.findings] == [
        (f.line, f.fingerprint) for f in FileScanner(CFG).scan_bytes(p.read_bytes(), str(p))]


@pytest.mark.parametrize("data", [
    b"", b"\x00\x01binary\x00" + b"Authorization: Bearer " + opaque().encode(),
    json.dumps({"_postman_variable_scope": "globals", "values": [  # scope sniffed after decoding
        {"key": "auth0_token", "value": auth0_mgmt(), "type": "secret"}]}).encode("utf-16"),
    json.dumps({"_postman_variable_scope": "environment", "values": [
        {"key": "auth0_token", "value": auth0_mgmt(), "type": "secret"}]}).encode(),
    b"eyJ" * 300_000,  # anchors too dense to examine all: scanned in part, said so
], ids=["empty", "binary", "utf16", "postman-env", "dense"])
def test_fast_path_keeps_kinds_encodings_and_errors(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "x.json"
    p.write_bytes(data)
    assert len(data) <= CHUNK
    fast = FileScanner(CFG).scan_path(str(p))
    assert _key(fast) == _key(_streamed(p))
    assert (fast.error is not None) == (data[:3] == b"eyJ")
    assert fast.kind == ("binary" if data[:1] == b"\x00" else "utf-16" if data[:1] == b"\xff" else "text")


def test_a_small_file_is_read_with_one_system_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _file_of(50_000, 20_000, tmp_path, "one.env")
    calls: list[int] = []
    real = os.read

    def counting(fd: int, n: int) -> bytes:
        calls.append(n)
        return real(fd, n)
    monkeypatch.setattr(readers.os, "read", counting)
    res = FileScanner(CFG).scan_path(str(p))
    assert len(res.findings) == 1 and calls == [50_000]


def test_short_reads_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system may return fewer bytes than asked: the rest is read, up to fstat's size."""
    p = _file_of(30_000, 25_000, tmp_path, "nfs.env")
    real = os.read
    monkeypatch.setattr(readers.os, "read", lambda fd, n: real(fd, min(n, 4096)))
    res = FileScanner(CFG).scan_path(str(p))
    assert res.nbytes == 30_000 and len(res.findings) == 1


def test_cached_pseudo_check_agrees_with_realpath(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("x")
    (tmp_path / "dirlink").symlink_to(tmp_path / "real")
    (tmp_path / "proclink").symlink_to("/proc/self")
    (tmp_path / "real" / "to-proc").symlink_to("/proc/self/status")
    (tmp_path / "real" / "to-a").symlink_to(tmp_path / "real" / "a.txt")
    paths = [tmp_path / "real" / "a.txt", tmp_path / "dirlink" / "a.txt", tmp_path / "proclink" / "status",
             tmp_path / "real" / "to-proc", tmp_path / "real" / "to-a", tmp_path / "dirlink" / "to-proc"]
    cache: dict[str, str] = {}
    got = [is_pseudo(str(p), os.stat(p), cache) for p in paths * 2]  # the second round: cached
    assert got == [is_pseudo(str(p), os.stat(p)) for p in paths * 2]
    assert got[:6] == [False, False, True, True, False, True]
    # A caller that opened the file with O_NOFOLLOW knows its name is no link: the same answers
    not_links = [p for p in paths if not p.is_symlink()]
    assert [is_pseudo(str(p), os.stat(p), cache, link=False) for p in not_links] == [
        is_pseudo(str(p), os.stat(p)) for p in not_links]


def test_cached_folders_resolve_links_at_any_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder's real path is built from its parent's: a link anywhere above a file, to a
    pseudo root or elsewhere, still counts; so do relative and odd spellings of a path."""
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("x")
    (tmp_path / "a" / "to-proc").symlink_to("/proc/self")
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    paths = [f"{deep}/f.txt", f"{tmp_path}/a/to-proc/status", f"{tmp_path}/a/b/up/to-proc/status",
             f"{tmp_path}/a/b/up/b/c/f.txt", "a/b/c/f.txt", "a/to-proc/status", f"{tmp_path}//a//b/c/f.txt",
             "./a/b/../to-proc/status", "a/b/c/../c/f.txt"]
    cache: dict[str, tuple[str, bool]] = {}
    got = [is_pseudo(p, os.stat(p), cache) for p in paths * 2]
    assert got == [is_pseudo(p, os.stat(p)) for p in paths * 2]
    assert got[:9] == [False, True, True, False, False, True, False, True, False]


def test_a_file_opened_without_following_needs_no_lstat(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """scan_path opens a plain file with O_NOFOLLOW first: no lstat of its name; a link to
    a file is still scanned (through its own open), and one into /proc still skipped."""
    (tmp_path / "a.env").write_text(f"API_TOKEN={opaque()}\n")
    (tmp_path / "b.env").symlink_to(tmp_path / "a.env")
    (tmp_path / "c.env").symlink_to("/proc/self/status")
    scanner = FileScanner(CFG)
    scanner.scan_path(str(tmp_path / "a.env"))  # the folder's real path is cached now
    lstats: list[str] = []
    real = os.lstat
    monkeypatch.setattr(readers.os, "lstat", lambda p, *a, **k: lstats.append(str(p)) or real(p, *a, **k))
    assert len(scanner.scan_path(str(tmp_path / "a.env")).findings) == 1
    assert lstats == []
    assert len(scanner.scan_path(str(tmp_path / "b.env")).findings) == 1
    assert scanner.scan_path(str(tmp_path / "c.env")).skipped == "special"


@pytest.mark.skipif(not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK),
                    reason="needs a writable /dev/shm")
def test_files_reached_through_a_folder_link_into_dev_are_skipped(tmp_path: Path) -> None:
    """/dev/shm is a tmpfs beside ordinary ones (no device number tells it): only the real
    path does, and a cached folder's real path must still say it."""
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        Path(shm, "t.env").write_text(f"API_TOKEN={opaque()}\n")
        (tmp_path / "shm").symlink_to(shm)
        (tmp_path / "link.env").symlink_to(Path(shm, "t.env"))  # the last component a link
        (tmp_path / "ok.env").write_text(f"API_TOKEN={opaque()}\n")
        res = scan([str(tmp_path)], CFG, workers=1)
    assert [Path(f.path).name for f in res.findings] == ["ok.env"]
    assert res.stats.special == 2


def _tree(root: Path) -> None:
    """Clean text, binaries, findings, a file over the cap, an unreadable file, many sizes."""
    for i in range(120):
        d = root / f"d{i % 7}"
        d.mkdir(exist_ok=True)
        (d / f"c{i}.py").write_text(f"x_{i} = {i}\n" * (i * 40 + 1))
        if i % 10 == 0:
            (d / f"b{i}.bin").write_bytes(b"\x00\x01" * (i * 100 + 1) + b"Bearer " + opaque().encode())
            (d / f"clean{i}.bin").write_bytes(b"\x00\x02" * (i * 50 + 1))
        if i % 9 == 0:
            (d / f"s{i}.env").write_text(f"API_TOKEN={opaque()}\n" + "z=1\n" * i)
    (root / "big.log").write_bytes(b"y" * (CHUNK + 5000) + f"\nAuthorization: Bearer {opaque()}\n".encode())
    (root / "over.txt").write_bytes(b"o" * 3_000_000)
    os.mkfifo(root / "pipe")


def test_pool_batches_count_what_the_in_process_scan_counts(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.guard import engine

    _tree(tmp_path)
    cfg = ScanConfig(b"k" * 32, now=NOW, max_size=2_000_000)
    seen: dict[str, list[tuple[int, int]]] = {"one": [], "pool": []}
    one = scan([str(tmp_path)], cfg, workers=1, progress=lambda n, t: seen["one"].append((n, t)))
    monkeypatch.setattr(engine, "IN_PROCESS_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_BYTES", 20_000)
    pool = scan([str(tmp_path)], cfg, workers=2, progress=lambda n, t: seen["pool"].append((n, t)))
    assert [f.to_json() for f in one.findings] == [f.to_json() for f in pool.findings]
    assert len(one.findings) == 12 + 14 + 1  # the .env files, the binaries' bearer, big.log
    a, b = one.stats.to_json(), pool.stats.to_json()
    a.pop("seconds"), b.pop("seconds")
    assert a == b and a["binary_files"] == 24 and a["too_large"] == 1 and a["special"] == 1
    assert sorted(e.to_json()["reason"] for e in one.errors) == sorted(e.to_json()["reason"] for e in pool.errors)
    for got in seen.values():
        assert sum(n for n, _ in got) == a["bytes"] and {t for _, t in got} == {got[0][1]}



def test_the_spawn_pool_counts_what_the_fork_pool_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is no fork (Windows), multiprocessing's spawn pool scans the same batches."""
    from vault.guard import engine

    _tree(tmp_path)
    cfg = ScanConfig(b"k" * 32, now=NOW, max_size=2_000_000)
    monkeypatch.setattr(engine, "IN_PROCESS_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_BYTES", 20_000)
    forked = scan([str(tmp_path)], cfg, workers=2)
    monkeypatch.setattr(engine, "FORK", False)
    spawned = scan([str(tmp_path)], cfg, workers=2)
    assert [f.to_json() for f in forked.findings] == [f.to_json() for f in spawned.findings]
    assert len(forked.findings) == 12 + 14 + 1
    a, b = forked.stats.to_json(), spawned.stats.to_json()
    a.pop("seconds"), b.pop("seconds")
    assert a == b

def test_report_version_is_the_package_version() -> None:
    from vault.guard.report import _version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _version() == project["version"]


@pytest.mark.e2e
def test_audit_of_many_small_files_end_to_end(session, tmp_path: Path) -> None:
    """Through the installed command: one worker and a pool (> 8 MB) report the same, and the
    planted values appear in no output."""
    root = tmp_path / "tree"
    root.mkdir()
    planted = []
    for i in range(400):
        d = root / f"pkg{i % 13}"
        d.mkdir(exist_ok=True)
        body = f"def f_{i}(a, b):\n    return a + b  # {'z' * 40}\n" * (250 + i % 50)
        if i % 40 == 3:
            tok = opaque()
            planted.append(tok)
            body = body[: len(body) // 2] + f'\nAPI_TOKEN = "{tok}"\n' + body[len(body) // 2:]
        (d / f"m{i}.py").write_text(body)
    runs = [session("audit", "--json", "--workers", w, str(root)) for w in ("1", "2")]
    docs = [json.loads(r.stdout) for r in runs]
    assert [r.returncode for r in runs] == [1, 1]
    assert docs[0]["stats"]["bytes"] > 8 * 1024 * 1024  # the pool path, not the in-process one
    assert docs[0]["findings"] == docs[1]["findings"] and len(docs[0]["findings"]) == len(planted)
    s0, s1 = docs[0]["stats"], docs[1]["stats"]
    s0.pop("seconds"), s1.pop("seconds")
    assert s0 == s1 and s0["files"] == 400
    for tok in planted:
        session.assert_no_leak(tok)


def test_feed_hands_out_big_files_biggest_first_then_small_batches() -> None:
    from vault.guard.feed import BIG, MAX_FILES, BatchFeed

    feed = BatchFeed(batch_bytes=50_000, limit=100)
    small = [(f"s{i}", 1000) for i in range(600)]
    big = [("b1", BIG), ("b3", 3 * BIG), ("b2", 2 * BIG)]
    for p, n in small[:300] + big + small[300:]:
        feed.add(p, n)
    feed.walk_in_thread(iter(())).join()
    got = list(feed.batches())
    assert got[:3] == [["b3"], ["b2"], ["b1"]]
    rest = got[3:]
    assert [p for b in rest for p in b] == [p for p, _ in small]  # each once, in walk order
    assert all(len(b) <= MAX_FILES and len(b) * 1000 <= 50_000 for b in rest)
    assert feed.total == 600 * 1000 + 6 * BIG


def test_feed_keeps_at_most_limit_batches_out() -> None:
    import threading

    from vault.guard.feed import BatchFeed

    feed = BatchFeed(batch_bytes=1, limit=2)  # every file a batch
    for i in range(5):
        feed.add(f"f{i}", 10)
    feed.walk_in_thread(iter(())).join()
    it = feed.batches()
    first = [next(it), next(it)]
    third: list = []
    t = threading.Thread(target=lambda: third.append(next(it)), daemon=True)
    t.start()
    t.join(0.3)
    assert first == [["f0"], ["f1"]] and third == []  # blocked: two are out
    feed.returned()
    t.join(10)
    assert third == [["f2"]]


def test_progress_waits_for_the_total_while_the_walk_is_slow(tmp_path: Path) -> None:
    import time

    from vault.guard import engine

    files = []
    for i in range(30):
        p = tmp_path / f"f{i}.env"
        p.write_text(f"API_TOKEN={opaque()}\n" + "z=1\n" * 500)
        files.append((str(p), p.stat().st_size))

    def slow_walk():
        for f in files[2:]:
            time.sleep(0.02)
            yield f
    calls: list[tuple[int, int]] = []
    results: list[FileResult] = []
    stats = engine.ScanStats()
    engine._scan_pooled(files[:2], slow_walk(), CFG, 2, results.append, stats,
                        lambda n, t: calls.append((n, t)))
    total = sum(n for _, n in files)
    assert len(results) == 30 and {t for _, t in calls} == {total} and sum(n for n, _ in calls) == total


def test_a_failing_walk_or_progress_ends_the_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in the walk is raised in the caller; an error while results come back (here ^C
    in progress) ends the pool without a hang (in a process of its own, with a timeout: a hang
    must fail the test, not freeze it)."""

    from vault.guard import engine

    for i in range(200):
        (tmp_path / f"f{i}.txt").write_text("x = 1\n" * 500)
    code = ("engine.IN_PROCESS_BYTES = 0\nengine.BATCH_BYTES = 2000\n"
            "def boom(n, t):\n    raise KeyboardInterrupt\n"
            "try:\n    engine.scan([sys.argv[1]], ScanConfig(b'k' * 32), workers=2, progress=boom)\n"
            "except KeyboardInterrupt:\n    print('interrupted')\n")
    r = _engine_in_child(code, str(tmp_path))
    assert r.stdout == "interrupted\n", r.stderr[-500:]

    monkeypatch.setattr(engine, "IN_PROCESS_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_BYTES", 2000)
    real_walk = engine.walk

    def broken_walk(*a, **kw):
        yield from list(real_walk(*a, **kw))[:5]
        raise OSError(5, "walk failed")
    monkeypatch.setattr(engine, "walk", broken_walk)
    with pytest.raises(OSError, match="walk failed"):
        scan([str(tmp_path)], CFG, workers=2)



def test_feed_shrinks_batches_once_the_walk_is_over() -> None:
    """Once the total is known, a batch takes at most 1/limit of what is left (floor 16 files),
    so the last batches are small: the workers end together."""
    from vault.guard.feed import MAX_FILES, MIN_FILES, BatchFeed

    feed = BatchFeed(batch_bytes=10**9, limit=4)
    files = [(f"s{i}", 1000) for i in range(2000)]
    for p, n in files:
        feed.add(p, n)
    feed.walk_in_thread(iter(())).join()
    got = []
    for b in feed.batches():
        got.append(b)
        feed.returned()
    sizes = [len(b) for b in got]
    assert [p for b in got for p in b] == [p for p, _ in files]  # each once, in walk order
    assert sizes[0] == MAX_FILES and sizes == sorted(sizes, reverse=True)
    assert all(n >= MIN_FILES for n in sizes[:-1]) and sizes[-2] == MIN_FILES


def test_a_worker_that_dies_or_fails_is_an_error_not_a_hang(tmp_path: Path) -> None:
    """A worker killed mid-batch (out of memory, say) fails the scan with a clear error; an
    exception in a worker is raised in the caller. In processes of their own, with a timeout."""

    for i in range(200):
        (tmp_path / f"f{i}.txt").write_text("x = 1\n" * 500)
    code = ("engine.IN_PROCESS_BYTES = 0\nengine.BATCH_BYTES = 2000\nreal = engine._scan_batch\n"
            "def bad(paths):\n"
            "    if any(p.endswith('f77.txt') for p in paths):\n"
            "        os._exit(9) if sys.argv[2] == 'die' else int('x')\n"
            "    return real(paths)\n"
            "engine._scan_batch = bad\n"
            "try:\n    engine.scan([sys.argv[1]], ScanConfig(b'k' * 32), workers=2)\n"
            "except (RuntimeError, ValueError) as e:\n    print(type(e).__name__, e)\n")
    for how, said in (("die", "RuntimeError a scan worker ended before answering"),
                      ("raise", "ValueError invalid literal for int()")):
        r = _engine_in_child(code, str(tmp_path), how)
        assert r.stdout.startswith(said), (r.stdout, r.stderr[-500:])



def test_long_names_and_many_findings_fill_both_pipes_without_a_hang(tmp_path: Path) -> None:
    """Batches of long file names (a task > a pipe's 64 KiB) and answers with many findings
    (> 64 KiB) at once: the pool's loop writes and reads without blocking, so neither side
    waits on the other forever. In a process of its own, with a timeout."""

    deep = tmp_path / ("d" * 200) / ("e" * 200)
    deep.mkdir(parents=True)
    body = "".join(f"API_TOKEN={opaque()}\n" for _ in range(12))
    for i in range(600):
        (deep / f"{'f' * 150}{i}.env").write_text(body)
    code = ("cfg = ScanConfig(b'k' * 32)\n"
            "one = engine.scan([sys.argv[1]], cfg, workers=1)\n"
            "engine.IN_PROCESS_BYTES = 0\nengine.BATCH_BYTES = 1 << 30\n"
            "pool = engine.scan([sys.argv[1]], cfg, workers=2)\n"
            "same = [f.to_json() for f in one.findings] == [f.to_json() for f in pool.findings]\n"
            "print(len(pool.findings), pool.stats.files, same)\n")
    r = _engine_in_child(code, str(tmp_path))
    assert r.stdout == "7200 600 True\n", r.stderr[-500:]


SCOPE_PARTS = [b'"_postman_variable_scope"', b": ", b'"environment"', b'"globals"', b'"collection"',
               b"https://schema.getpostman.com/json/collection/v2.1.0/", b'"_postman_id"', b"postman",
               b"POSTMAN", b"{", b"}", b",", b"\n", b'"', b"\x00", b"\xff\xfe"]


@pytest.mark.parametrize("head", [
    b'{"_postman_variable_scope": "globals"}', b'{"id": 1, "_postman_variable_scope":"environment"}',
    b'{"info": {"schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}}',
    b'{"info": {"_postman_id": "x"}}', b'{"values": []}', b"", b"Postman" * 10])
def test_scope_pre_check_agrees_with_sniff_scope(head: bytes) -> None:
    from vault.formats.postman_env import sniff_scope

    assert readers._scope(head) == sniff_scope(head)


def test_scope_pre_check_agrees_on_soup() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from vault.formats.postman_env import sniff_scope

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from(SCOPE_PARTS) | st.binary(max_size=8), max_size=30))
    def check(parts: list[bytes]) -> None:
        head = b"".join(parts)
        assert readers._scope(head) == sniff_scope(head)
    check()
