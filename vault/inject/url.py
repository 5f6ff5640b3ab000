"""The one URL parser of runtime injection: httpx's own, so that the URL host binding checks
is the URL that is sent (no second parser to disagree with it).

A resolved URL may hold vault values (`http://{{auth0_domain}}:{{auth0_token}}/`): errors
name the kind of problem, never the URL or a part of it.
"""

from __future__ import annotations

from typing import Any

from vault.errors import UsageError

SCHEMES = ("http", "https")
_HINT = "check the URL: https://HOST[:PORT]/PATH, a port up to 65535, [brackets] only around an IPv6 address"


def parse(url: str) -> Any:
    """`url` as an `httpx.URL` with an http(s) scheme and a host; UsageError otherwise."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError) as e:
        # httpx quotes the offending part ("Invalid port: '…'"): keep only the words before it.
        reason = str(e).split(":", 1)[0].strip() or type(e).__name__
        raise UsageError(f"not a valid URL ({reason[:80]})", _HINT) from None
    if parsed.scheme not in SCHEMES:
        shown = parsed.scheme if parsed.scheme.isalnum() and len(parsed.scheme) <= 10 else "?"
        raise UsageError(f"not an http:// or https:// URL (scheme {shown!r})" if parsed.scheme
                         else "a URL needs a scheme and a host", _HINT)
    if not parsed.raw_host:
        raise UsageError("a URL needs a host", _HINT)
    return parsed


def host_of(parsed: Any) -> str:
    """`host` or `host:port` (a port only when it is not the scheme's default), lower case,
    an internationalised name in its ASCII (punycode) form."""
    host = parsed.raw_host.decode("ascii", "replace").lower()
    return f"{host}:{parsed.port}" if parsed.port else host
