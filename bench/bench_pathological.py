#!/usr/bin/env python3
"""Guard throughput on hostile input: MB/s for each pathological shape beside normal text.

    python bench/bench_pathological.py [--size-mb 4] [--shape NAME ...] [--portable]
                                       [--before DIR] [--runs 2]

Shapes come from tests/guard/pathological.py (one line each: repeated anchors, keys,
separators and prefixes). Scans in-process, one core, the best of `--runs`, timed in CPU
seconds of this process (on a shared machine, wall time mostly measures the neighbours);
prints the figures, peak memory, and whether each reached the 10 MB/s the threat model promises.
`--portable` uses the bytes.find anchor path instead of Hyperscan.
`--before DIR` (another checkout, e.g. `git worktree add /tmp/before main`) scans every
shape with DIR's guard too, each shape in fresh child processes for both checkouts taken
turn about, so load on a shared machine falls on both columns alike. Asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shapes():
    """This checkout's shapes, loaded by path: `--code DIR` puts DIR's `vault` first."""
    spec = importlib.util.spec_from_file_location("_shapes", ROOT / "tests/guard/pathological.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.SHAPES, mod.normal_text, getattr(mod, "SHAPE_PATHS", {})


SHAPES, normal_text, SHAPE_PATHS = _shapes()


def _data(name: str, size: int) -> bytes:
    return normal_text(size) if name == "normal-text" else SHAPES[name](size)


def _time(scanner, data: bytes, name: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.process_time()
        scanner.scan_bytes(data, SHAPE_PATHS.get(name, name))  # credential files by name
        best = min(best, time.process_time() - t)
    return best


def _scanner(code: Path):
    sys.path.insert(0, str(code))
    from vault.guard.readers import FileScanner, ScanConfig

    scanner = FileScanner(ScanConfig(b"k" * 32))
    scanner.scan_bytes(b"warm up: token=x Bearer y eyJz")
    return scanner


def child(code: Path, names: list[str], size: int, runs: int) -> None:
    """One JSON line per shape: seconds and whether every anchor was examined."""
    scanner = _scanner(code)
    for name in names:
        s = _time(scanner, _data(name, size), name, runs)
        print(json.dumps({"shape": name, "seconds": s, "part": bool(scanner.unexamined)}), flush=True)


def compare(before: Path, names: list[str], size: int, runs: int, portable: bool) -> None:
    def run(code: Path, name: str) -> dict:
        cmd = [sys.executable, __file__, "--code", str(code), "--size-mb", str(size / 2**20),
               "--runs", str(runs), "--shape", name] + (["--portable"] if portable else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        return json.loads(out.splitlines()[-1])

    print(f"{'input':22s} {'before':>8s} {'after':>8s} {'x text':>7s}  MB/s; examined after")
    base = None
    for i, name in enumerate(["normal-text", *names]):
        order = [(before, "b"), (ROOT, "a")] if i % 2 == 0 else [(ROOT, "a"), (before, "b")]
        got = {tag: run(code, name) for code, tag in order}
        n = len(_data(name, size))
        b, a = n / got["b"]["seconds"] / 1e6, n / got["a"]["seconds"] / 1e6
        base = base or got["a"]["seconds"]
        flag = "" if a >= 10 else "  < 10 MB/s"
        part = "in part" if got["a"]["part"] else "all"
        print(f"{name:22s} {b:8.1f} {a:8.1f} {got['a']['seconds'] / base:7.1f}  {part}{flag}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=4.0)
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES) + ["normal-text"],
                    help="only these (repeatable)")
    ap.add_argument("--portable", action="store_true", help="no Hyperscan (TOKENSAFE_GUARD_PORTABLE=1)")
    ap.add_argument("--runs", type=int, default=2, help="best of this many scans per shape")
    ap.add_argument("--before", type=Path, metavar="DIR", help="another checkout to compare with")
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # child mode: scan with DIR's guard
    args = ap.parse_args()
    if args.portable:
        os.environ["TOKENSAFE_GUARD_PORTABLE"] = "1"
    size = int(args.size_mb * 1024 * 1024)
    names = args.shape or sorted(SHAPES)
    if args.code:
        return child(args.code, names, size, args.runs)
    if args.before:
        return compare(args.before.resolve(), [n for n in names if n != "normal-text"], size,
                       args.runs, args.portable)

    scanner = _scanner(ROOT)
    print(f"{'input':30s} {'MB/s':>8s} {'x text':>7s}  examined")
    base = None
    for name in ["normal-text", *(n for n in names if n != "normal-text")]:
        data = _data(name, size)
        best = _time(scanner, data, name, args.runs)
        base = base or best
        mbs = len(data) / best / 1e6
        part = "in part" if scanner.unexamined else "all"
        flag = "" if mbs >= 10 else "  < 10 MB/s"
        slower = (best / len(data)) / (base / size)  # per byte: cred-* shapes are at most 1 MB
        print(f"{name:30s} {mbs:8.1f} {slower:7.1f}  {part}{flag}", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {rss:.0f} MB for {size / 1e6:.1f} MB inputs")


if __name__ == "__main__":
    main()
