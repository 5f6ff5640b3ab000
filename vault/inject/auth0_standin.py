"""A stand-in for an Auth0 tenant on 127.0.0.1 over HTTPS, for `tokensafe demo` and the tests.

It serves `POST /oauth/token` (client credentials), `POST /api/v2/clients/{id}/rotate-secret`,
`POST /api/v2/blacklists/tokens` and, for requests sent with a token, `GET /api/v2/users`.
It counts every request, and the next answers of /oauth/token can be scripted (`script`):

    ok, 401, 403, 429, 500, slow, badjson, noexp, echo (a 401 that echoes the client secret)

TLS: `local_tls(folder)` makes a throwaway CA and a certificate for 127.0.0.1 with
`cryptography`; callers point SSL_CERT_FILE at the CA. Nothing listens beyond loopback.
"""

from __future__ import annotations

import datetime
import json
import secrets
import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from vault.demo_tokens import fake_jwt


def local_tls(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """(CA certificate file, server SSL context for 127.0.0.1); the CA key is never written."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    life = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=2))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokensafe stand-in CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(life[0]).not_valid_after(life[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(life[0]).not_valid_after(life[1])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = folder / "standin-ca.pem", folder / "standin-cert.pem", folder / "standin-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    key_file.unlink()  # loaded; no need to keep it
    return ca_file, ctx


class Auth0Standin:
    """The tenant: one client (`client_id`, `client_secret`), tokens that live `ttl` seconds."""

    def __init__(self, ssl_ctx: ssl.SSLContext, client_id: str, client_secret: str, ttl: int = 86400,
                 slow_s: float = 3.0) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.ttl = ttl
        self.slow_s = slow_s
        self.script: list[str] = []  # the next /oauth/token answers; empty: "ok"
        self.counts: Counter[str] = Counter()  # path -> requests
        self.issued: list[str] = []  # every access token handed out
        self.revoked: list[dict] = []
        self.bodies: list[bytes] = []  # request bodies, for leak checks
        self.seen_auth: list[str] = []  # Authorization headers that reached /api/v2/users
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.socket = ssl_ctx.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Auth0Standin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self, scope: str = "read:users update:users update:client_keys blacklist:tokens",
              exp: bool = True, aud: str | None = None) -> str:
        claims = {"iss": f"https://{self.host}/", "sub": f"{self.client_id}@clients",
                  "aud": aud or f"https://{self.host}/api/v2/", "scope": scope, "gty": "client-credentials",
                  "jti": secrets.token_hex(8), "iat": int(time.time())}
        if exp:
            claims["exp"] = int(time.time()) + self.ttl
        return fake_jwt(claims)

    def _next(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tenant = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _send(self, code: int, doc: object | bytes, headers: dict[str, str] | None = None) -> None:
                body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _bearer_ok(self) -> bool:
                auth = self.headers.get("Authorization") or ""
                return auth.startswith("Bearer ") and auth[7:] in tenant.issued

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                with tenant._lock:
                    tenant.counts[self.path] += 1
                    tenant.bodies.append(raw)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                if self.path == "/oauth/token":
                    self._token(body)
                elif self.path.startswith("/api/v2/clients/") and self.path.endswith("/rotate-secret"):
                    if not self._bearer_ok():
                        return self._send(401, {"statusCode": 401, "error": "Unauthorized",
                                                "message": "Invalid token"})
                    tenant.client_secret = "rotated-" + secrets.token_urlsafe(24)
                    self._send(200, {"client_id": tenant.client_id, "client_secret": tenant.client_secret})
                elif self.path == "/api/v2/blacklists/tokens":
                    if not self._bearer_ok():
                        return self._send(401, {"statusCode": 401, "error": "Unauthorized",
                                                "message": "Invalid token"})
                    tenant.revoked.append(body)
                    self._send(204, b"")
                else:
                    self._send(404, {"error": "not_found"})

            def _token(self, body: dict) -> None:
                mode = tenant._next()
                if mode == "slow":
                    time.sleep(tenant.slow_s)
                    mode = "ok"
                if mode == "401" or (mode == "ok" and (body.get("client_id") != tenant.client_id
                                                       or body.get("client_secret") != tenant.client_secret)):
                    return self._send(401, {"error": "access_denied", "error_description": "Unauthorized"})
                if mode == "echo":  # a careless server that echoes what it got
                    return self._send(401, {"error": "access_denied",
                                            "error_description": f"wrong secret {body.get('client_secret')}"})
                if mode == "403":
                    return self._send(403, {"error": "unauthorized_client",
                                            "error_description": "Grant type 'client_credentials' not allowed "
                                                                 "for the client."})
                if mode == "429":
                    return self._send(429, {"error": "too_many_requests",
                                            "error_description": "Global limit has been reached"},
                                      {"Retry-After": "1"})
                if mode == "500":
                    return self._send(503, {"error": "temporarily_unavailable"})
                if mode == "badjson":
                    return self._send(200, b"{not json")
                scope = body.get("scope") or "read:users update:users update:client_keys blacklist:tokens"
                token = tenant.token(scope, exp=mode != "noexp", aud=body.get("audience"))
                with tenant._lock:
                    tenant.issued.append(token)
                self._send(200, {"access_token": token, "expires_in": tenant.ttl, "scope": scope,
                                 "token_type": "Bearer"})

            def do_GET(self) -> None:  # noqa: N802
                with tenant._lock:
                    tenant.counts[self.path] += 1
                auth = self.headers.get("Authorization") or ""
                tenant.seen_auth.append(auth)
                if not self._bearer_ok():
                    return self._send(401, {"statusCode": 401, "error": "Unauthorized", "message": "Expired token"})
                self._send(200, [{"user_id": "auth0|demo", "email": "demo@example.invalid"}])

            def log_message(self, *args: object) -> None:
                pass

        return H
