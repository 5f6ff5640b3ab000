"""The OAuth 2.0 client-credentials grant (RFC 6749 §4.4), for any server; Auth0 is a preset.

`fetch_token(grant)` POSTs a JSON body to the token URL and returns the access token with
its expiry. It never raises with a secret in its text, and it maps failures onto the
exit-status table:

- 401/403 (and other 4xx): the server refused the credentials → `GrantRefused` (exit 3),
  with the server's `error`/`error_description`;
- 429: waits for `Retry-After` / `X-RateLimit-Reset` if that fits the time budget, else
  NetworkError (exit 8) naming the wait;
- 5xx: retried with exponential backoff, a bounded number of times, then NetworkError;
- no connection, TLS failure, timeout, a body that is not the expected JSON: NetworkError.

The whole exchange, retries included, stays within `budget` seconds: a refresh runs under
the vault's lock, and the processes waiting on it must not wait longer than their lock wait.
httpx is imported inside `fetch_token` only.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from vault.errors import ExitStatus, NetworkError, TokensafeError, UsageError
from vault.secret import Secret

USER_AGENT = "tokensafe"
TIMEOUT_S = 10.0  # one request; TOKENSAFE_TOKEN_TIMEOUT overrides
BUDGET_S = 25.0  # everything, waits included (below the vault's 30 s lock wait)
ATTEMPTS = 4  # at most this many requests for one token (5xx and 429 retries)
BACKOFF_S = 0.5  # first 5xx backoff, doubled each time
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class GrantRefused(TokensafeError):
    """The token server refused the client credentials or the request (exit 3)."""

    exit_code = ExitStatus.AUTH


class Grant:
    """What a client-credentials request needs. The secret stays a `Secret` until sent."""

    __slots__ = ("token_url", "client_id", "client_secret", "audience", "scope")

    def __init__(self, token_url: str, client_id: str, client_secret: Secret | str,
                 audience: str | None = None, scope: str | None = None) -> None:
        self.token_url = check_token_url(token_url)
        self.client_id = client_id
        self.client_secret = Secret(client_secret) if isinstance(client_secret, str) else client_secret
        self.audience = audience or None
        self.scope = scope or None

    def __repr__(self) -> str:
        return f"Grant({self.token_url!r}, client_id={self.client_id!r}, audience={self.audience!r})"

    def body(self) -> bytes:
        doc = {"grant_type": "client_credentials", "client_id": self.client_id,
               "client_secret": self.client_secret.reveal()}
        if self.audience:
            doc["audience"] = self.audience
        if self.scope:
            doc["scope"] = self.scope
        return json.dumps(doc).encode()


class Token:
    """An access token as the server issued it (`access_token` never in a repr)."""

    __slots__ = ("access_token", "expires_at", "scope", "token_type")

    def __init__(self, access_token: Secret, expires_at: float | None, scope: str | None,
                 token_type: str | None) -> None:
        self.access_token = access_token
        self.expires_at = expires_at  # epoch seconds; None: the server gave no expiry at all
        self.scope = scope  # space-separated, as granted
        self.token_type = token_type

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at!r}, scope={self.scope!r})"


def check_token_url(url: str) -> str:
    """https:// only, except on loopback: a client secret never crosses a network in the clear."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UsageError(f"not a valid token URL: {url!r}", "e.g. https://tenant.eu.auth0.com/oauth/token") from None
    if not host or parts.scheme not in ("https", "http"):
        raise UsageError(f"not a valid token URL: {url!r}", "e.g. https://tenant.eu.auth0.com/oauth/token")
    if parts.scheme == "http" and host not in LOOPBACK:
        raise UsageError(f"refusing a token URL without TLS: {url!r}",
                         "use https:// (plain http is accepted for 127.0.0.1 and localhost only)")
    return url


def token_url_for_domain(domain: str) -> str:
    """Auth0's token endpoint for a tenant domain (which may carry a port)."""
    return f"https://{domain}/oauth/token"


def _clean(text: Any, limit: int = 200) -> str:
    """Server-supplied text made safe to print: one line, printable, bounded, and without any
    secret this process holds (a server may echo the client secret back)."""
    from vault.secret import remembered

    s = str(text)
    for value in sorted(remembered(), key=len, reverse=True):
        if len(value) >= 4:
            s = s.replace(value, "***")
    s = "".join(c if c.isprintable() else " " for c in s)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[:limit] + "…"


def _server_error(body: bytes) -> str:
    """`error: error_description` from an OAuth error body, or '' if it has none."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(doc, dict):
        return ""
    parts = [_clean(doc[k]) for k in ("error", "error_description", "message") if doc.get(k)]
    return ": ".join(parts)


def _retry_after(headers: Any, now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or X-RateLimit-Reset (epoch)."""
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset.strip()) - now)
    return None


