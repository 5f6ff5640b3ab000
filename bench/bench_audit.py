#!/usr/bin/env python3
"""Sync-guard benchmark: throughput, peak memory, recall and false positives, side by side.

    python bench/bench_audit.py [--size-mb 200] [--workdir /tmp/tokensafe-bench]
                                [--ds-size-mb 20] [--watch-files 100]

Tools, on the same generated corpus (tests/corpus/gen.py, written to --workdir, never inside the repo):
  cat              read limit (all files to /dev/null)
  tokensafe audit  the installed command, all cores
  detect-secrets   `detect-secrets scan --all-files` (pip); run on a smaller corpus of the same
                   generator because it manages ~0.3 MB/s (figures are per MB, so comparable)
  gitleaks         only if a `gitleaks` binary is on PATH (not in PyPI/Debian/npm as the real tool)
Then watch latency: time from a file's close to its finding on `tokensafe watch --json` stdout.
Then history (`--git-commits N`, 0 skips; `--git-only` runs just this): a repository of N
commits built with `git fast-import` (5 files of ~4 KB changed per commit, a token planted
every 20th commit and deleted in the next), scanned by `tokensafe audit --git`, beside
`git log -p --all > /dev/null` (git reading the same history: a floor, not a scanner).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.guard.corpus import generate, score  # noqa: E402


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc), in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


CPU_SECONDS = [0.0]  # CPU time (user+sys) of the last measured run's whole process tree


def run_measured(argv: list[str], **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time, peak summed RSS of the process tree (KiB), and the result."""
    import resource

    peak = [0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(p.pid))
            done.wait(0.02)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = p.communicate()
    dt = time.perf_counter() - t0
    done.set()
    th.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS[0] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return dt, peak[0], subprocess.CompletedProcess(argv, p.returncode, out, err)


def row(name: str, mb: float, dt: float, peak_kb: int | None, found: str, fps: str, note: str = "") -> None:
    mem = f"{peak_kb / 1024:7.0f}" if peak_kb else "      -"
    cpu = f"{mb / CPU_SECONDS[0]:9.1f}" if CPU_SECONDS[0] > 0 else "        -"
    print(f"{name:16} {mb / dt:9.1f} {cpu} {mem} {found:>9} {fps:>16}  {note}")


