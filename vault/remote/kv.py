"""A KV v2 client for OpenBao / HashiCorp Vault that survives a node failure.

What the engine does, and what this client does about it (tested in tests/remote/):

- A Raft standby serves reads from its own, possibly stale, copy: right after a write, a
  check-and-set with the right version sent to a standby was rejected every time. Every
  request therefore echoes the newest `X-Vault-Index` seen, with `X-Vault-Inconsistent:
  forward-active-node`, so a node that has not caught up forwards to the active node
  (read-your-writes across nodes).
- While the leader is dead, standbys redirect writes to it (hvac then fails with a
  connection error naming the dead node) or answer 500 "active cluster node not found";
  a sealed node answers 503; a fresh KV v2 mount answers 400 "Upgrading…" for about a second.
  All of these are retried on the next address until the call's deadline, then NetworkError.
- A write whose answer was lost may have been applied. Writes are check-and-set, so a retry
  can never apply twice; if the retry loses on the version the lost attempt produced, the
  current data is compared with ours and the write counts as done (no duplicate, no false error).
- hvac errors map to the exit-status table: Forbidden (a missing capability *or* a bad
  token) → LockedError (3) naming the path and capability; InvalidPath → not found;
  a stale `cas` → ConflictError (6); the rest → NetworkError (8).

The token travels only in the X-Vault-Token header to the configured addresses; no message
here contains it or any value.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vault.errors import LockedError, NetworkError, NotFoundError, UsageError

try:
    import hvac
    import hvac.exceptions as hx
    import requests
except ImportError:  # an optional extra: say how to get it
    raise UsageError("team vaults need the hvac package",
                     "install it with: pip install 'tokensafe[team]'") from None
from vault.store.backend import ConflictError

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
_CAS_MISMATCH = "check-and-set parameter did not match"
_NOT_READY = ("upgrading from non-versioned", "waiting for the primary to upgrade")


class ReadYourWritesSession(requests.Session):
    """Echoes the newest X-Vault-Index with forward-active-node; bounds each request by a deadline."""

    def __init__(self) -> None:
        super().__init__()
        self.headers["X-Vault-Inconsistent"] = "forward-active-node"
        self._index: str | None = None
        self._index_value = -1
        self.deadline: float | None = None  # monotonic; set per call by KVClient
        self.request_timeout = DEFAULT_TIMEOUT_S

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> requests.Response:
        if self._index:
            kw["headers"] = {**(kw.get("headers") or {}), "X-Vault-Index": self._index}
        timeout = self.request_timeout
        if self.deadline is not None:
            timeout = min(timeout, max(0.05, self.deadline - time.monotonic()))
        kw["timeout"] = timeout
        r = super().request(method, url, *args, **kw)
        self._remember(r.headers.get("X-Vault-Index"))
        return r

    def _remember(self, index: str | None) -> None:
        if not index:
            return
        try:  # base64 JSON {"cluster": …, "value": "<raft index>"}: keep the newest
            value = int(json.loads(base64.b64decode(index))["value"])
        except (ValueError, KeyError, TypeError):
            return
        if value > self._index_value:
            self._index, self._index_value = index, value


def host_of(url: str) -> str:
    """`host[:port]` of a server address, lower case (what a token is bound to)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UsageError(f"not a server address: {url!r}", "give e.g. --url https://bao.example.com:8200")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise UsageError(f"a server address has no path: {url!r}",
                         "give the server only (https://host:8200); --mount and --path say where")
    return f"{parts.scheme}://{parts.netloc}"


