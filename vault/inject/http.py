"""One HTTP request with vault values, through httpx (imported lazily).

A `Req` is fully resolved before anything is sent; host binding is checked on it by the
caller, so a refused request never opens a connection. Like curl: TLS verified (system CAs
through certifi, SSL_CERT_FILE / SSL_CERT_DIR, or --cacert), no redirects followed, a 300 s
connect timeout and no overall limit unless --max-time, which bounds each request as a whole,
connect to last byte (as curl's -m). Unlike curl, HTTP(S)_PROXY/ALL_PROXY are *not* used: a
proxy sees every header of a plain-http request, so requests carrying vault values go
through a proxy only when the user names one (`--proxy URL`).

Every failure while building or sending is a `TokensafeError` whose text holds no part of
the URL, a header or the body (they may hold vault values).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "tokensafe"


@dataclass
class FilePart:
    """A file to upload; `root` is the folder it must stay inside (see `vault.inject.files`)."""

    field: str
    path: str
    root: str | None = None

    def open(self) -> Any:
        from vault.inject.files import open_inside

        return open_inside(self.path, self.root)


@dataclass
class Req:
    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    form: list[tuple[str, str]] | None = None  # multipart text fields
    files: list[FilePart] | None = None  # multipart file fields
    used: set[str] = field(default_factory=set)  # vault entries that went into it
    name: str = ""

    def __repr__(self) -> str:  # the URL and headers may hold secrets
        return f"Req({self.method} <{len(self.url)} chars>, {len(self.headers)} headers)"

    def has_header(self, name: str) -> bool:
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def describe(self) -> str:
        """The request as text (unmasked: the caller masks it before showing it)."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.content is not None:
            lines += ["", self.content.decode("utf-8", "replace")]
        if self.form or self.files:
            lines.append("")
            lines += [f"[form] {k}={v}" for k, v in self.form or []]
            lines += [f"[file] {f.field}=@{f.path}" for f in self.files or []]
        return "\n".join(lines) + "\n"


@dataclass
class Resp:
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float

    def __repr__(self) -> str:  # headers and body may echo secrets
        return f"Resp({self.status} {self.reason}, {len(self.body)} bytes)"

    @property
    def is_json(self) -> bool:
        ctype = next((v for k, v in self.headers if k.lower() == "content-type"), "")
        return "json" in ctype.lower()

    def head_text(self) -> str:
        lines = [f"{self.http_version} {self.status} {self.reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return "\n".join(lines) + "\n\n"

    def body_text(self, pretty: bool) -> bytes:
        if pretty and self.is_json:
            try:
                return (json.dumps(json.loads(self.body), indent=2, ensure_ascii=False) + "\n").encode()
            except ValueError:
                pass
        return self.body


# An HTTP method and a header name are RFC 9110 tokens.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_BAD_VALUE = frozenset("\r\n\0")


def client(max_time: float | None = None, connect_timeout: float | None = 300.0,
           insecure: bool = False, cacert: str | None = None, proxy: str | None = None) -> Any:
    """An httpx client; `cacert`: a PEM file of CAs trusted instead of the system's."""
    import httpx

    from vault.errors import UsageError

    timeout = httpx.Timeout(max_time, connect=min(connect_timeout or max_time or 300.0, max_time or 1e9))
    # trust_env=False: no proxy from the environment (see the module docstring); the CA
    # bundle from SSL_CERT_FILE/SSL_CERT_DIR is still honoured, through this context.
    verify: Any = False if insecure else httpx.create_ssl_context(trust_env=True)
    if cacert and not insecure:
        import ssl

        try:
            verify = ssl.create_default_context(cafile=cacert)
        except (OSError, ssl.SSLError) as e:
            raise UsageError(f"cannot use {cacert} as --cacert: {getattr(e, 'strerror', None) or e}",
                             "give a file of PEM certificates (-----BEGIN CERTIFICATE-----)") from None
    try:
        return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify,
                            proxy=proxy or None, headers={"User-Agent": USER_AGENT})
    except (ValueError, httpx.InvalidURL):  # the proxy URL is the user's own, but may hold a password
        raise UsageError("--proxy is not a valid proxy URL",
                         "give http://HOST:PORT, https://HOST:PORT or socks5://HOST:PORT") from None


