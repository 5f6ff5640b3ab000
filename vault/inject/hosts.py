"""Host binding: which hosts, over which scheme, may receive which vault entries.

- An entry with allowed hosts goes only to a host matching one of them.
- An entry with none is bound to the environment's `auth0_domain` *as it was when the entry
  was stored* (`Entry.bound_to`, recorded through `bindings_for`): a token can never go to a
  host typed by mistake, and changing or importing a domain later never widens where an
  existing secret may go. Entries stored before bindings were recorded (`bound_to` None)
  keep the old rule: the environment's `auth0_domain` at request time.
- An entry with none and no `auth0_domain` is *unbound*: refused too, so that nothing is
  sent to a host nobody allowed.
- A bound entry goes only over `https://`, unless the rule that allows the host names
  `http://host[:port]` explicitly (an allowed host written so, or an `auth0_domain` whose
  value starts with `http://`): a token on plain http is readable by anyone on the path.
  Entries whose value *is* a host (`auth0_domain`, kind `domain`) are exempt: the URL
  already shows them.
- `allow_unbound` lifts both defaults (never an entry's own allowed hosts): entries without
  allowed hosts go anywhere, and each one sent beyond the default is reported, loudly.

URLs are parsed by `vault.inject.url` (httpx's parser, the one that sends them).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vault.errors import PolicyError
from vault.store.model import Environment, host_allowed

AUTH0_DOMAIN = "auth0_domain"
PLAIN = "http://"


def normalise_host(value: str) -> str:
    """`https://Tenant.eu.auth0.com/` → `tenant.eu.auth0.com` (port kept when given);
    `http://127.0.0.1:8080` keeps its `http://`, which allows plain http to that host."""
    v = value.strip()
    plain = v.lower().startswith(PLAIN)
    if "://" not in v:
        v = "//" + v
    try:
        parts = urllib.parse.urlsplit(v)
        port = parts.port
    except ValueError:  # not a host at all: binds to nothing
        return ""
    host = (parts.hostname or "").lower()
    out = f"{host}:{port}" if port else host
    return (PLAIN + out) if plain and host else out


def request_host(url: str) -> str:
    """The host as host binding sees it: `host` or `host:port` when a port is explicit."""
    from vault.inject.url import host_of, parse

    return host_of(parse(url))


def _matches(host: str, scheme: str, patterns: list[str]) -> bool:
    """`host` matches a pattern, and the scheme is https or the pattern names http://."""
    for pat in patterns:
        plain = pat.startswith(PLAIN)
        if (scheme == "https" or plain) and host_allowed(host, [pat.removeprefix(PLAIN)]):
            return True
    return False


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
    hosts: set[str] = field(default_factory=set)  # entries whose value is a host: any scheme
    recorded: Mapping[str, list[str]] = field(default_factory=dict)  # name -> binding fixed at store time

    @classmethod
    def for_env(cls, env: Environment, allow_unbound: bool = False) -> HostPolicy:
        default: list[str] = []
        if AUTH0_DOMAIN in env.entries:
            host = normalise_host(env.entries[AUTH0_DOMAIN].value.reveal())
            default = [host] if host else []
        explicit = {name: list(e.allowed_hosts) for name, e in env.entries.items()}
        hosts = {name for name, e in env.entries.items() if name == AUTH0_DOMAIN or e.kind == "domain"}
        recorded = {name: list(e.bound_to) for name, e in env.entries.items() if e.bound_to is not None}
        return cls(explicit, default, allow_unbound, hosts, recorded)

    def check(self, url: str, used: Iterable[str]) -> list[str]:
        """Raise PolicyError if any used entry may not go to the URL's host (or not over its
        scheme); UsageError for a URL that is not http(s) with a host.

        Returns the names sent unbound (for the caller's loud warning)."""
        from vault.inject.url import host_of, parse

        parsed = parse(url)
        host, scheme = host_of(parsed), parsed.scheme
        unbound: list[str] = []
        for name in sorted(set(used)):
            patterns = self.explicit.get(name, []) or self.recorded.get(name, self.default)
            if not self.explicit.get(name) and self.allow_unbound:
                if not (patterns and host_allowed(host, [p.removeprefix(PLAIN) for p in patterns])):
                    unbound.append(name)
                continue
            if not patterns:
                raise PolicyError(
                    f"refusing to send {name!r} to {host!r}: the entry is bound to no host",
                    f"`tokensafe hosts add {name} {host}` binds it; --allow-unbound sends it anyway",
                )
            bare = [p.removeprefix(PLAIN) for p in patterns]
            if not host_allowed(host, bare):
                raise PolicyError(
                    f"refusing to send {name!r} to {host!r}: allowed hosts are {', '.join(patterns)}",
                    f"check the URL; if this host is right, `tokensafe hosts add {name} "
                    f"{PLAIN if scheme == 'http' else ''}{host}`",
                )
            if name not in self.hosts and not _matches(host, scheme, patterns):
                raise PolicyError(
                    f"refusing to send {name!r} to {host!r} over plain http://: its binding allows https:// only",
                    f"use https://; for a test server, `tokensafe hosts add {name} http://{host}` "
                    "allows plain http to that host",
                )
        return unbound
