"""How fast is `tokensafe get NAME | cat` with the keyring slot, next to its peers?

Prints the median wall time over N runs of, in the same run:
  - `python3 -c pass | cat`          the interpreter's floor on this machine
  - `tokensafe get tok | cat`        keyring slot (real gnome-keyring in a private D-Bus)
  - `secret-tool lookup … | cat`     libsecret's C client reading one item (if installed)
  - `pass show tok | cat`            Debian's `pass` with a throwaway GnuPG key (if installed)
and the Argon2id unlock time with the default parameters (t=3, p=4, 64 MiB).

With `--before DIR` (a checkout of an earlier tokensafe, e.g. `git worktree add /tmp/before
HEAD~5`), `tokensafe get` also runs with DIR's code (PYTHONPATH=DIR), interleaved with today's,
and the two are printed side by side. DIR's `get` reads a vault made by DIR's own code (an
older tokensafe may not read today's format version), holding the same value.

Usage: python3 bench/bench_get.py [-n 40] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from realparts import secret_service_daemons  # noqa: E402

SECRET = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"


def median_ms(cmd: str, env: dict[str, str], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{cmd!r} failed: {r.stderr.decode()[-300:]}")
    return statistics.median(times) * 1000


def setup_pass(home: Path, env: dict[str, str]) -> bool:
    if not (shutil.which("pass") and shutil.which("gpg")):
        return False
    env["GNUPGHOME"] = str(home / "gnupg")
    env["PASSWORD_STORE_DIR"] = str(home / "password-store")
    Path(env["GNUPGHOME"]).mkdir(mode=0o700)
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "bench@tokensafe.invalid",
                    "default", "default", "never"], env=env, capture_output=True, check=True)
    subprocess.run(["pass", "init", "bench@tokensafe.invalid"], env=env, capture_output=True, check=True)
    subprocess.run(["pass", "insert", "-e", "tok"], input=SECRET.encode(), env=env,
                   capture_output=True, check=True)
    return True


def argon2_default_ms() -> float:
    from vault import crypto

    times = []
    for _ in range(3):
        t = time.perf_counter()
        crypto.derive_passphrase_key("bench passphrase", b"0123456789abcdef", crypto.DEFAULT_KDF)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=40, help="runs per command (median reported)")
    ap.add_argument("--before", type=Path, default=None, metavar="DIR",
                    help="an earlier checkout whose `get` runs beside today's (PYTHONPATH=DIR)")
    args = ap.parse_args()
    n = args.n
    exe = shutil.which("tokensafe")
    if not exe:
        raise SystemExit("install tokensafe first: pip install -e .")
    # Byte-compile once, as an installed wheel would be: start-up must not pay for compiling.
    for tree in [Path(__file__).resolve().parents[1], *([args.before] if args.before else [])]:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "vault")],
                       check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-") as tmp:
        home = Path(tmp)
        with secret_service_daemons(home) as daemons:
            env = {k: v for k, v in os.environ.items()
                   if k not in ("TOKENSAFE_PASSPHRASE", "PYTHON_KEYRING_BACKEND")}
            env.update(HOME=str(home), DBUS_SESSION_BUS_ADDRESS=daemons.address,
                       XDG_RUNTIME_DIR=str(daemons.run_dir),
                       TOKENSAFE_VAULT=str(home / "v" / "vault.tokensafe"))
            subprocess.run([exe, "init", "--keyring", "--no-recovery"], env=env, check=True, capture_output=True)
            subprocess.run([exe, "set", "tok"], input=SECRET.encode(), env=env, check=True, capture_output=True)
            out = subprocess.run([exe, "get", "tok"], env=env, capture_output=True, check=True).stdout
            assert out.strip() == SECRET.encode(), "get returned something else"
            rows = [("python3 -c pass | cat  (interpreter floor)", f"{sys.executable} -c pass | cat")]
            rows.append(("tokensafe get tok | cat  (keyring slot)", f"{exe} get tok | cat"))
            if args.before:
                before_vault = home / "vb" / "vault.tokensafe"
                before_env = {**env, "PYTHONPATH": str(args.before.resolve()), "TOKENSAFE_VAULT": str(before_vault)}
                subprocess.run([exe, "init", "--keyring", "--no-recovery"], env=before_env, check=True,
                               capture_output=True)
                subprocess.run([exe, "set", "tok"], input=SECRET.encode(), env=before_env, check=True,
                               capture_output=True)
                rows.append(("  the same, code of --before DIR",
                             f"PYTHONPATH={shlex.quote(str(args.before.resolve()))} "
                             f"TOKENSAFE_VAULT={shlex.quote(str(before_vault))} {exe} get tok | cat"))
            if shutil.which("secret-tool"):
                subprocess.run(["secret-tool", "store", "--label=bench", "service", "bench", "username", "tok"],
                               input=SECRET.encode(), env=env, check=True, capture_output=True)
                rows.append(("secret-tool lookup | cat  (libsecret, C)",
                             "secret-tool lookup service bench username tok | cat"))
            if setup_pass(home, env):
                rows.append(("pass show tok | cat  (pass + gpg)", "pass show tok | cat"))
            print(f"median wall time over {n} runs each, same machine, same run:")
            results = {}
            for label, cmd in rows:
                results[label] = median_ms(cmd, env, n)
                print(f"  {label:<45} {results[label]:7.1f} ms")
            floor = results[rows[0][0]]
            get = results[rows[1][0]]
            print(f"  tokensafe get over the interpreter floor:      {get - floor:7.1f} ms "
                  f"(goal: < 100 ms over the floor, < 150 ms in all)")
            if args.before:
                before = results[rows[2][0]]
                print(f"  today's get against --before:                 {(get / before - 1) * 100:+7.1f} % "
                      f"(goal: within 10 %)")
    print(f"Argon2id unlock, default parameters (t=3, p=4, 64 MiB): {argon2_default_ms():.0f} ms (median of 3)")


if __name__ == "__main__":
    main()
