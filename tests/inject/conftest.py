"""Fixtures for runtime injection: a recording HTTP(S) server on 127.0.0.1 and a vault
holding a planted Auth0-style token bound to it."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Same shape as the shared planted secret: recognisable bytes that must leak nowhere.
PLANTED = "tsPLANTED-inject-4b1d-SECRET-9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "postman"  # upstream files, see SOURCES.md
DATA = Path(__file__).with_name("data")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A stand-in for the Auth0 API that records every request it receives."""

    url: str
    host: str  # 127.0.0.1:PORT
    seen: list[Seen] = field(default_factory=list)

    def all_bytes(self) -> bytes:
        return b"".join(s.path.encode() + json.dumps(s.headers).encode() + s.body for s in self.seen)


def _handler(rec: Recorder) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def _any(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            rec.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            if self.path.startswith("/status/"):
                code = int(self.path.split("/")[2])
                payload = {"status": code}
            else:
                code = 200
                # Echo what arrived, as a careless API or a debug endpoint would.
                payload = {"ok": True, "method": self.command, "path": self.path,
                           "authorization": self.headers.get("Authorization"),
                           "body": body.decode("utf-8", "replace")}
            out = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args: object) -> None:
            pass

    return H


def _serve(rec_factory, ssl_ctx: ssl.SSLContext | None = None) -> Iterator[Recorder]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    port = server.server_address[1]
    scheme = "https" if ssl_ctx else "http"
    rec = Recorder(f"{scheme}://127.0.0.1:{port}", f"127.0.0.1:{port}")
    server.RequestHandlerClass = _handler(rec)
    if ssl_ctx:
        server.socket = ssl_ctx.wrap_socket(server.socket, server_side=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[Recorder]:
    yield from _serve(None)


@pytest.fixture
def other_server() -> Iterator[Recorder]:
    """A second server: requests bound elsewhere must never reach it."""
    yield from _serve(None)


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A throwaway CA and a server certificate for 127.0.0.1: the demo's stand-in makes them."""
    from vault.inject.auth0_standin import local_tls

    return local_tls(tmp_path / "tls")


@pytest.fixture
def https_server(tls) -> Iterator[Recorder]:
    yield from _serve(None, tls[1])


def make_vault(session, envs: dict[str, dict[str, str | tuple[str, list[str]]]],
               current: str) -> Path:
    """A real vault at the session's TOKENSAFE_VAULT; a value may be (value, allowed_hosts)."""
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    path = Path(session.env["TOKENSAFE_VAULT"])
    data = VaultData(current=current)
    for env_name, entries in envs.items():
        env = data.ensure_env(env_name)
        for name, spec in entries.items():
            value, hosts = spec if isinstance(spec, tuple) else (spec, [])
            env.entries[name] = Entry.new(name, value, hosts)
    passphrase = session.env["TOKENSAFE_PASSPHRASE"]
    create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, passphrase)], data)
    return path


def leaked_files(root: Path, secret: str, allowed: set[Path]) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
            and p.resolve() not in allowed and needle in p.read_bytes()]


@pytest.fixture
def session(session, tmp_path: Path) -> Iterator:
    """The shared session, plus: loopback only (no proxies), a private TMPDIR, and after the
    test no file under tmp_path (home, vault folder, TMPDIR, cwd) holding the planted secret
    unless the test named it (session.allowed_files)."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        session.env.pop(var, None)
    session.env["NO_PROXY"] = "*"
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    session.env["TMPDIR"] = str(tmpdir)
    session.allowed_files = set()
    yield session
    assert leaked_files(tmp_path, PLANTED, session.allowed_files) == []


@pytest.fixture
def ts(session, server: Recorder):
    """A session whose `dev` environment binds the planted token to the test server, over
    plain http, which a binding must name explicitly (`http://127.0.0.1:PORT`)."""
    plain = [f"http://{server.host}"]
    make_vault(session, {
        "dev": {"auth0_domain": server.host, "auth0_token": (PLANTED, plain),
                "client_id": ("abcdefghij0123456789", plain)},
        "loose": {"api_token": PLANTED},
    }, "dev")
    return session