def parse_token(body: bytes, now: float) -> Token:
    """The token from a 200 answer; expiry is the earlier of `expires_in` and the JWT's `exp`."""
    from vault.store.model import jwt_claims

    try:
        doc = json.loads(body)
    except ValueError:
        raise NetworkError("the token server answered 200 with a body that is not JSON",
                           "check the token URL: it should be the server's /oauth/token endpoint") from None
    token = doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(token, str) or not token:
        raise NetworkError("the token server's answer holds no access_token",
                           "check the token URL: it should be the server's /oauth/token endpoint")
    secret = Secret(token)  # recorded at once: from here on, error text masks it
    expires: float | None = None
    ttl = doc.get("expires_in")
    if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > 0:
        expires = now + float(ttl)
    claims = jwt_claims(token)
    exp = claims.get("exp") if claims else None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        expires = float(exp) if expires is None else min(expires, float(exp))
    scope = doc.get("scope")
    if not isinstance(scope, str):
        scope = claims.get("scope") if claims and isinstance(claims.get("scope"), str) else None
    ttype = doc.get("token_type")
    return Token(secret, expires, scope, ttype if isinstance(ttype, str) else None)


def request_timeout() -> float:
    """Seconds one token request may take: TOKENSAFE_TOKEN_TIMEOUT, else 10 (capped at the budget)."""
    import os

    try:
        value = float(os.environ.get("TOKENSAFE_TOKEN_TIMEOUT", TIMEOUT_S))
    except ValueError:
        return TIMEOUT_S
    return min(value, BUDGET_S) if value > 0 else TIMEOUT_S


def fetch_token(grant: Grant, *, timeout: float | None = None, budget: float = BUDGET_S,
                attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic) -> Token:
    """One client-credentials exchange (with bounded retries); see the module docstring."""
    import httpx

    timeout = request_timeout() if timeout is None else timeout
    deadline = clock() + budget
    host = urllib.parse.urlsplit(grant.token_url).netloc
    backoff = BACKOFF_S
    last = ""
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=True,
                      headers={"User-Agent": USER_AGENT}) as cl:
        for attempt in range(1, attempts + 1):
            try:
                r = cl.post(grant.token_url, content=grant.body(),
                            headers={"Content-Type": "application/json", "Accept": "application/json"})
            except httpx.TimeoutException:
                raise NetworkError(f"the token server {host} did not answer within {timeout:g} s",
                                   "the stored token is unchanged; try again later") from None
            except httpx.HTTPError as e:
                raise NetworkError(f"cannot reach the token server {host}: {type(e).__name__}: {_clean(e)}",
                                   "check the domain, the network, proxies and certificates "
                                   "(SSL_CERT_FILE); the stored token is unchanged") from None
            if r.status_code == 200:
                return parse_token(r.content, time.time())
            said = _server_error(r.content)
            detail = f"{r.status_code} {said}" if said else f"{r.status_code} {_clean(r.reason_phrase)}"
            left = deadline - clock()
            if r.status_code == 429:
                wait = _retry_after(r.headers, time.time())
                wait = backoff if wait is None else wait
                if attempt == attempts or wait > left:
                    raise NetworkError(f"the token server {host} is rate limiting ({detail}); "
                                       f"it asks to wait {wait:.0f} s",
                                       "try again after that; the stored token is unchanged")
                sleep(wait)
                continue
            if r.status_code >= 500:
                last = detail
                if attempt == attempts or backoff > left:
                    break
                sleep(backoff)
                backoff *= 2
                continue
            hint = ("check the client id and secret (`tokensafe auth0 login` stores new ones) and that "
                    "the application may use the client-credentials grant for this audience; "
                    "the stored token is unchanged")
            raise GrantRefused(f"the token server {host} refused the request ({detail})", hint)
    raise NetworkError(f"the token server {host} failed {attempts if last else 0} times ({last})",
                       "the server has a problem; try again later. The stored token is unchanged")


def call_api(method: str, url: str, bearer: Secret, body: dict[str, Any] | None = None,
             timeout: float | None = None) -> Any:
    """One JSON call to a management API with a bearer token; the parsed JSON answer (or None).

    401/403 → GrantRefused (exit 3), other errors → NetworkError, with the server's message."""
    import httpx

    timeout = request_timeout() if timeout is None else timeout
    host = urllib.parse.urlsplit(url).netloc
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=True,
                          headers={"User-Agent": USER_AGENT}) as cl:
            r = cl.request(method, url, content=json.dumps(body or {}).encode(),
                           headers={"Content-Type": "application/json", "Accept": "application/json",
                                    "Authorization": f"Bearer {bearer.reveal()}"})
    except httpx.TimeoutException:
        raise NetworkError(f"{host} did not answer within {timeout:g} s", "try again later") from None
    except httpx.HTTPError as e:
        raise NetworkError(f"cannot reach {host}: {type(e).__name__}: {_clean(e)}",
                           "check the domain, the network, proxies and certificates") from None
    said = _server_error(r.content)
    detail = f"{r.status_code} {said}" if said else f"{r.status_code} {_clean(r.reason_phrase)}"
    if r.status_code in (401, 403):
        raise GrantRefused(f"{host} refused the call ({detail})",
                           "the management token needs the scope this call requires "
                           "(update:client_keys to rotate, blacklist:tokens to revoke)")
    if r.status_code >= 300:
        raise NetworkError(f"{host} answered {detail}", "check the client id and the domain")
    if not r.content.strip():
        return None
    try:
        return json.loads(r.content)
    except ValueError:
        raise NetworkError(f"{host} answered with a body that is not JSON", "check the domain") from None
