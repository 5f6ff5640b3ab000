"""What do self-renewing tokens cost `tokensafe run`?

Prints, in the same run on the same machine, against a local HTTPS stand-in tenant:
  1. `tokensafe run -- true` with a valid auth0_token, in a vault without client
     credentials and in one with them (goal: the two within 10 ms — deciding is metadata only);
  2. the cost of one refresh: `run -- true` whose token has expired (one client-credentials
     request to the stand-in, the write of the new token) minus the valid-token run.

Both vaults use a passphrase slot with cheap Argon2id parameters (the test hook), so the
numbers are not dominated by the KDF; the stand-in listens on 127.0.0.1 only.

Usage: python3 bench/bench_refresh.py [-n 30]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench passphrase"
CLIENT_ID = "benchClient0123456789"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef"


def make_vault(path: Path, entries: dict[str, str], expires: float | None) -> None:
    from vault import crypto
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    crypto._test_kdf_params = crypto.KdfParams(iterations=1, lanes=1, memory_kib=8)
    data = VaultData(current="dev")
    env = data.ensure_env("dev")
    for name, value in entries.items():
        env.entries[name] = Entry.new(name, value)
    if expires is not None:
        env.entries["auth0_token"].expires = expires
    if path.exists():
        path.unlink()
    create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, PASSPHRASE)], data)


def timed(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{argv!r} failed: {r.stderr.decode()[-300:]}")
    return took * 1000


def main() -> None:
    from vault.inject.auth0_standin import Auth0Standin, local_tls

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="runs per row (median reported)")
    args = ap.parse_args()
    exe = shutil.which("tokensafe")
    if not exe:
        raise SystemExit("install tokensafe first: pip install -e .")
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-") as tmp:
        home = Path(tmp)
        ca, ctx = local_tls(home / "tls")
        with Auth0Standin(ctx, CLIENT_ID, CLIENT_SECRET) as tenant:
            env = {**os.environ, "TOKENSAFE_PASSPHRASE": PASSPHRASE, "SSL_CERT_FILE": str(ca), "NO_PROXY": "*",
                   "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
            plain, creds = home / "plain.tokensafe", home / "creds.tokensafe"
            token = tenant.token()
            make_vault(plain, {"auth0_domain": tenant.host, "auth0_token": token}, None)
            cred_entries = {"auth0_domain": tenant.host, "auth0_token": token, "auth0_client_id": CLIENT_ID,
                            "auth0_client_secret": CLIENT_SECRET,
                            "auth0_audience": f"https://{tenant.host}/api/v2/"}
            make_vault(creds, cred_entries, None)
            run = [exe, "run", "--", "true"]
            rows: dict[str, list[float]] = {"without client credentials": [], "with client credentials": []}
            for _ in range(args.n):  # interleaved: the machine may be shared
                rows["without client credentials"].append(timed(run, {**env, "TOKENSAFE_VAULT": str(plain)}))
                rows["with client credentials"].append(timed(run, {**env, "TOKENSAFE_VAULT": str(creds)}))
            refresh: list[float] = []
            for _ in range(max(5, args.n // 3)):
                make_vault(creds, cred_entries, time.time() - 60)
                refresh.append(timed(run, {**env, "TOKENSAFE_VAULT": str(creds)}))
            print(f"`tokensafe run -- true` with a valid auth0_token, median of {args.n} runs:")
            med = {k: statistics.median(v) for k, v in rows.items()}
            for label, ms in med.items():
                print(f"   {label:<30} {ms:8.1f} ms")
            diff = med["with client credentials"] - med["without client credentials"]
            print(f"   difference {diff:+.1f} ms (goal: within 10 ms)")
            r = statistics.median(refresh)
            print(f"with an expired token (one refresh), median of {len(refresh)} runs: {r:8.1f} ms; "
                  f"one refresh costs {r - med['with client credentials']:.1f} ms "
                  f"({tenant.counts['/oauth/token']} token requests made)")


if __name__ == "__main__":
    main()
