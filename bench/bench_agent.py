"""How fast is `tokensafe get` through the unlock agent, next to the other ways in?

Prints the min and median wall time of, in the same run and interleaved round by round (so
that a burst of load on a shared machine hits every row alike):
  - `python3 -c pass | cat`                the interpreter's floor on this machine
  - `tokensafe get tok | cat` via the agent a passphrase vault after `tokensafe unlock`
  - `tokensafe get tok | cat` passphrase    the same kind of vault, no agent: Argon2id each time
  - `tokensafe get tok | cat` keyring       keyring slot (real gnome-keyring in a private D-Bus)
  - `pass show tok | cat`                   Debian's `pass` with a throwaway GnuPG key (if installed)
Goal: through the agent ≤ `pass show`.

`tokensafe` is the installed entry script; a pyenv shim on PATH is resolved to the script it
runs (the shim's bash and `pyenv exec` cost tens of milliseconds that no ordinary install pays).
Every `get` here also appends its access-log record (the agent's, or the command's own).

Usage: python3 bench/bench_agent.py [-n 40] [--exe PATH] [--instructions]

--instructions: also count the instructions each command executes (valgrind's callgrind, every
process of the command line, none of an agent's): a figure that a shared machine's load does
not move, where wall times on a busy machine can differ by 2x from run to run.
--exe: the `tokensafe` script to time, e.g. one installed with `pip install .` in a fresh venv
(an editable install's finder, and any `.pth` file the interpreter's site-packages holds, run on
every start-up of that interpreter: the floor row times the same interpreter as the script).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_get import SECRET, setup_pass  # noqa: E402
from realparts import secret_service_daemons  # noqa: E402

PASSPHRASE = "bench passphrase for the agent"


def make_vault(exe: str, env: dict[str, str], *init_args: str) -> None:
    subprocess.run([exe, "init", *init_args], env=env, check=True, capture_output=True)
    subprocess.run([exe, "set", "tok"], input=SECRET.encode(), env=env, check=True, capture_output=True)


def entry_script() -> str:
    """The installed `tokensafe` script; through a pyenv shim, the script the shim would run."""
    exe = shutil.which("tokensafe")
    if not exe:
        raise SystemExit("install tokensafe first: pip install -e .")
    if "/shims/" in exe and shutil.which("pyenv"):
        real = subprocess.run(["pyenv", "which", "tokensafe"], capture_output=True, text=True).stdout.strip()
        if real:
            return real
    return exe


def script_interpreter(exe: str) -> str:
    """The interpreter named on the script's `#!` line (the floor row times that one)."""
    with open(exe, "rb") as f:
        first = f.readline().decode(errors="replace").strip()
    return first[2:].split()[0] if first.startswith("#!") and first[2:].strip() else sys.executable


