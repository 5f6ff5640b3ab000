#!/usr/bin/env python3
"""False positives on real code that holds no live token, beside detect-secrets and gitleaks.

    python bench/bench_realworld_fp.py [--tree NAME=PATH ...] [--sample-mb 10]
                                       [--gitleaks PATH] [--top 12] [--json OUT]

Trees (default): this Python's `site-packages` and newman's `node_modules` (`npm root -g`).
Every finding there is a false alarm by assumption: published packages carry no live tokens
(what they carry is test keys, documentation examples and code that names a password).

For each tree it prints findings per 10 MB, by severity where the tool has one, for
  tokensafe        `audit --json` of this checkout (PYTHONPATH set to it), on the whole tree
  gitleaks         `gitleaks dir` with its default rules, if a `gitleaks` binary is found
                   (PATH or --gitleaks); its default configuration allowlists `node_modules/`,
                   `site-packages`, `lib/pythonX.Y/` and `*.dist-info` paths, so it runs with a
                   copy of that configuration (read out of the binary) without those path rules
  detect-secrets   `detect-secrets scan --all-files`, if installed; at ~0.3-1 MB/s it runs on a
                   sample of the tree (whole packages picked evenly by name, --sample-mb), and
                   the other two tools are run on the same sample for a like-for-like row
then tokensafe's top detectors and top paths, so one can see what to fix. A tool that is not
installed is skipped and said so; nothing is installed here. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SEVERITIES = ("low", "medium", "high", "critical")
# Paths gitleaks's default allowlist would skip; the copied configuration drops the rules that
# match any of them (found by matching, not by name, so a newer gitleaks is handled alike).
TREE_PATHS = ("lib/python3.11/site-packages/pkg/mod.py", "x/node_modules/pkg/index.js",
              "site-packages/pkg-1.0.dist-info/RECORD", "venv/lib/python3.11/site-packages/a.py")


def default_trees() -> list[tuple[str, Path]]:
    import site

    trees = [("site-packages", Path(site.getsitepackages()[0]))]
    npm = shutil.which("npm")
    root = None
    if npm:
        r = subprocess.run([npm, "root", "-g"], capture_output=True, text=True)
        root = Path(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else None
    newman = (root or Path("/usr/lib/node_modules")) / "newman"
    trees.append(("newman node_modules", newman))
    return trees


def tree_size(root: Path) -> tuple[int, int]:
    n = size = 0
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                n += 1
                size += os.path.getsize(p)
    return n, size


def sample(root: Path, budget: int, out: Path) -> Path:
    """Copy whole packages (folders, split further while one is over an eighth of the budget)
    picked evenly by name until `budget` bytes: detect-secrets cannot take the whole tree."""
    units: list[tuple[Path, int]] = []

    def split(d: Path) -> None:
        for e in sorted(d.iterdir()):
            if e.is_symlink():
                continue
            size = tree_size(e)[1] if e.is_dir() else e.stat().st_size
            if e.is_dir() and size > budget / 8:
                split(e)
            else:
                units.append((e, size))
    split(root)
    total = sum(s for _, s in units)
    stride = max(1, round(total / budget))
    taken = 0
    for start in range(stride):  # evenly spread, then fill up from the next offsets
        for e, size in units[start::stride]:
            if taken + size > budget:
                continue
            dest = out / e.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if e.is_dir():
                shutil.copytree(e, dest, symlinks=True)
            else:
                shutil.copy2(e, dest)
            taken += size
        if taken > budget * 0.9:
            break
    return out


def timed(argv: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, **kw)
    return time.perf_counter() - t, r


def run_tokensafe(root: Path, keydir: Path) -> tuple[float, list[dict], dict]:
    code = "import sys; from vault.cli import main; sys.argv[0] = 'tokensafe'; main()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(HERE), PYTHONPYCACHEPREFIX=str(keydir / "pycache"),
               TOKENSAFE_VAULT=str(keydir / "no-vault"), TOKENSAFE_GUARD_KEY=str(keydir / "guard.key"))
    dt, r = timed([sys.executable, "-P", "-c", code, "audit", "--json", str(root)], env=env)  # -P: no cwd
    doc = json.loads(r.stdout)
    return dt, doc["findings"], doc["stats"]


def gitleaks_config(exe: str, out: Path) -> tuple[Path, list[str]] | None:
    """The binary's own default configuration, less the allowlist rules that skip these trees."""
    data = Path(exe).read_bytes()
    at = data.find(b'title = "gitleaks config"')
    if at < 0:
        return None
    start = data.rfind(b"\x00", 0, at) + 1
    end = data.find(b"\x00", at)
    text = data[start:end].decode("utf-8", "replace")
    text = text[text.find("#"):] if "#" in text[:400] else text[text.find("title"):]
    dropped: list[str] = []
    kept_lines: list[str] = []
    in_paths = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("paths = ["):
            in_paths = True
        elif in_paths and s == "]":
            in_paths = False
        elif in_paths and s.startswith(("'''", '"')):
            pat = s.rstrip(",").strip("'\"")
            try:
                hit = any(re.search(pat, p) for p in TREE_PATHS)
            except re.error:
                hit = False
            if hit:
                dropped.append(pat)
                continue
        kept_lines.append(line)
    out.write_text("\n".join(kept_lines) + "\n")
    return out, dropped


