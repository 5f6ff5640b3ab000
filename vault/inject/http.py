"""One HTTP request with vault values, through httpx (imported lazily).

A `Req` is fully resolved before anything is sent; host binding is checked on it by the
caller, so a refused request never opens a connection. Like curl: TLS verified (system CAs,
or SSL_CERT_FILE), proxies from HTTP(S)_PROXY/NO_PROXY, no redirects followed, a 300 s
connect timeout and no overall limit unless --max-time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "tokensafe"


@dataclass
class FilePart:
    field: str
    path: str


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


def client(max_time: float | None = None, connect_timeout: float | None = 300.0,
           insecure: bool = False) -> Any:
    import httpx

    timeout = httpx.Timeout(max_time, connect=min(connect_timeout or max_time or 300.0, max_time or 1e9))
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=True,
                        verify=not insecure, headers={"User-Agent": USER_AGENT})


def send(cl: Any, req: Req) -> Resp:
    """Send one request; transport errors become NetworkError (exit 8, never with a value in
    it), an unreadable upload FileSystemError (exit 7)."""
    import httpx

    from vault.errors import NetworkError, UsageError, os_error_message

    kwargs: dict[str, Any] = {"headers": req.headers}
    opened = []
    try:
        if req.files or req.form:
            kwargs["data"] = dict(req.form or [])
            files = []
            for f in req.files or []:
                fh = open(f.path, "rb")  # noqa: SIM115 - closed below
                opened.append(fh)
                files.append((f.field, (f.path.rsplit("/", 1)[-1], fh)))
            kwargs["files"] = files or None
        elif req.content is not None:
            kwargs["content"] = req.content
        start = time.perf_counter()
        try:
            r = cl.request(req.method, req.url, **kwargs)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:  # the URL, not the network
            raise UsageError(f"{req.method} request not sent: {type(e).__name__}: {e}",
                             "check the URL: http:// or https://, a host, a port up to 65535") from None
        except httpx.TimeoutException:
            raise NetworkError(f"{req.method} request timed out", "raise --max-time") from None
        except httpx.HTTPError as e:
            # httpx messages carry no header values; the URL may, so it is not repeated here.
            raise NetworkError(f"{req.method} request failed: {type(e).__name__}: {e}",
                                 "check the host, the network, proxies and certificates") from None
        elapsed = time.perf_counter() - start
        return Resp(r.status_code, r.reason_phrase, r.http_version, list(r.headers.multi_items()),
                    r.content, elapsed)
    except OSError as e:
        raise os_error_message(e, "read a file to upload") from None
    finally:
        for fh in opened:
            fh.close()
