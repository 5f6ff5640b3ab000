"""Host binding: which hosts may receive which vault entries.

- An entry with allowed hosts goes only to a host matching one of them.
- An entry with none, in an environment that holds `auth0_domain`, is bound to that domain:
  a token can never go to a host typed by mistake.
- An entry with none and no `auth0_domain` is *unbound*: refused too, so that nothing is
  sent to a host nobody allowed.
- `allow_unbound` lifts both defaults (never an entry's own allowed hosts): entries without
  allowed hosts go anywhere, and each one sent beyond the default is reported, loudly.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vault.errors import PolicyError, UsageError
from vault.store.model import Environment, host_allowed

AUTH0_DOMAIN = "auth0_domain"


def normalise_host(value: str) -> str:
    """`https://Tenant.eu.auth0.com/` → `tenant.eu.auth0.com` (port kept when given)."""
    v = value.strip()
    if "://" not in v:
        v = "//" + v
    parts = urllib.parse.urlsplit(v)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def request_host(url: str) -> str:
    """The host as host binding sees it: `host` or `host:port` when a port is explicit."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as e:  # e.g. an unclosed [IPv6 bracket; the URL may hold a value: not shown
        raise UsageError(f"not a valid URL: {e}", "check the URL's host and brackets") from None
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


@dataclass
class HostPolicy:
    explicit: Mapping[str, list[str]]  # entry name -> its own allowed hosts ([] = none)
    default: list[str]  # where entries without their own go: [auth0_domain] or []
    allow_unbound: bool = False

    @classmethod
    def for_env(cls, env: Environment, allow_unbound: bool = False) -> HostPolicy:
        default: list[str] = []
        if AUTH0_DOMAIN in env.entries:
            host = normalise_host(env.entries[AUTH0_DOMAIN].value.reveal())
            default = [host] if host else []
        explicit = {name: list(e.allowed_hosts) for name, e in env.entries.items()}
        return cls(explicit, default, allow_unbound)

    def check(self, url: str, used: Iterable[str]) -> list[str]:
        """Raise PolicyError if any used entry may not go to the URL's host.

        Returns the names sent unbound (for the caller's loud warning)."""
        host = request_host(url)
        unbound: list[str] = []
        for name in sorted(set(used)):
            patterns = self.explicit.get(name, []) or self.default
            if not self.explicit.get(name) and self.allow_unbound:
                if not (host and patterns and host_allowed(host, patterns)):
                    unbound.append(name)
                continue
            if not patterns:
                raise PolicyError(
                    f"refusing to send {name!r} to {host or url!r}: the entry is bound to no host",
                    f"`tokensafe hosts add {name} {host or 'HOST'}` binds it; --allow-unbound sends it anyway",
                )
            if not host or not host_allowed(host, patterns):
                raise PolicyError(
                    f"refusing to send {name!r} to {host or url!r}: allowed hosts are {', '.join(patterns)}",
                    f"check the URL; if this host is right, `tokensafe hosts add {name} {host or 'HOST'}`",
                )
        return unbound
