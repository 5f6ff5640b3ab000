"""Finding 6: the guard cannot be hung by hostile input.

Every pathological shape (tests/guard/pathological.py) is scanned at 2 MB in a child
process and compared with normal text of the same size scanned in the same process: it
must stay within a constant factor (linear) and bounded memory. On the old patterns the
bearer and `token=` shapes took minutes (quadratic) and gigabytes, so the child times out.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guard.pathological import SHAPES

ROOT = Path(__file__).resolve().parents[2]
SIZE = 2 * 1024 * 1024
FACTOR = 40  # generous: the worst shape is ~10x normal text on an idle machine
SLACK = 1.5  # seconds, for scheduling noise on a shared CI machine
MAX_RSS_MB = 400


def _probe(shapes: list[str], timeout: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        r = subprocess.run([sys.executable, "-m", "tests.security.linear_probe", str(SIZE), *shapes],
                           capture_output=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired as e:
        done = (e.stdout or b"").decode()
        pytest.fail(f"scanning did not finish in {timeout} s (superlinear); finished: {done}")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    got: dict[str, float] = {}
    for line in r.stdout.decode().splitlines():
        d = json.loads(line)
        if "rss_mb" in d:
            got["rss_mb"] = d["rss_mb"]
        else:
            got[d["shape"]] = d["seconds"]
    return got


GROUPS = [sorted(SHAPES)[i::4] for i in range(4)]


@pytest.mark.parametrize("shapes", GROUPS, ids=[f"group{i}" for i in range(len(GROUPS))])
def test_pathological_shapes_scan_in_linear_time(shapes: list[str]) -> None:
    got = _probe(shapes, timeout=180)
    base = got["normal"]
    slow = {s: round(got[s] / base, 1) for s in shapes if got[s] > FACTOR * base + SLACK}
    assert not slow, f"slower than {FACTOR}x normal text of the same size: {slow} (normal {base:.3f} s)"
    assert got["rss_mb"] < MAX_RSS_MB, f"peak memory {got['rss_mb']:.0f} MB"


def test_token_eq_shape_scales_linearly() -> None:
    """The same shape at 1 and 4 MB: four times the input, about four times the time."""
    from vault.guard.readers import FileScanner, ScanConfig

    scanner = FileScanner(ScanConfig(b"k" * 32))
    import time

    def t(n: int) -> float:
        data = SHAPES["token-eq-then-a"](n)
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            scanner.scan_bytes(data)
            best = min(best, time.perf_counter() - t0)
        return best

    small = t(256 * 1024)  # on the old pattern: ~10 s; quadratic would make 1 MB ~160 s
    assert small < 5, f"256 KB took {small:.1f} s"
    big = t(1024 * 1024)
    assert big < 8 * small + 1.0, f"256 KB {small:.3f} s, 1 MB {big:.3f} s: superlinear"


def test_special_files_are_skipped_and_counted(session, tmp_path: Path) -> None:
    """A symlink to /proc/self/pagemap (endless zeros behind size 0), a FIFO and a socket."""
    d = tmp_path / "exports"
    d.mkdir()
    (d / "pagemap.json").symlink_to("/proc/self/pagemap")
    os.mkfifo(d / "pipe.json")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(d / "sock.json"))
    try:
        (d / "env.txt").write_text("API_TOKEN=tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6\n")
        r = session("audit", "--json", str(d), timeout=30)
    finally:
        sock.close()
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and len(doc["findings"]) == 1
    assert doc["stats"]["special"] == 3 and doc["stats"]["files"] == 1
    session.assert_no_leak("tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6")


def test_files_over_the_size_cap_are_skipped_unless_asked(session, tmp_path: Path) -> None:
    d = tmp_path / "big"
    d.mkdir()
    (d / "dump.txt").write_text("x" * 5000 + "\nAPI_TOKEN=tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6\n")
    r = session("audit", "--json", "--max-size", "4K", str(d))
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["findings"] == [] and doc["stats"]["too_large"] == 1
    assert b"size cap" in r.stderr and b"--max-size" in r.stderr
    r = session("audit", "--json", "--max-size", "0", str(d))
    assert r.returncode == 1 and len(json.loads(r.stdout)["findings"]) == 1
    assert session("audit", "--max-size", "lots", str(d)).returncode == 2
    session.assert_no_leak("tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6")


def test_a_dense_file_is_reported_as_scanned_in_part(session, tmp_path: Path) -> None:
    d = tmp_path / "dense"
    d.mkdir()
    (d / "soup.txt").write_bytes(SHAPES["token-colon-quote"](SIZE))
    r = session("audit", "--json", str(d), timeout=60)
    assert r.returncode in (0, 1)
    assert b"scanned in part" in r.stderr