def run_once(cmd: str, env: dict[str, str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{cmd!r} failed: {r.stderr.decode()[-300:]}")
    return took * 1000


def instructions(cmd: str, env: dict[str, str]) -> int | None:
    """Instructions executed by `sh -c cmd` and all its children (callgrind), or None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory(prefix="tokensafe-cg-") as out:
        r = subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                            f"--callgrind-out-file={out}/cg.%p", "sh", "-c", cmd],
                           env=env, capture_output=True)
        if r.returncode != 0:
            raise SystemExit(f"{cmd!r} failed under valgrind: {r.stderr.decode()[-300:]}")
        total = 0
        for f in Path(out).iterdir():
            for line in f.read_text(errors="replace").splitlines():
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
        return total


def interleaved(rows: list[tuple[str, str, dict[str, str], int]], n: int) -> dict[str, list[float]]:
    """Round i runs every row whose share of n rounds includes i: A B C D A B C D …"""
    times: dict[str, list[float]] = {label: [] for label, *_ in rows}
    for i in range(n):
        for label, cmd, env, runs in rows:
            if i * runs // n != (i + 1) * runs // n:  # spreads `runs` runs evenly over the n rounds
                times[label].append(run_once(cmd, env))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=40, help="runs per command (median reported)")
    ap.add_argument("--exe", help="the tokensafe script to time (default: the one on PATH)")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions per command with valgrind (callgrind)")
    args = ap.parse_args()
    n = args.n
    exe = args.exe or entry_script()
    python = script_interpreter(exe)
    print(f"tokensafe: {exe}\ninterpreter: {python}")
    subprocess.run([python, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "vault")],
                   check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-") as tmp:
        home = Path(tmp)
        with secret_service_daemons(home) as daemons:
            base = {k: v for k, v in os.environ.items()
                    if not k.startswith("TOKENSAFE_") and k != "PYTHON_KEYRING_BACKEND"}
            base.update(HOME=str(home), DBUS_SESSION_BUS_ADDRESS=daemons.address,
                        XDG_RUNTIME_DIR=str(daemons.run_dir))
            keyring = {**base, "TOKENSAFE_VAULT": str(home / "k" / "vault.tokensafe")}
            passphrase = {**base, "TOKENSAFE_VAULT": str(home / "p" / "vault.tokensafe"),
                          "TOKENSAFE_PASSPHRASE": PASSPHRASE}
            agent = {**base, "TOKENSAFE_VAULT": str(home / "a" / "vault.tokensafe")}
            make_vault(exe, keyring, "--keyring", "--no-recovery")
            make_vault(exe, passphrase, "--no-keyring")
            make_vault(exe, {**agent, "TOKENSAFE_PASSPHRASE": PASSPHRASE}, "--no-keyring")
            subprocess.run([exe, "unlock", "--for", "1h", "--idle", "1h"], check=True, capture_output=True,
                           env={**agent, "TOKENSAFE_PASSPHRASE": PASSPHRASE})
            pass_env = dict(base)
            try:
                out = subprocess.run([exe, "get", "tok"], env=agent, capture_output=True, check=True).stdout
                assert out.strip() == SECRET.encode(), "get through the agent returned something else"
                rows = [("python3 -c pass | cat  (interpreter floor)", f"{python} -c pass | cat", base, n),
                        ("tokensafe get tok | cat  (through the agent)", f"{exe} get tok | cat", agent, n),
                        ("tokensafe get tok | cat  (passphrase, Argon2id)", f"{exe} get tok | cat",
                         passphrase, max(5, n // 8)),
                        ("tokensafe get tok | cat  (keyring slot)", f"{exe} get tok | cat", keyring, n)]
                if setup_pass(home, pass_env):
                    rows.append(("pass show tok | cat  (pass + gpg)", "pass show tok | cat", pass_env, n))
                few = max(5, n // 8)
                print(f"wall time of {n} runs each (passphrase: {few}), interleaved, same machine, same run:")
                print(f"  {'':<48} {'min':>7}    {'median':>7}")
                times = interleaved(rows, n)
                results = {}
                for label, *_ in rows:
                    results[label] = statistics.median(times[label])
                    print(f"  {label:<48} {min(times[label]):7.1f} ms {results[label]:7.1f} ms")
                if len(rows) == 5:
                    via, ps = results[rows[1][0]], results[rows[4][0]]
                    print(f"  through the agent against pass show (medians):  {via - ps:+7.1f} ms (goal: ≤ 0)")
                else:
                    print("  pass show: not installed (apt-get install pass gnupg), no comparison")
                if args.instructions:
                    counts = {label: instructions(cmd, env) for label, cmd, env, _ in rows
                              if "Argon2id" not in label}  # the KDF alone is hundreds of millions
                    if None in counts.values():
                        print("instructions: valgrind is not installed (apt-get install valgrind)")
                    else:
                        print("instructions executed, every process of the command line (callgrind, once each):")
                        for label, count in counts.items():
                            print(f"  {label:<48} {count / 1e6:7.1f} M")
            finally:
                subprocess.run([exe, "lock"], env=agent, capture_output=True)
                if "GNUPGHOME" in pass_env:  # the gpg-agent that `pass show` started
                    subprocess.run(["gpgconf", "--kill", "all"], env=pass_env, capture_output=True)


if __name__ == "__main__":
    main()