def bench_corpus(corpus: Path, manifest: dict, ds_corpus: Path | None, ds_manifest: dict | None) -> None:
    root = corpus / "corpus"
    mb = manifest["bytes"] / 1e6
    files = [str(p) for p in root.rglob("*") if p.is_file()]
    print(f"\ncorpus: {mb:.1f} MB, {len(files)} files, {len(manifest['plants'])} planted tokens; "
          f"{os.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.1f} (MB/s is wall-clock on a shared machine; "
          "MB/cpu-s, per CPU-second of the whole process tree, is what load does not change)")
    print(f"{'tool':16} {'MB/s':>9} {'MB/cpu-s':>9} {'peak MB':>7} {'recall':>9} {'false pos.':>16}")
    # cat: the read limit (page cache warm after generation and a first pass)
    subprocess.run(f"find {root} -type f -print0 | xargs -0 cat > /dev/null", shell=True)
    dt, _, _ = run_measured(["sh", "-c", f"find {root} -type f -print0 | xargs -0 cat > /dev/null"])
    row("cat", mb, dt, None, "-", "-")

    exe = shutil.which("tokensafe")
    env = {**os.environ, "TOKENSAFE_VAULT": str(corpus / "no-vault"),
           "TOKENSAFE_GUARD_KEY": str(corpus / "guard.key")}
    for label, extra in (("tokensafe audit", []), ("  (1 worker)", ["--workers", "1"])):
        dt, peak, r = run_measured([exe, "audit", "--json", *extra, str(root)], env=env)
        doc = json.loads(r.stdout)
        s = score(manifest, root, [(f["path"], f["line"], f["detector"]) for f in doc["findings"]])
        per10 = s.false_positives / (mb / 10)
        row(label, mb, dt, peak, f"{s.found}/{s.plants}", f"{s.false_positives} ({per10:.2f}/10MB)",
            f"{len(doc['errors'])} errors")
        if label == "tokensafe audit" and s.missed:
            for m in s.missed[:10]:
                print(f"    missed: {m['kind']} in {m['ftype']} {m['file']}:{m['line']}")
        if label == "tokensafe audit" and s.fps:
            for f in s.fps[:10]:
                print(f"    false positive: {f}")

    if ds_corpus is not None and ds_manifest is not None and shutil.which("detect-secrets"):
        droot = ds_corpus / "corpus"
        dmb = ds_manifest["bytes"] / 1e6
        dt, peak, r = run_measured(["detect-secrets", "scan", "--all-files", "."], cwd=droot)
        doc = json.loads(r.stdout)
        hits = [(f, h["line_number"], h["type"]) for f, hs in doc["results"].items() for h in hs]
        s = score(ds_manifest, droot, hits)
        row("detect-secrets", dmb, dt, peak, f"{s.found}/{s.plants}",
            f"{s.false_positives} ({s.false_positives / (dmb / 10):.0f}/10MB)", f"on {dmb:.0f} MB")
        exe_env = {**env}
        dt, peak, r = run_measured([exe, "audit", "--json", str(droot)], env=exe_env)
        d2 = json.loads(r.stdout)
        s = score(ds_manifest, droot, [(f["path"], f["line"], f["detector"]) for f in d2["findings"]])
        row("tokensafe (same)", dmb, dt, peak, f"{s.found}/{s.plants}",
            f"{s.false_positives} ({s.false_positives / (dmb / 10):.2f}/10MB)", f"on {dmb:.0f} MB")
    if shutil.which("gitleaks"):
        dt, peak, r = run_measured(["gitleaks", "detect", "--no-git", "-s", str(root), "-f", "json",
                                    "-r", "/dev/stdout", "--exit-code", "0"])
        doc = json.loads(r.stdout or b"[]")
        s = score(manifest, root, [(f["File"], f["StartLine"], f["RuleID"]) for f in doc])
        row("gitleaks", mb, dt, peak, f"{s.found}/{s.plants}", str(s.false_positives))
    else:
        print("gitleaks         not run: no gitleaks binary (not packaged in PyPI/Debian/npm here)")


