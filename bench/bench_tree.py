#!/usr/bin/env python3
"""Guard throughput on a tree of many small files (and on a few big ones), beside rg and cat.

    python bench/bench_tree.py [--files 5000] [--mean-kb 8] [--big 4 --big-mb 25] [--runs 3]
                               [--before DIR] [--workers N] [--workdir DIR]

Writes, under --workdir (a temporary folder by default, never inside the repository):
  small/  --files files averaging --mean-kb KB: source code, JSON (Postman exports), YAML,
          .env files, minified JS, made by tests/corpus/gen.py's generators, a few of them
          holding planted tokens so the findings have something to agree on;
  big/    --big files of --big-mb MB each (logs and HAR of the same generator).
Then times, on each tree, in turns (A B C … A B C …) so a shared machine's drift hits all alike:
  cat           every file to /dev/null (`find -print0 | xargs -0 cat`): the read limit
  rg            `rg -c` with a comparable pattern set (eyJ, bearer, password|secret|token …)
  tokensafe     `tokensafe audit --json` of this checkout (PYTHONPATH set to it)
  before        the same command of another checkout (--before DIR), e.g. /work/main
and prints the median MB/s (wall) and MB per CPU-second of the whole process tree, peak memory,
and whether this checkout's findings are identical to --before's. Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
from bench.bench_audit import CPU_SECONDS, run_measured  # noqa: E402

GEN = HERE / "tests" / "corpus" / "gen.py"
RG_PATTERNS = ["eyJ", r"(?i)bearer\s", r"(?i)(password|passwd|secret|token|api[_-]?key)",
               "-----BEGIN", r"(?i)authorization", r"[a-z]+://[^/\s:@]+:[^/\s@]+@"]
# (generator name, share of files, file name pattern)
SMALL_MIX = (("source", 0.45, None), ("postman_env", 0.12, ".postman_environment.json"),
             ("postman_collection", 0.13, ".postman_collection.json"), ("yaml_config", 0.15, ".yaml"),
             ("dotenv", 0.08, ".env"), ("minjs", 0.07, ".min.js"))
KINDS = ("jwt_auth0_mgmt", "jwt_access", "bearer_opaque", "client_secret64")


def _gen_module():
    spec = importlib.util.spec_from_file_location("tokensafe_corpus_gen", GEN)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_small(root: Path, files: int, mean_kb: float, seed: int = 7) -> int:
    """`files` files, sizes log-normal around `mean_kb` KB, in ~40 folders of a few levels."""
    gen = _gen_module()
    g = gen.G(seed)
    mean = mean_kb * 1024
    total = 0
    kinds = [k for k, _, _ in SMALL_MIX]
    weights = [w for _, w, _ in SMALL_MIX]
    ext = {k: e for k, _, e in SMALL_MIX}
    for i in range(files):
        kind = g.r.choices(kinds, weights)[0]
        target = max(300, int(g.r.lognormvariate(0, 0.7) * mean / 1.4))  # generators overshoot their target a little
        plants = [g.r.choice(KINDS)] if i % 200 == 7 else []
        res = getattr(gen, kind)(g, target, plants)
        data = res[0] if isinstance(res[0], bytes) else res[0].encode()
        name = f"{g.ident(2)}_{i}.{res[3]}" if kind == "source" else (
            ".env" if kind == "dotenv" else f"{g.ident(2)}_{i}{ext[kind]}")
        folder = root / f"proj{i % 40:02d}" / g.r.choice(["src", "lib", "config", "test", "web/dist"])
        if kind == "dotenv":
            folder = folder / f"svc{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        total += len(data)
    return total


def make_big(root: Path, count: int, mb: float, seed: int = 8) -> int:
    gen = _gen_module()
    g = gen.G(seed)
    root.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(count):
        kind, ext = (("logfile", ".log"), ("har", ".har"))[i % 2]
        res = getattr(gen, kind)(g, int(mb * 1e6), [KINDS[i % len(KINDS)]])
        data = res[0] if isinstance(res[0], bytes) else res[0].encode()
        (root / f"big{i}{ext}").write_bytes(data)
        total += len(data)
    return total


def tree_bytes(root: Path) -> tuple[int, int]:
    n = size = 0
    for d, _, fs in os.walk(root):
        for f in fs:
            n += 1
            size += os.path.getsize(os.path.join(d, f))
    return n, size


def tokensafe_argv(checkout: Path, root: Path, workers: int | None, pycache: Path) -> tuple[list[str], dict]:
    """The checkout's CLI, with compiled bytecode kept (outside the checkout) as an installed
    package has it: without, every run would compile the modules again (~40 ms)."""
    code = "import sys; from vault.cli import main; sys.argv[0] = 'tokensafe'; main()"
    argv = [sys.executable, "-P", "-c", code, "audit", "--json", str(root)]  # -P: not the cwd's vault
    if workers:
        argv[6:6] = ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(checkout), PYTHONPYCACHEPREFIX=str(pycache))
    return argv, env


def finding_set(stdout: bytes) -> set[tuple]:
    doc = json.loads(stdout)
    return {(f["path"], f["line"], f["column"], f["detector"], f["severity"], f["fingerprint"])
            for f in doc["findings"]}


def bench_tree(label: str, root: Path, tools: dict, runs: int) -> None:
    nfiles, nbytes = tree_bytes(root)
    mb = nbytes / 1e6
    print(f"\n{label}: {nfiles} files, {mb:.1f} MB (mean {nbytes / max(nfiles, 1) / 1024:.1f} KB); "
          f"load average {os.getloadavg()[0]:.1f}; {len(os.sched_getaffinity(0))} cores")
    subprocess.run(["sh", "-c", f"find '{root}' -type f -print0 | xargs -0 cat > /dev/null"])  # warm cache
    walls: dict[str, list[float]] = {t: [] for t in tools}
    cpus: dict[str, list[float]] = {t: [] for t in tools}
    peaks: dict[str, int] = {t: 0 for t in tools}
    outs: dict[str, bytes] = {}
    for i in range(runs + 1):  # a first round unmeasured: caches warm, bytecode written
        for name, (argv, env) in tools.items():
            if i == 0:
                subprocess.run(argv, env=env, capture_output=True)
                continue
            dt, peak, r = run_measured(argv, env=env)
            walls[name].append(dt)
            cpus[name].append(CPU_SECONDS[0])
            peaks[name] = max(peaks[name], peak)
            outs[name] = r.stdout
            if r.returncode not in (0, 1) and name.startswith(("tokensafe", "before")):
                print(f"  {name}: exit {r.returncode}: {r.stderr.decode(errors='replace')[-300:]}")
    print(f"{'tool':12} {'MB/s':>8} {'MB/cpu-s':>9} {'peak MB':>8} {'median s':>9}  (median of {runs})")
    for name in tools:
        w = statistics.median(walls[name])
        c = statistics.median(cpus[name])
        peak = f"{peaks[name] / 1024:8.0f}" if peaks[name] else "       -"
        print(f"{name:12} {mb / w:8.1f} {mb / c if c else 0:9.1f} {peak} {w:9.2f}")
    if "rg" in walls:
        ratio = statistics.median(walls["tokensafe"]) / statistics.median(walls["rg"])
        print(f"tokensafe / rg wall time: {ratio:.2f}x")
    for name in ("tokensafe", "before"):
        if name in outs:
            try:
                found = finding_set(outs[name])
            except ValueError:
                print(f"{name}: output is not JSON")
                continue
            digest = hashlib.sha256(repr(sorted(found)).encode()).hexdigest()[:12]
            print(f"{name}: {len(found)} findings (digest {digest})")
    if "before" in outs and "tokensafe" in outs:
        try:
            same = finding_set(outs["tokensafe"]) == finding_set(outs["before"])
        except ValueError:
            same = False
        print(f"findings identical to --before: {'yes' if same else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--mean-kb", type=float, default=8)
    ap.add_argument("--big", type=int, default=4, help="number of big files (0: skip)")
    ap.add_argument("--big-mb", type=float, default=25)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="--workers for tokensafe (default: all cores)")
    ap.add_argument("--before", type=Path, default=None, help="another checkout to compare with")
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="tokensafe-tree-"))
    small = work / f"small-{a.files}-{a.mean_kb:g}"
    if not small.exists():
        t = time.perf_counter()
        tmp = small.with_name(small.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        make_small(tmp, a.files, a.mean_kb)
        tmp.rename(small)
        print(f"small tree written in {time.perf_counter() - t:.0f} s at {small}")
    big = work / f"big-{a.big}-{a.big_mb:g}"
    if a.big and not big.exists():
        tmp = big.with_name(big.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        make_big(tmp, a.big, a.big_mb)
        tmp.rename(big)
    keydir = Path(tempfile.mkdtemp(prefix="tokensafe-tree-key-"))
    tok_env = {"TOKENSAFE_VAULT": str(keydir / "no-vault"),
               "TOKENSAFE_GUARD_KEY": str(keydir / "guard.key")}  # one key: same fingerprints
    base_env = {**os.environ, **tok_env}
    for label, root in (("many small files", small), ("a few big files", big if a.big else None)):
        if root is None:
            continue
        tools: dict[str, tuple[list[str], dict]] = {
            "cat": (["sh", "-c", f"find '{root}' -type f -print0 | xargs -0 cat > /dev/null"], base_env)}
        if shutil.which("rg"):
            rg = ["rg", "-c", "--no-messages", "-uu"]
            for p in RG_PATTERNS:
                rg += ["-e", p]
            tools["rg"] = ([*rg, str(root)], base_env)
        else:
            print("rg not installed: skipped")
        argv, env = tokensafe_argv(HERE, root, a.workers, keydir / "pycache")
        tools["tokensafe"] = (argv, {**env, **tok_env})
        if a.before:
            argv, env = tokensafe_argv(a.before.resolve(), root, a.workers, keydir / "pycache")
            tools["before"] = (argv, {**env, **tok_env})
        bench_tree(label, root, tools, a.runs)
    shutil.rmtree(keydir, ignore_errors=True)
    if a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
