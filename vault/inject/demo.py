"""The runtime-injection part of `tokensafe demo`: a stand-in Auth0 API on 127.0.0.1.

`inject_demo(run, workdir)` is called by the lead's demo with `run`, a callable that runs
and shows one `tokensafe …` command line in a throwaway vault. Nothing leaves loopback.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from vault.demo_tokens import fake_jwt


class _Api:
    """Records what arrives; answers like a debug endpoint that echoes the caller's header."""

    def __init__(self) -> None:
        self.received: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                auth = self.headers.get("Authorization") or ""
                api.received.append(auth)
                body = json.dumps({"users": [{"user_id": "auth0|demo", "email": "demo@example.invalid"}],
                                   "debug": {"you_sent": auth}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


COLLECTION = {
    "info": {"name": "Auth0 Management API (demo)",
             "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}", "type": "string"}]},
    "item": [{"name": "Users", "item": [{
        "name": "Get users",
        "event": [{"listen": "test", "script": {"exec": [
            "pm.test('status 200', () => pm.response.to.have.status(200));"]}}],
        "request": {"method": "GET", "url": {"raw": "http://{{auth0_domain}}/api/v2/users", "protocol": "http",
                                              "host": ["{{auth0_domain}}"], "path": ["api", "v2", "users"]}},
    }]}],
}


def inject_demo(run: Callable[..., Any], workdir: Path) -> None:
    api = _Api()
    token = fake_jwt({"sub": "demo@clients", "scope": "read:users"})
    try:
        run.say(f"Runtime injection. A stand-in for the Auth0 API listens on {api.host} (loopback only).")
        run("env create local")
        run("set auth0_domain --env local", input=api.host, show_input=f"echo {api.host}")
        # Plain http to a loopback stand-in: a binding must name http:// explicitly (else https only).
        run(f"set auth0_token --env local --allow-host http://{api.host}", input=token, show_input="pbpaste")
        run.say("One request; {{…}} is resolved at send time, and the echoed token comes back masked.")
        run(["request", "GET", "http://{{auth0_domain}}/api/v2/users", "-H",
             "Authorization: Bearer {{auth0_token}}", "--env", "local"])
        got = api.received[-1] == f"Bearer {token}" if api.received else False
        print(f"  (the server received the real token: {'yes' if got else 'NO'})")
        run.say("The token is bound to that host: a host typed by mistake gets nothing.")
        before = len(api.received)
        run(["request", "GET", "http://localhost:9/api/v2/users", "-H",
             "Authorization: Bearer {{auth0_token}}", "--env", "local"], expect_code=9)
        print(f"  (requests that reached any server: {len(api.received) - before})")
        run.say("`run`: the child gets AUTH0_TOKEN in its environment; its output is masked.")
        run(["run", "--env", "local", "--", "sh", "-c",
             'echo "token: $AUTH0_TOKEN"; printf %s "$AUTH0_TOKEN" | base64 -w0; echo'])
        run.say("`run` refuses {{…}} in the child's arguments: argv is readable by every user.")
        run(["run", "--env", "local", "--", "echo", "{{auth0_token}}"], expect_code=9)
        col = workdir / "auth0-demo.postman_collection.json"
        col.write_text(json.dumps(COLLECTION, indent=2))
        run.say("A Postman collection, sent with the vault's values (scripts are not executed).")
        run(["send", col.name, "Users/Get users", "--env", "local"])
        newman = shutil.which("newman")
        if newman:
            run.say("Feeding a tool through stdin: newman reads the environment from a pipe, not a file.")
            run("export --format postman --env local",
                pipe_to=f"newman run {col.name} -e /dev/stdin --color off --reporters cli")
        else:
            run.say("Feeding a tool through stdin (newman is not installed; a tiny reader instead).")
            run("export --format json --env local",
                pipe_to="python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))'")
        if shutil.which("curl"):
            run.say("`inject` fills a template from stdin: here a curl config, so the token never "
                    "touches curl's argv.")
            template = 'header = "Authorization: Bearer {{auth0_token}}"\n'
            run("inject --env local", input=template, show_input=f"echo '{template.strip()}'",
                pipe_to=f"curl -sS -K - http://{api.host}/api/v2/users -o /dev/null -w 'HTTP %{{http_code}}\\n'")
    finally:
        api.close()
