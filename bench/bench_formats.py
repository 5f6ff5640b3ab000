#!/usr/bin/env python3
"""Per-format recall and false positives of the sync guard on the labelled corpus (issue #10).

    python bench/bench_formats.py [--size-mb 40] [--seed 1] [--formats all|new|auth0]
                                  [--workdir DIR] [--peers] [--show 3]

Generates a corpus with tests/corpus/gen.py into a temporary folder (or --workdir, kept), runs
the installed `tokensafe audit --json` on it (PYTHONPATH decides whose code runs) and prints,
per file type: files, MB, plants, recall, false positives (findings not on a plant line; a
finding on a line labelled `context: docs|test` at low severity is counted apart as `ctx-low`,
an `info` report apart as `info`), false positives per 10 MB and by severity; then totals and
MB/s. Below the table: the missed plant kinds and the decoy kinds that drew false positives, per
file type. #10 is done when every row shows recall >= 0.99 and < 1 false positive per 10 MB.

--peers: also detect-secrets (`detect-secrets scan --all-files`, if installed) and gitleaks
(`gitleaks detect --no-git`, if on PATH) on the same corpus; they rank nothing, so all their
findings off plant lines count as false positives. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.guard.format_score import Row, score_formats, total  # noqa: E402

GEN = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "gen.py"
SEV = ("low", "medium", "high", "critical")


def generate(out: Path, size_mb: float, seed: int, formats: str) -> tuple[dict, dict]:
    if not (out / "manifest.json").exists():
        r = subprocess.run([sys.executable, str(GEN), str(out), "--size-mb", str(size_mb), "--seed", str(seed),
                            "--formats", formats], capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"gen.py failed:\n{r.stderr}")
    return (json.loads((out / "manifest.json").read_text()), json.loads((out / "index.json").read_text()))


def run_tokensafe(root: Path, home: Path) -> tuple[float, list[tuple[str, int, str, str | None]], int]:
    exe = shutil.which("tokensafe")
    if exe is None:
        sys.exit("tokensafe is not installed (run from a checkout with the package installed)")
    env = {**os.environ, "TOKENSAFE_VAULT": str(home / "no-vault"), "TOKENSAFE_GUARD_KEY": str(home / "guard.key")}
    t0 = time.perf_counter()
    r = subprocess.run([exe, "audit", "--json", "--fail-on", "critical", str(root)], env=env,
                       capture_output=True)
    dt = time.perf_counter() - t0
    doc = json.loads(r.stdout)
    return dt, [(f["path"], f["line"], f["detector"], f["severity"]) for f in doc["findings"]], len(doc["errors"])


def run_detect_secrets(root: Path) -> tuple[float, list[tuple[str, int, str, str | None]]] | None:
    if not shutil.which("detect-secrets"):
        return None
    t0 = time.perf_counter()
    r = subprocess.run(["detect-secrets", "scan", "--all-files", "."], cwd=root, capture_output=True)
    dt = time.perf_counter() - t0
    doc = json.loads(r.stdout)
    return dt, [(f, h["line_number"], h["type"], None) for f, hs in doc["results"].items() for h in hs]


def run_gitleaks(root: Path) -> tuple[float, list[tuple[str, int, str, str | None]]] | None:
    if not shutil.which("gitleaks"):
        return None
    t0 = time.perf_counter()
    r = subprocess.run(["gitleaks", "detect", "--no-git", "-s", str(root), "-f", "json", "-r", "/dev/stdout",
                        "--exit-code", "0"], capture_output=True)
    dt = time.perf_counter() - t0
    return dt, [(f["File"], f["StartLine"], f["RuleID"], None) for f in json.loads(r.stdout or b"[]")]


def print_table(tool: str, rows: dict[str, Row], seconds: float, show: int) -> None:
    print(f"\n== {tool}")
    print(f"{'format':20} {'files':>5} {'MB':>6} {'plants':>6} {'recall':>7} {'FP':>5} {'FP/10MB':>8} "
          f"{'low':>4} {'med':>4} {'high':>4} {'crit':>4} {'ctx-low':>7} {'info':>5}")

    def line(name: str, r: Row, mark: str = "") -> None:
        sev = [r.fp_by_severity.get(s, 0) for s in SEV]
        if r.fp_by_severity.get("-"):
            sev = ["-"] * 4
        print(f"{name:20} {r.files:5} {r.bytes / 1e6:6.2f} {r.plants:6} "
              f"{(f'{r.recall:.3f}' if r.plants else '-'):>7} {r.false_positives:5} {r.fp_per_10mb:8.1f} "
              + " ".join(f"{s:>4}" for s in sev) + f" {r.context_low:7} {r.info:5}{mark}")
    for name, r in rows.items():
        ok = (r.recall >= 0.99) and r.fp_per_10mb < 1
        line(name, r, "" if ok else "  <")
    t = total(rows)
    line("TOTAL", t)
    print(f"{'':20} {t.bytes / 1e6 / seconds:.2f} MB/s ({seconds:.1f} s wall); '<' marks a format short of "
          "recall >= 0.99 and < 1 FP/10MB")
    if show:
        for name, r in rows.items():
            if r.missed:
                print(f"  missed in {name}: " + ", ".join(f"{k} x{n}" for k, n in r.missed.most_common(show)))
        for name, r in rows.items():
            if r.fp_by_cause:
                print(f"  FP in {name}: " + ", ".join(f"{k}->{det} x{n}" for (k, det), n in r.fp_by_cause.most_common(show)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--formats", choices=["all", "new", "auth0"], default="all")
    ap.add_argument("--workdir", help="generate here and keep it (reused if it holds a corpus)")
    ap.add_argument("--peers", action="store_true", help="also run detect-secrets and gitleaks if installed")
    ap.add_argument("--show", type=int, default=3, help="missed kinds / FP causes listed per format (0: none)")
    a = ap.parse_args()
    tmp = None
    if a.workdir:
        work = Path(a.workdir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="tokensafe-formats-")
        work = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        manifest, index = generate(work / "c", a.size_mb, a.seed, a.formats)
        root = work / "c" / "corpus"
        print(f"corpus: {manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB, {len(manifest['plants'])} plants, "
              f"{len(manifest['decoys'])} decoy lines (seed {a.seed}, --formats {a.formats}; "
              f"{time.perf_counter() - t0:.0f} s to generate)")
        dt, hits, errors = run_tokensafe(root, work)
        print_table(f"tokensafe audit ({errors} errors)", score_formats(manifest, index, root, hits), dt, a.show)
        if a.peers:
            for name, fn in (("detect-secrets 'scan --all-files'", run_detect_secrets),
                             ("gitleaks 'detect --no-git'", run_gitleaks)):
                res = fn(root)
                if res is None:
                    print(f"\n== {name}: not run (not installed)")
                    continue
                print_table(name, score_formats(manifest, index, root, res[1]), res[0], a.show)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
