"""How much does `tokensafe run` cost, and how fast does it mask?

Prints, in the same run on the same machine:
  1. start-up: median wall time of `true`, `tokensafe get tok` (unlock floor),
     `tokensafe run --no-mask -- true` and `tokensafe run -- true`; overhead = run − true
     (goal: under 150 ms).
  2. masking throughput: a child writing N MiB of log-like text (with secrets sprinkled in)
     through `tokensafe run` with 50 secrets (each in 9+ encoded forms), against the same
     child piped through `cat` (goal: at least 1/4 of cat, and above 100 MB/s).

The vault uses the OS keyring slot (a private gnome-keyring) when dbus and gnome-keyring are
installed, else a passphrase slot with the default Argon2id parameters (then the unlock
floor includes the KDF).

With `--before DIR` (a checkout of an earlier tokensafe), the start-up rows also run with
DIR's code (PYTHONPATH=DIR), in the same run, and the change is printed in per cent.

Usage: python3 bench/bench_run.py [-n 30] [--mib 1024] [--repeat 3] [--before DIR]
"""

from __future__ import annotations

import argparse
import base64
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

GEN = """import sys
b = open(sys.argv[1], 'rb').read()
w = sys.stdout.buffer
for _ in range(int(sys.argv[2])):
    w.write(b)
"""


def median_ms(argv: list[str], env: dict[str, str], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{argv!r} failed: {r.stderr.decode()[-300:]}")
    return statistics.median(times) * 1000


def wall(cmd: str, env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(["sh", "-c", cmd], env=env, check=True)
    return time.perf_counter() - t


def secrets(k: int = 50) -> dict[str, str]:
    rnd = random.Random(7)
    alpha = string.ascii_letters + string.digits + "-_."
    return {f"tok{i:02d}": "".join(rnd.choice(alpha) for _ in range(rnd.randint(24, 300))) for i in range(k)}


def block(values: list[str]) -> bytes:
    """1 MiB of log lines with a secret (raw or base64) every ~100 lines."""
    rnd = random.Random(11)
    lines, size, i = [], 0, 0
    while size < (1 << 20):
        i += 1
        extra = ""
        if i % 100 == 0:
            v = rnd.choice(values)
            extra = " auth=" + (v if i % 200 else base64.b64encode(v.encode()).decode())
        line = (f"2026-11-28T18:00:{rnd.randint(10, 59)}Z INFO id={rnd.getrandbits(64):x} "
                f"path=/api/v2/users/{rnd.getrandbits(32)} dur={rnd.randint(1, 900)}ms "
                f"data={base64.b64encode(rnd.randbytes(30)).decode()}{extra}\n")
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()[: 1 << 20]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="runs per start-up command (median reported)")
    ap.add_argument("--mib", type=int, default=1024, help="MiB the child writes (default 1 GiB)")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs per command (best kept)")
    ap.add_argument("--before", type=Path, default=None, metavar="DIR",
                    help="an earlier checkout whose start-up runs beside today's (PYTHONPATH=DIR)")
    args = ap.parse_args()
    exe = shutil.which("tokensafe")
    if not exe:
        raise SystemExit("install tokensafe first: pip install -e .")
    for tree in [Path(__file__).resolve().parents[1], *([args.before] if args.before else [])]:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "vault")],
                       check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-") as tmp, ExitStack() as stack:
        home = Path(tmp)
        import os

        env = {**os.environ, "TOKENSAFE_VAULT": str(home / "v" / "vault.tokensafe")}
        try:
            from realparts import secret_service_env

            env.update(stack.enter_context(secret_service_env(home)))
            env.pop("TOKENSAFE_PASSPHRASE", None)
            env.pop("PYTHON_KEYRING_BACKEND", None)
            env["TOKENSAFE_VAULT"] = str(home / "v" / "vault.tokensafe")
            subprocess.run([exe, "init", "--keyring", "--no-recovery", "--env", "dev"], env=env,
                           check=True, capture_output=True)
            slot = "keyring slot"
        except (RuntimeError, subprocess.CalledProcessError):
            env.update(TOKENSAFE_PASSPHRASE="bench passphrase",
                       PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
            subprocess.run([exe, "init", "--no-keyring", "--env", "dev"], env=env, check=True, capture_output=True)
            slot = "passphrase slot, default Argon2id"
        vals = secrets()
        for name, value in vals.items():
            subprocess.run([exe, "set", name], input=value.encode(), env=env, check=True, capture_output=True)

        print(f"1. start-up, median of {args.n} runs each ({slot}, 50 entries):")
        rows = [("true", ["true"]), ("tokensafe get tok00", [exe, "get", "tok00"]),
                ("tokensafe run --no-mask -- true", [exe, "run", "--no-mask", "--", "true"]),
                ("tokensafe run -- true", [exe, "run", "--", "true"])]
        res = {}
        before_env = {**env, "PYTHONPATH": str(args.before.resolve())} if args.before else None
        for label, argv in rows:
            res[label] = median_ms(argv, env, args.n)
            if before_env is None or argv[0] != exe:
                print(f"   {label:<36} {res[label]:8.1f} ms")
                continue
            was = median_ms(argv, before_env, args.n)
            print(f"   {label:<36} {res[label]:8.1f} ms   (--before: {was:6.1f} ms, "
                  f"{(res[label] / was - 1) * 100:+5.1f} %; goal within 10 %)")
        print(f"   overhead of `run -- true` over `true`: {res['tokensafe run -- true'] - res['true']:.1f} ms "
              f"(goal < 150 ms); over `get`: {res['tokensafe run -- true'] - res['tokensafe get tok00']:.1f} ms")

        blk = home / "block"
        blk.write_bytes(block(list(vals.values())))
        gen = home / "gen.py"
        gen.write_text(GEN)
        child = f"{sys.executable} {gen} {blk} {args.mib}"
        size = args.mib * (1 << 20)
        print(f"2. masking throughput, a child writing {args.mib} MiB, 50 secrets "
              f"(best of {args.repeat}, interleaved: the machine may be shared):")
        t_cat = t_run = t_raw = float("inf")
        for _ in range(args.repeat):
            t_cat = min(t_cat, wall(f"{child} | cat > /dev/null", env))
            t_run = min(t_run, wall(f"{exe} run -- {child} > /dev/null", env))
            t_raw = min(t_raw, wall(f"{child} > /dev/null", env))
        for label, t in (("child > /dev/null (no pipe)", t_raw), ("child | cat", t_cat),
                         ("tokensafe run -- child", t_run)):
            print(f"   {label:<36} {t:6.2f} s  {size / t / 1e6:8.0f} MB/s")
        print(f"   run vs cat: {t_cat / t_run:.2f}x of cat's throughput (goal >= 0.25, and > 100 MB/s)")
        out = subprocess.run(f"{exe} run -- {sys.executable} {gen} {blk} 1", shell=True, env=env,
                             capture_output=True, check=True).stdout
        leaked = sum(v.encode() in out for v in vals.values())
        print(f"   check: {out.count(b'<redacted:')} redactions in 1 MiB, {leaked} values left in clear")


if __name__ == "__main__":
    main()