def run_gitleaks(exe: str, cfg: Path, root: Path, tmp: Path) -> tuple[float, list[dict]]:
    report = tmp / "gitleaks.json"
    dt, r = timed([exe, "dir", "--no-banner", "--log-level", "error", "-c", str(cfg), "-f", "json",
                   "-r", str(report), "--exit-code", "0", "--redact", str(root)])
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace")[-400:])
    return dt, json.loads(report.read_text() or "[]")


def run_detect_secrets(root: Path) -> tuple[float, list[tuple[str, int, str]]]:
    dt, r = timed(["detect-secrets", "scan", "--all-files", "."], cwd=root)
    doc = json.loads(r.stdout)
    return dt, [(f, h["line_number"], h["type"]) for f, hs in doc["results"].items() for h in hs]


def per10(n: int, nbytes: int) -> str:
    return f"{n / (nbytes / 1e7):8.2f}" if nbytes else "       -"


def row(tool: str, scope: str, n: int, nbytes: int, dt: float, sev: Counter | None, note: str = "") -> None:
    sevs = " ".join(f"{sev.get(s, 0):>5}" for s in SEVERITIES) if sev is not None else \
        "    -     -     -     -"
    print(f"  {tool:15} {scope:7} {nbytes / 1e6:8.1f} {n:>8} {per10(n, nbytes)} {sevs} {dt:7.1f}  {note}")


