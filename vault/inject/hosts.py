"""Host binding: which hosts may receive which vault entries.

- An entry with allowed hosts goes only to a host matching one of them.
- An entry with none is bound to the environment's `auth0_domain` *as it was when the entry
  was stored* (`Entry.bound_to`, recorded through `bindings_for`): a token can never go to a
  host typed by mistake, and changing or importing a domain later never widens where an
  existing secret may go. Entries stored before bindings were recorded (`bound_to` None)
  keep the old rule: the environment's `auth0_domain` at request time.
- An entry with none and no `auth0_domain` is *unbound*: refused too, so that nothing is
  sent to a host nobody allowed.
- `allow_unbound` lifts both defaults (never an entry's own allowed hosts): entries without
  allowed hosts go anywhere, and each one sent beyond the default is reported, loudly.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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


def _domain_binding(domain: str) -> list[str]:
    host = normalise_host(domain) if domain else ""
    return [host] if host else []


def bindings_for(env: Environment, values: Mapping[str, str]) -> dict[str, list[str]]:
    """The binding to record for each entry about to be stored (name -> value) in `env`:
    the host of the environment's `auth0_domain` once these are stored, or [] for nowhere.

    When `values` changes `auth0_domain`, the entries already there that have no recorded
    binding get the one they have now first, so the change cannot widen where they may go.
    """
    old = env.entries.get(AUTH0_DOMAIN)
    old_domain = old.value.reveal() if old is not None else ""
    new_domain = values.get(AUTH0_DOMAIN, old_domain)
    if new_domain != old_domain:
        current = _domain_binding(old_domain)
        for e in env.entries.values():
            if e.bound_to is None and e.name != AUTH0_DOMAIN:
                e.bound_to = list(current)
    return {name: _domain_binding(new_domain) for name in values}


@dataclass
class HostPolicy:
    explicit: Mapping[str, list[str]]  # entry name -> its own allowed hosts ([] = none)
    default: list[str]  # where legacy entries without their own go: [auth0_domain] or []
    allow_unbound: bool = False
    recorded: Mapping[str, list[str]] = field(default_factory=dict)  # name -> binding fixed at store time

    @classmethod
    def for_env(cls, env: Environment, allow_unbound: bool = False) -> HostPolicy:
        default: list[str] = []
        if AUTH0_DOMAIN in env.entries:
            host = normalise_host(env.entries[AUTH0_DOMAIN].value.reveal())
            default = [host] if host else []
        explicit = {name: list(e.allowed_hosts) for name, e in env.entries.items()}
        recorded = {name: list(e.bound_to) for name, e in env.entries.items() if e.bound_to is not None}
        return cls(explicit, default, allow_unbound, recorded)

    def check(self, url: str, used: Iterable[str]) -> list[str]:
        """Raise PolicyError if any used entry may not go to the URL's host.

        Returns the names sent unbound (for the caller's loud warning)."""
        host = request_host(url)
        unbound: list[str] = []
        for name in sorted(set(used)):
            patterns = self.explicit.get(name, []) or self.recorded.get(name, self.default)
            if not self.explicit.get(name) and self.allow_unbound:
                if not (host and patterns and host_allowed(host, patterns)):
                    unbound.append(name)
                continue
            if not patterns:
                raise PolicyError(
                    f"refusing to send {name!r} to {host or url!r}: the entry is bound to no host",
                    f"`tokensafe set {name} --allow-host HOST` binds it; --allow-unbound sends it anyway",
                )
            if not host or not host_allowed(host, patterns):
                raise PolicyError(
                    f"refusing to send {name!r} to {host or url!r}: allowed hosts are {', '.join(patterns)}",
                    f"check the URL; if this host is right, `tokensafe set {name} --allow-host {host or 'HOST'}`",
                )
        return unbound