def bench_watch(n: int) -> None:
    exe = shutil.which("tokensafe")
    with tempfile.TemporaryDirectory() as d:
        watched = Path(d) / "w"
        watched.mkdir()
        env = {**os.environ, "TOKENSAFE_VAULT": str(Path(d) / "none"),
               "TOKENSAFE_GUARD_KEY": str(Path(d) / "guard.key")}
        p = subprocess.Popen([exe, "watch", "--json", "--no-notify", str(watched)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stderr is not None and p.stdout is not None
        p.stderr.readline()  # "watching …"
        lat = []
        import secrets
        for i in range(n):
            tok = secrets.token_urlsafe(30).replace("-", "x").replace("_", "y") + "9Z"
            path = watched / f"f{i}.env"
            with open(path, "w") as f:
                f.write(f"API_TOKEN={tok}\n")
            t_close = time.perf_counter()
            line = p.stdout.readline()
            lat.append(time.perf_counter() - t_close)
            assert json.loads(line)["path"].endswith(f"f{i}.env")
        p.terminate()
        p.wait(10)
        lat.sort()
        print(f"\nwatch latency (close -> finding printed), {n} files: median {statistics.median(lat) * 1000:.0f} ms, "
              f"p90 {lat[int(n * 0.9) - 1] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
        # Idle CPU: a quiet watch for 3 s
        p = subprocess.Popen([exe, "watch", "--no-notify", str(watched)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        p.stderr.readline()
        t0 = os.times()
        time.sleep(0.2)
        with open(f"/proc/{p.pid}/stat") as f:
            a = f.read().split()
        time.sleep(3)
        with open(f"/proc/{p.pid}/stat") as f:
            b = f.read().split()
        ticks = (int(b[13]) + int(b[14])) - (int(a[13]) + int(a[14]))
        print(f"watch idle CPU over 3 s: {ticks / os.sysconf('SC_CLK_TCK') * 1000:.0f} ms")
        del t0
        p.terminate()
        p.wait(10)


def _history_repo(root: Path, commits: int) -> tuple[int, int]:
    """A repository of `commits` commits; (planted tokens, unique blobs)."""
    import random

    rnd = random.Random(7)
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    if root.exists():
        shutil.rmtree(root)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    out = bytearray()
    planted = 0
    blobs: set[bytes] = set()
    for i in range(1, commits + 1):
        out += f"commit refs/heads/main\nmark :{i}\ncommitter b <b@e> {1_600_000_000 + i} +0000\n".encode()
        out += b"data 4\nmsg\n" + (f"from :{i - 1}\n".encode() if i > 1 else b"")
        for _ in range(5):
            n = rnd.randrange(200)
            body = "".join(f"line {k} of module {n}: value = {rnd.random():.12f}  # commit {i}\n"
                           for k in range(64)).encode()
            blobs.add(body)
            out += f"M 100644 inline src/m{n}.py\ndata {len(body)}\n".encode() + body + b"\n"
        if i % 20 == 0:
            tok = "ts" + "".join(rnd.choice(alnum) for _ in range(38))
            body = f"API_TOKEN={tok}\n".encode()
            blobs.add(body)
            planted += 1
            out += f"M 100644 inline secrets/{i}.env\ndata {len(body)}\n".encode() + body + b"\n"
        elif i % 20 == 1 and i > 1:
            out += f"D secrets/{i - 1}.env\n".encode()
        out += b"\n"
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=bytes(out), check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)
    return planted, len(blobs)


def bench_git(work: Path, commits: int) -> None:
    repo = work / f"history-{commits}"
    t = time.perf_counter()
    planted, nblobs = _history_repo(repo, commits)
    print(f"\nhistory: {commits} commits, {nblobs} unique blobs, {planted} planted tokens "
          f"(each deleted in the next commit, but the last), built in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"], stdout=subprocess.DEVNULL, check=True)
    dt = time.perf_counter() - t
    print(f"{'git log -p':24} {dt:6.2f} s")
    dt, peak, r = run_measured(["tokensafe", "audit", "--git", "--json", str(repo)])
    doc = json.loads(r.stdout)
    st = doc["stats"]
    gone = sum(1 for f in doc["findings"] if f["facts"].get("in_worktree") is False)
    print(f"{'tokensafe audit --git':24} {dt:6.2f} s  {st['files'] / dt:8.0f} blobs/s  "
          f"{st['bytes'] / 1e6 / dt:6.1f} MB/s  peak {peak / 1024:.0f} MB  "
          f"found {len(doc['findings'])}/{planted} ({gone} not in the work tree)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--ds-size-mb", type=float, default=20, help="corpus size for detect-secrets (0: skip)")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "tokensafe-bench"))
    ap.add_argument("--watch-files", type=int, default=100)
    ap.add_argument("--git-commits", type=int, default=2000, help="history bench size (0: skip)")
    ap.add_argument("--git-only", action="store_true", help="run only the history bench")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if a.git_only:
        bench_git(work, a.git_commits)
        return
    big = work / f"corpus-{a.size_mb:g}"
    t = time.perf_counter()
    manifest = generate(big, a.size_mb)
    print(f"corpus ready in {time.perf_counter() - t:.0f} s at {big}")
    ds, dsm = None, None
    if a.ds_size_mb > 0:
        ds = work / f"corpus-ds-{a.ds_size_mb:g}"
        dsm = generate(ds, a.ds_size_mb, seed=2, plant_rate=0.02)
    bench_corpus(big, manifest, ds, dsm)
    if a.watch_files:
        bench_watch(a.watch_files)
    if a.git_commits:
        bench_git(work, a.git_commits)


if __name__ == "__main__":
    main()