def header() -> None:
    print(f"  {'tool':15} {'on':7} {'MB':>8} {'findings':>8} {'per 10MB':>8} "
          + " ".join(f"{s[:5]:>5}" for s in SEVERITIES) + f" {'s':>7}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", default=[], help="NAME=PATH (repeatable)")
    ap.add_argument("--sample-mb", type=float, default=10, help="detect-secrets sample size per tree")
    ap.add_argument("--gitleaks", default=shutil.which("gitleaks"), help="a gitleaks binary")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    a = ap.parse_args()
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1])) for t in a.tree] or default_trees()
    work = Path(tempfile.mkdtemp(prefix="tokensafe-fp-"))
    figures: dict = {}
    try:
        gl = None
        if a.gitleaks:
            got = gitleaks_config(a.gitleaks, work / "gitleaks.toml")
            if got is None:
                print(f"gitleaks at {a.gitleaks}: no default configuration found in it; skipped")
            else:
                gl = got[0]
                v = subprocess.run([a.gitleaks, "version"], capture_output=True, text=True).stdout.strip()
                print(f"gitleaks {v}: default rules, {len(got[1])} allowlist path rules removed: "
                      + "; ".join(got[1]))
        else:
            print("gitleaks: not installed (no binary on PATH, none given with --gitleaks): skipped")
        ds = shutil.which("detect-secrets")
        if ds:
            v = subprocess.run(["detect-secrets", "--version"], capture_output=True, text=True).stdout.strip()
            print(f"detect-secrets {v}: `scan --all-files`, default plugins and filters")
        else:
            print("detect-secrets: not installed: skipped")
        for name, root in trees:
            if not root.is_dir():
                print(f"\n{name}: {root} not found: skipped")
                continue
            nfiles, nbytes = tree_size(root)
            print(f"\n{name}: {root} ({nfiles} files, {nbytes / 1e6:.1f} MB)")
            header()
            fig = figures[name] = {"path": str(root), "files": nfiles, "bytes": nbytes}
            dt, found, stats = run_tokensafe(root, work)
            sev = Counter(f["severity"] for f in found)
            row("tokensafe", "all", len(found), nbytes, dt, sev,
                f"{stats['files']} files read, {stats.get('too_large', 0)} over the size cap")
            fig["tokensafe"] = {"findings": len(found), "severity": dict(sev), "seconds": dt}
            if gl is not None:
                dt, hits = run_gitleaks(a.gitleaks, gl, root, work)
                row("gitleaks", "all", len(hits), nbytes, dt, None,
                    "rules: " + ", ".join(f"{k} {n}" for k, n in Counter(h["RuleID"] for h in hits).most_common(4)))
                fig["gitleaks"] = {"findings": len(hits), "seconds": dt}
            if ds:
                if nbytes > a.sample_mb * 1e6:
                    sroot = sample(root, int(a.sample_mb * 1e6), work / f"sample-{len(figures)}" / root.name)
                    _, sbytes = tree_size(sroot)
                    dt, sfound, _ = run_tokensafe(sroot, work)
                    row("tokensafe", "sample", len(sfound), sbytes, dt,
                        Counter(f["severity"] for f in sfound))
                    if gl is not None:
                        dt, shits = run_gitleaks(a.gitleaks, gl, sroot, work)
                        row("gitleaks", "sample", len(shits), sbytes, dt, None)
                else:
                    sroot, sbytes = root, nbytes
                dt, dhits = run_detect_secrets(sroot)
                row("detect-secrets", "sample" if sroot != root else "all", len(dhits), sbytes, dt, None,
                    "types: " + ", ".join(f"{k} {n}" for k, n in Counter(h[2] for h in dhits).most_common(4)))
                fig["detect-secrets"] = {"findings": len(dhits), "bytes": sbytes, "seconds": dt}
                if sroot != root:
                    shutil.rmtree(sroot.parent, ignore_errors=True)
            if found:
                print(f"  tokensafe's top detectors ({name}):")
                by_det = Counter((f["detector"], f["severity"]) for f in found)
                for (det, s), n in by_det.most_common(a.top):
                    print(f"    {n:5}  {det} ({s})")
                print(f"  tokensafe's top files ({name}), high and critical first:")
                rank = {s: i for i, s in enumerate(SEVERITIES)}
                by_path = Counter(os.path.relpath(f["path"], root) for f in found)
                worst = {}
                for f in found:
                    p = os.path.relpath(f["path"], root)
                    worst[p] = max(worst.get(p, 0), rank[f["severity"]])
                for p, n in sorted(by_path.items(), key=lambda kv: (-worst[kv[0]], -kv[1], kv[0]))[:a.top]:
                    dets = Counter(f["detector"] for f in found if os.path.relpath(f["path"], root) == p)
                    print(f"    {n:5}  {SEVERITIES[worst[p]]:8} {p}  ({', '.join(dets)})")
        if a.json:
            a.json.write_text(json.dumps(figures, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