def _check(req: Req) -> list[tuple[str, str | bytes]]:
    """The method and headers as httpx may send them; UsageError (naming no value) otherwise."""
    from vault.errors import UsageError

    if not req.method or not set(req.method) <= _TOKEN:
        raise UsageError(f"{req.name or 'request'}: not a valid HTTP method",
                         "use GET, POST, PUT, PATCH, DELETE … (letters only)")
    headers: list[tuple[str, str | bytes]] = []
    for k, v in req.headers:
        if not k or not set(k) <= _TOKEN:
            raise UsageError(f"{req.name or 'request'}: a header name is not valid (letters, digits, - only)",
                             "check the header names of the request")
        if set(v) & _BAD_VALUE:
            raise UsageError(f"{req.name or 'request'}: the value of header {k!r} holds a line break or NUL",
                             "a header value is one line; check the values it uses")
        headers.append((k, v if v.isascii() else v.encode("utf-8")))
    return headers


def tls_failure(e: BaseException) -> str | None:
    """The reason a certificate was refused, if `e` (or what caused it) is a TLS verify failure."""
    import ssl

    seen = 0
    cur: BaseException | None = e
    while cur is not None and seen < 10:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur.verify_message or "certificate verify failed"
        if "CERTIFICATE_VERIFY_FAILED" in str(cur):
            return "certificate verify failed"
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def send(cl: Any, req: Req, max_time: float | None = None) -> Resp:
    """Send one request, within `max_time` seconds in all (None: no limit).

    The request runs in a worker thread that the caller stops waiting for at the deadline:
    httpx's timeouts are per phase, so a trickling server could otherwise hold it forever.
    """
    if not max_time:
        return _send(cl, req)
    import threading

    from vault.errors import NetworkError

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["resp"] = _send(cl, req)
        except BaseException as e:  # handed to the caller's thread below
            box["error"] = e

    t = threading.Thread(target=work, name="tokensafe-request", daemon=True)
    t.start()
    t.join(max_time)
    if t.is_alive():  # the daemon thread dies with the process; its socket with it
        raise NetworkError(f"{req.method} request timed out after {max_time:g} s (--max-time)",
                           "raise --max-time, or check the server")
    if "error" in box:
        raise box["error"]
    return box["resp"]


def _send(cl: Any, req: Req) -> Resp:
    """Send one request; transport errors become NetworkError (exit 8, never with a value in
    it), an unreadable upload FileSystemError (exit 7)."""
    import httpx

    from vault.errors import NetworkError, UsageError, os_error_message
    from vault.inject.url import parse

    url = parse(req.url)  # the parser host binding used: what is checked is what is sent
    kwargs: dict[str, Any] = {"headers": _check(req)}
    opened = []
    try:
        if req.files or req.form:
            kwargs["data"] = dict(req.form or [])
            files = []
            for f in req.files or []:
                fh = f.open()
                opened.append(fh)
                files.append((f.field, (f.path.rsplit("/", 1)[-1], fh)))
            kwargs["files"] = files or None
        elif req.content is not None:
            kwargs["content"] = req.content
        start = time.perf_counter()
        try:
            r = cl.request(req.method, url, **kwargs)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:  # the URL, not the network
            raise UsageError(f"{req.method} request not sent: {type(e).__name__}",
                             "check the URL: http:// or https://, a host, a port up to 65535") from None
        except httpx.TimeoutException:
            raise NetworkError(f"{req.method} request timed out", "raise --max-time") from None
        except (httpx.LocalProtocolError, httpx.DecodingError) as e:
            # h11 quotes the offending header or value: name the kind of problem only.
            raise UsageError(f"{req.method} request not sent: {type(e).__name__}",
                             "check the method, header names and values of the request") from None
        except httpx.HTTPError as e:
            reason = tls_failure(e)
            if reason is not None:  # one line naming the host and the fix, not ConnectError's repr
                from vault.inject.hosts import request_host

                host = request_host(req.url)
                raise NetworkError(f"TLS: the certificate of {host} is not trusted ({reason})",
                                   "if it is signed by your own CA, pass --cacert FILE "
                                   "(or set SSL_CERT_FILE=FILE); check the host name") from None
            # Transport messages name the peer (a host) and the OS error, no header values;
            # the caller's masker covers the rest.
            msg = " ".join(str(e).split())[:200]
            raise NetworkError(f"{req.method} request failed: {type(e).__name__}: {msg}",
                               "check the host, the network, --proxy and certificates") from None
        except (UnicodeError, ValueError, TypeError) as e:  # a part httpx could not encode
            raise UsageError(f"{req.method} request not sent: {type(e).__name__}",
                             "check the URL, header values and form fields of the request") from None
        elapsed = time.perf_counter() - start
        return Resp(r.status_code, r.reason_phrase, r.http_version, list(r.headers.multi_items()),
                    r.content, elapsed)
    except OSError as e:
        raise os_error_message(e, "read a file to upload") from None
    finally:
        for fh in opened:
            fh.close()
