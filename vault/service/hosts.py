"""Which hosts an entry may be sent to: list, add and remove them without touching its value.

The policy itself lives in `vault.inject.hosts`: an entry's own allowed hosts, else an
implicit binding to the environment's `auth0_domain`, else none. These use cases show the
*effective* hosts and change an entry's own list. Adding a host to an entry that relied on
the implicit binding keeps that binding's host: otherwise allowing a local stand-in would
silently refuse the real tenant next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.errors import UsageError
from vault.record import Record
from vault.service.context import Context

OWN = "own"  # the entry's own allowed hosts
IMPLICIT = "auth0_domain"  # bound to the environment's auth0_domain
RECORDED = "recorded"  # bound to the auth0_domain it had when stored, which has changed since
NONE = "none"  # bound to no host: refused unless --allow-unbound


class EntryHosts(Record):
    """The hosts one entry may go to, and where that rule comes from (OWN, IMPLICIT or NONE)."""

    __slots__ = ("name", "hosts", "source")

    def __init__(self, name: str, hosts: list[str], source: str) -> None:
        self.name = name
        self.hosts = hosts
        self.source = source

    def to_json(self) -> dict[str, Any]:
        return self.as_dict()

    def describe(self) -> str:
        """`a.com, b.com`, `t.auth0.com (via auth0_domain)` or `- (none: …)` for humans."""
        if self.source == OWN:
            return ", ".join(self.hosts)
        if self.source == IMPLICIT:
            return f"{', '.join(self.hosts)} (via auth0_domain)"
        if self.source == RECORDED:
            return f"{', '.join(self.hosts)} (auth0_domain when stored)"
        return "-"


class HostsListing(Record):
    __slots__ = ("env", "entries")

    def __init__(self, env: str, entries: list[EntryHosts]) -> None:
        self.env = env
        self.entries = entries

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env, "entries": [e.to_json() for e in self.entries]}


def implicit_hosts(env: Any) -> list[str]:
    """The host that entries without their own hosts are bound to: [auth0_domain's host] or []."""
    from vault.inject.hosts import HostPolicy

    return list(HostPolicy.for_env(env).default)


def effective(env: Any, name: str, default: list[str] | None = None) -> EntryHosts:
    """The effective hosts of entry `name` in `env` (`default`: implicit_hosts(env), if known)."""
    entry = env.entries[name]
    if entry.allowed_hosts:
        return EntryHosts(name, list(entry.allowed_hosts), OWN)
    default = implicit_hosts(env) if default is None else default
    # The binding recorded when the value was stored wins over today's auth0_domain (the
    # request-time policy does the same), so a changed domain shows as what it is.
    hosts = default if entry.bound_to is None else list(entry.bound_to)
    if not hosts:
        return EntryHosts(name, [], NONE)
    return EntryHosts(name, hosts, IMPLICIT if hosts == default else RECORDED)


def stale_bindings(env: Any) -> list[EntryHosts]:
    """Entries still bound to an earlier auth0_domain, or to none, while the environment has
    one now: a domain change never widens where a stored secret may go (SECURITY.md)."""
    default = implicit_hosts(env)
    if not default:
        return []
    out = [effective(env, n, default) for n in sorted(env.entries) if n != "auth0_domain"]
    return [h for h in out if h.source in (RECORDED, NONE)]


def list_hosts(ctx: Context, name: str | None = None, env: str | None = None) -> HostsListing:
    """The effective hosts of NAME, or of every entry of ENV (default: the current one)."""
    e = ctx.read().env(env)
    default = implicit_hosts(e)
    names = [e.get(name).name] if name else sorted(e.entries)
    return HostsListing(e.name, [effective(e, n, default) for n in names])


class HostsChanged(Record):
    __slots__ = ("env", "entry", "added", "removed", "kept_implicit")

    def __init__(self, env: str, entry: EntryHosts, added: list[str], removed: list[str],
                 kept_implicit: list[str]) -> None:
        self.env = env
        self.entry = entry  # the effective hosts after the change
        self.added = added  # patterns newly allowed
        self.removed = removed  # patterns no longer allowed
        self.kept_implicit = kept_implicit  # the auth0_domain host made explicit by an add


def add_hosts(ctx: Context, name: str, hosts: Sequence[str], env: str | None = None) -> HostsChanged:
    """Allow NAME to go to HOSTS as well; its value and other hosts stay as they are."""
    from vault.store.model import check_host_pattern

    patterns = [check_host_pattern(h) for h in hosts]
    if not patterns:
        raise UsageError("no host given", f"e.g. tokensafe hosts add {name} api.example.com")
    with ctx.edit() as data:
        e = data.env(env)
        entry = e.get(name)
        # What it may reach now stays reachable: the recorded binding, not today's domain.
        kept = [] if entry.allowed_hosts else effective(e, name).hosts
        before = set(entry.allowed_hosts) | set(kept)
        entry.allowed_hosts = sorted(before | set(patterns))
        added = sorted(set(patterns) - before)
        return HostsChanged(e.name, effective(e, name), added, [], kept)


def remove_hosts(ctx: Context, name: str, hosts: Sequence[str], env: str | None = None) -> HostsChanged:
    """Stop NAME going to HOSTS (each must be one of its own); its value stays as it is.

    Removing the last one leaves the entry with no hosts of its own: it is then bound as it
    was when stored (the environment's auth0_domain of that time, or nothing).
    """
    from vault.store.model import check_host_pattern

    patterns = [check_host_pattern(h) for h in hosts]
    if not patterns:
        raise UsageError("no host given", f"e.g. tokensafe hosts rm {name} api.example.com")
    with ctx.edit() as data:
        e = data.env(env)
        entry = e.get(name)
        unknown = [p for p in patterns if p not in entry.allowed_hosts]
        if unknown:
            now = effective(e, name)
            why = ("its binding to auth0_domain is implicit: it ends when the entry has hosts of its own"
                   if now.source == IMPLICIT else "")
            raise UsageError(
                f"{name!r} has no allowed host {', '.join(unknown)}"
                + (f"; {why}" if why else ""),
                f"`tokensafe hosts list {name}` shows its hosts")
        entry.allowed_hosts = sorted(set(entry.allowed_hosts) - set(patterns))
        return HostsChanged(e.name, effective(e, name), [], sorted(set(patterns)), [])