class KVClient:
    """One KV v2 mount on one or more server addresses (a Raft cluster's nodes)."""

    def __init__(self, urls: Sequence[str], token: str | None = None, mount: str = "secret",
                 namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 verify: bool | str = True) -> None:
        if not urls:
            raise UsageError("a remote needs at least one server address")
        self.urls = [check_url(u) for u in urls]
        self.mount = mount.strip("/")
        self.namespace = namespace
        self.timeout = timeout
        self._session = ReadYourWritesSession()
        # Nothing from the environment but the trust store named below: no *_PROXY (a proxy
        # would see the token over http), no ~/.netrc, no REQUESTS_CA_BUNDLE (as `request`).
        self._session.trust_env = False
        if verify is True:
            verify = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or True
        self._session.verify = verify
        # With several nodes one hanging node must not eat the whole deadline.
        self._session.request_timeout = timeout if len(self.urls) == 1 else max(1.0, timeout / 3)
        self._clients = [hvac.Client(url=u, token=token, namespace=namespace, session=self._session,
                                     timeout=timeout) for u in self.urls]
        self._current = 0  # the last node that answered
        self.stalls: list[float] = []  # seconds spent retrying, per call that had to (for tests/bench)

    def __repr__(self) -> str:
        return f"KVClient({self.urls!r}, mount={self.mount!r})"

    def describe(self, path: str = "") -> str:
        return f"{self.urls[0]}/v1/{self.mount}/data/{path}" if path else f"{self.urls[0]}/v1/{self.mount}"

    def set_token(self, token: str) -> None:
        for c in self._clients:
            c.token = token

    # the retry loop ----------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[hvac.Client], T], path: str = "", capability: str = "read",
             on_retry: Callable[[], None] | None = None) -> T:
        """fn(client) on the node that last answered, moving on through the others until the deadline."""
        started = time.monotonic()
        deadline = started + self.timeout
        self._session.deadline = deadline
        last: str | None = None
        tried = 0
        try:
            while True:
                client = self._clients[self._current]
                try:
                    result = fn(client)
                    if tried:
                        self.stalls.append(time.monotonic() - started)
                    return result
                except hx.Forbidden:
                    raise self._forbidden(what, path, capability) from None
                except hx.Unauthorized:
                    raise LockedError(f"the server refused the credentials ({what} {self._where(path)})",
                                      _TOKEN_HINT) from None
                except hx.InvalidPath as e:
                    if "no handler for route" in str(e):
                        raise NotFoundError(f"no secrets engine mounted at {self.mount!r} on {self.urls[self._current]}",
                                            "check --mount of the remote (`tokensafe remote list`)") from None
                    raise
                except hx.InvalidRequest as e:
                    text = str(e).lower()
                    if _CAS_MISMATCH in text:
                        raise ConflictError(f"{self._where(path)} changed on the server while this command ran",
                                            "run the command again") from None
                    if not any(s in text for s in _NOT_READY):
                        raise NetworkError(f"the server refused {what} {self._where(path)}: {_errors(e)}") from None
                    last = "the KV v2 engine is still upgrading its storage"
                except hx.VaultDown:
                    last = f"{self.urls[self._current]} is sealed"
                except (hx.InternalServerError, hx.BadGateway, hx.RateLimitExceeded, hx.UnexpectedError) as e:
                    last = f"{self.urls[self._current]} answered: {_errors(e)}"
                except hx.VaultError as e:
                    raise NetworkError(f"the server refused {what} {self._where(path)}: {_errors(e)}") from None
                except requests.exceptions.Timeout:
                    last = f"{self.urls[self._current]} did not answer in time"
                except requests.exceptions.RequestException as e:
                    last = f"cannot reach {self.urls[self._current]} ({_reason(e)})"
                tried += 1
                if on_retry is not None:
                    on_retry()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NetworkError(
                        f"{what} {self._where(path)} failed after {self.timeout:g} s: {last}",
                        "check that the server is running and unsealed; more addresses "
                        "(`tokensafe remote add … --url A --url B`) let the client move to another node")
                self._current = (self._current + 1) % len(self._clients)
                if self._current == 0 or len(self._clients) == 1:
                    time.sleep(min(0.25, left))  # a whole round failed: give an election time
        finally:
            self._session.deadline = None

    def _where(self, path: str) -> str:
        return f"{self.mount}/{path}" if path else self.mount

    def _forbidden(self, what: str, path: str, capability: str) -> LockedError:
        api = "metadata" if what.startswith(("history", "list", "metadata")) else "data"
        return LockedError(
            f"permission denied: {what} {self._where(path)} needs the {capability!r} capability "
            f"on {self.mount}/{api}/{path or '*'}",
            "ask for a policy that grants it; the server says the same for a bad or expired "
            "token, so check the token too")

    # KV v2 --------------------------------------------------------------------------------

    def read(self, path: str, version: int | None = None) -> tuple[dict[str, Any], int] | None:
        """(data, version) of the latest (or the given) version; None if there is none."""
        def fn(c: hvac.Client) -> dict[str, Any]:
            return c.secrets.kv.v2.read_secret_version(path=path, version=version, mount_point=self.mount,
                                                       raise_on_deleted_version=True)
        try:
            r = self.call("read", fn, path, "read")
        except hx.InvalidPath:
            return None
        return r["data"]["data"], int(r["data"]["metadata"]["version"])

    def metadata(self, path: str) -> dict[str, Any] | None:
        def fn(c: hvac.Client) -> dict[str, Any]:
            return c.secrets.kv.v2.read_secret_metadata(path=path, mount_point=self.mount)
        try:
            return self.call("metadata", fn, path, "read")["data"]
        except hx.InvalidPath:
            return None

    def list(self, path: str) -> list[str]:
        def fn(c: hvac.Client) -> dict[str, Any]:
            return c.secrets.kv.v2.list_secrets(path=path, mount_point=self.mount)
        try:
            return list(self.call("list", fn, path, "list")["data"]["keys"])
        except hx.InvalidPath:
            return []

    def write(self, path: str, data: dict[str, Any], cas: int) -> int:
        """Check-and-set write (cas 0: only if the key does not exist); the new version."""
        unsure = [False]  # an attempt failed without a clear answer: it may have been applied

        def fn(c: hvac.Client) -> dict[str, Any]:
            return c.secrets.kv.v2.create_or_update_secret(path=path, secret=data, cas=cas,
                                                           mount_point=self.mount)

        def mark() -> None:
            unsure[0] = True

        try:
            r = self.call("write", fn, path, "create" if cas == 0 else "update", on_retry=mark)
        except ConflictError:
            if unsure[0]:
                now = self.read(path)
                if now is not None and now[1] == cas + 1 and now[0] == data:
                    return now[1]  # our lost-answer attempt was applied
            raise
        return int(r["data"]["version"])

    def login_approle(self, role_id: str, secret_id: str, mount: str = "approle") -> None:
        """Log in with AppRole; later calls use the token it gives (kept in memory only)."""
        def fn(c: hvac.Client) -> dict[str, Any]:
            try:
                return c.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount,
                                            use_token=False)
            except (hx.InvalidRequest, hx.InvalidPath) as e:  # "invalid role or secret ID"
                raise hx.Unauthorized(str(e)) from None
        try:
            r = self.call("AppRole login", fn, f"auth/{mount}/login", "update")
        except LockedError:
            raise LockedError("AppRole login failed: the role id or secret id was not accepted",
                              "check both with the server's administrator; `tokensafe remote add "
                              "NAME --url … --auth approle` stores new ones") from None
        self.set_token(r["auth"]["client_token"])


_TOKEN_HINT = ("store a token with `tokensafe remote add NAME --url … --auth token`, "
               "or set BAO_TOKEN / VAULT_TOKEN")


def _errors(e: hx.VaultError) -> str:
    errs = getattr(e, "errors", None)
    if errs:
        return "; ".join(str(x).strip() for x in errs)[:300]
    return type(e).__name__


def _reason(e: requests.exceptions.RequestException) -> str:
    if isinstance(e, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in str(e):
            return "TLS failed: certificate not trusted (signed by your own CA? `remote add … --cacert FILE`)"
        return "TLS failed"
    if isinstance(e, requests.exceptions.ConnectionError):
        text = str(e)
        for reason in ("Connection refused", "Name or service not known", "No route to host",
                       "Connection reset", "Remote end closed connection"):
            if reason in text:
                return reason.lower()
        return "connection failed"
    return type(e).__name__
