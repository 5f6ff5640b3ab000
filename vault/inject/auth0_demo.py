"""The self-renewing-token part of `tokensafe demo`: login → token → an expired token renewed on `send`.

Runs against `Auth0Standin`, an HTTPS stand-in tenant on 127.0.0.1 with a throwaway CA
(trusted through SSL_CERT_FILE for the demo's commands only). Nothing leaves loopback.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vault.demo_tokens import fake_jwt
from vault.inject.auth0_standin import Auth0Standin, local_tls


def _collection() -> dict[str, Any]:
    return {
        "info": {"name": "Auth0 Management API (demo, HTTPS)",
                 "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}", "type": "string"}]},
        "item": [{"name": "Get users", "request": {
            "method": "GET", "url": "https://{{auth0_domain}}/api/v2/users"}}],
    }


def auth0_demo(run: Callable[..., Any], workdir: Path) -> None:
    ca, ctx = local_tls(workdir / "standin-tls")
    client_id = "DemoM2MClient" + secrets.token_hex(6)
    client_secret = secrets.token_urlsafe(32)
    saved = {k: run.env.get(k) for k in ("SSL_CERT_FILE", "NO_PROXY")}
    run.env.update(SSL_CERT_FILE=str(ca), NO_PROXY="127.0.0.1")  # the stand-in: loopback, never a proxy
    try:
        with Auth0Standin(ctx, client_id, client_secret) as tenant:
            run.say(f"Tokens that renew themselves. A stand-in Auth0 tenant listens on https://{tenant.host} "
                    "(loopback, its own CA via SSL_CERT_FILE).")
            run("env create m2m")
            run.say("The client id and secret of a machine-to-machine application; the secret from stdin.")
            run(["auth0", "login", "--env", "m2m", "--domain", tenant.host, "--client-id", client_id],
                input=client_secret, show_input="pbpaste")
            run.say("A token from the client-credentials grant: a summary is printed, never the token.")
            run("auth0 token --env m2m")
            run("status --env m2m")
            run.say("A day later the token has expired (here: an expired one stored by hand) ...")
            expired = fake_jwt({"iss": f"https://{tenant.host}/", "exp": int(time.time()) - 60, "scope": "read:users"})
            run("set auth0_token --env m2m", input=expired, show_input="echo $YESTERDAYS_TOKEN")
            run("status --env m2m")
            col = workdir / "auth0-https.postman_collection.json"
            col.write_text(json.dumps(_collection(), indent=2))
            run.say("... and `send` fetches a new one before the request goes out (one token request, "
                    "under the vault's lock, however many commands run at once).")
            before = tenant.counts["/oauth/token"]
            run(["send", col.name, "--env", "m2m", "--fail"])
            fresh = bool(tenant.seen_auth) and tenant.seen_auth[-1] == f"Bearer {tenant.issued[-1]}"
            print(f"  (token requests made by send: {tenant.counts['/oauth/token'] - before}; "
                  f"the API received the new token: {'yes' if fresh else 'NO'})")
            run("status --env m2m")
    finally:
        for k, v in saved.items():
            if v is None:
                run.env.pop(k, None)
            else:
                run.env[k] = v
