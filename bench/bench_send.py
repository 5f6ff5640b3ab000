"""`tokensafe send` of a 50-request folder against newman, same server, same run.

A local HTTP server (127.0.0.1, a thread of this process, keep-alive) stands in for the
Auth0 Management API. Both tools get their variables from the same vault:
  - `tokensafe send c.json Users`
  - `tokensafe export --format postman | newman run c.json --folder Users -e /dev/stdin`
Prints wall time (start-up included, as a user sees it) and requests per second, median
of N runs each (goal: tokensafe faster than newman).

Usage: python3 bench/bench_send.py [-n 5] [--requests 50]
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
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TOKEN = "bench-eyJhbGciOiJSUzI1NiJ9.bench-payload-0123456789.bench-signature-abcdef"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    count = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        Handler.count += ok
        body = json.dumps({"user_id": self.path.rsplit("/", 1)[-1], "ok": ok}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def collection(n: int) -> dict:
    return {
        "info": {"name": "bench", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}", "type": "string"}]},
        "item": [{"name": "Users", "item": [
            {"name": f"Get user {i}", "request": {
                "method": "GET",
                "url": {"raw": "http://{{auth0_domain}}/api/v2/users/:id", "protocol": "http",
                        "host": ["{{auth0_domain}}"], "path": ["api", "v2", "users", ":id"],
                        "variable": [{"key": "id", "value": f"auth0|{i:04d}"}]}}}
            for i in range(n)]}],
    }


def timed(cmd: list[str] | str, env: dict[str, str], shell: bool = False) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, shell=shell)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{cmd!r} failed: {(r.stdout + r.stderr).decode()[-500:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5, help="runs per tool (median reported)")
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    exe, newman = shutil.which("tokensafe"), shutil.which("newman")
    if not exe:
        raise SystemExit("install tokensafe first: pip install -e .")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-") as tmp, ExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        try:  # the keyring slot, as a user would have it; else a passphrase (Argon2id per run)
            from realparts import secret_service_env

            env.update(stack.enter_context(secret_service_env(Path(tmp))))
            env.pop("TOKENSAFE_PASSPHRASE", None)
            env.pop("PYTHON_KEYRING_BACKEND", None)
            init = [exe, "init", "--keyring", "--no-recovery", "--env", "bench"]
            slot = "keyring vault"
        except RuntimeError:
            env.update(TOKENSAFE_PASSPHRASE="bench passphrase",
                       PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
            init = [exe, "init", "--no-keyring", "--env", "bench"]
            slot = "passphrase vault, one Argon2id unlock per run"
        env.update(TOKENSAFE_VAULT=f"{tmp}/v/vault.tokensafe", NO_PROXY="*")
        subprocess.run(init, env=env, check=True, capture_output=True)
        subprocess.run([exe, "set", "auth0_domain"], input=host.encode(), env=env, check=True, capture_output=True)
        subprocess.run([exe, "set", "auth0_token"], input=TOKEN.encode(), env=env, check=True, capture_output=True)
        col = Path(tmp) / "c.json"
        col.write_text(json.dumps(collection(args.requests)))
        n = args.requests
        rows = [("tokensafe send c.json Users", [exe, "send", str(col), "Users"], False)]
        if newman:
            rows.append(("tokensafe export | newman run --folder Users",
                         f"{exe} export --format postman | {newman} run {col} --folder Users "
                         f"-e /dev/stdin --reporters cli --color off", True))
        else:
            print("(newman not installed: only tokensafe is measured)")
        unlock = statistics.median(timed([exe, "list"], env) for _ in range(args.n))
        print(f"{n} GET requests with a bearer token, local keep-alive server; median of {args.n} runs "
              f"({slot}; unlocking alone, `tokensafe list`: {unlock * 1000:.0f} ms):")
        for label, cmd, shell in rows:
            before = Handler.count
            times = [timed(cmd, env, shell) for _ in range(args.n)]
            assert Handler.count - before == n * args.n, "some requests were not authorised"
            med = statistics.median(times)
            print(f"  {label:<46} {med * 1000:7.0f} ms  {n / med:7.1f} req/s  "
                  f"(without the unlock: {n / max(med - unlock, 1e-3):7.1f} req/s)")
    server.shutdown()


if __name__ == "__main__":
    main()
