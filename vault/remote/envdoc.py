"""An environment as the data of one KV v2 secret, and back; name-level differences.

The secret holds each entry as a plain field (`bao kv get` shows `auth0_domain`, and a
field written with `bao kv put` becomes an entry), plus one field `.tokensafe` (a name no
entry can have: entry names start with a letter or _) with what travels with the values:

    {".tokensafe": {"format": 1, "pushed_by": "ana@laptop",
                    "entries": {"auth0_token": {"kind": "jwt", "allowed_hosts": ["x.auth0.com"],
                                                "expires": 1767225600.0, "created": …, "updated": …}}},
     "auth0_token": "eyJ…", "auth0_domain": "x.auth0.com"}

Pure data: no I/O. Differences name entries, never values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from vault.secret import Secret
from vault.store.model import NAME_RE, Entry, Environment, detect_kind

META = ".tokensafe"
FORMAT = 1


def to_kv(env: Environment, pushed_by: str = "") -> dict[str, Any]:
    meta = {n: {"kind": e.kind, "allowed_hosts": list(e.allowed_hosts), "expires": e.expires,
                "created": e.created, "updated": e.updated} for n, e in sorted(env.entries.items())}
    data: dict[str, Any] = {n: e.value.reveal() for n, e in sorted(env.entries.items())}
    data[META] = {"format": FORMAT, "pushed_by": pushed_by, "entries": meta}
    return data


def from_kv(name: str, data: dict[str, Any], skipped: list[str] | None = None) -> Environment:
    """The environment a KV secret holds; fields that cannot be entries are named in `skipped`."""
    meta = data.get(META) if isinstance(data.get(META), dict) else {}
    described = meta.get("entries") if isinstance(meta.get("entries"), dict) else {}
    env = Environment(name)
    for key, value in data.items():
        if key == META:
            continue
        if not NAME_RE.fullmatch(key) or not isinstance(value, str) or not value:
            if skipped is not None:
                skipped.append(key if NAME_RE.fullmatch(key) else "(a field with an invalid name)")
            continue
        d = described.get(key) if isinstance(described.get(key), dict) else None
        if d is None:  # written by another tool: classify as `set` would
            kind, expires = detect_kind(value)
            env.entries[key] = Entry(key, Secret(value), kind, 0.0, 0.0, [], expires)
            continue
        hosts = d.get("allowed_hosts")
        exp = d.get("expires")
        env.entries[key] = Entry(key, Secret(value), str(d.get("kind", "text")),
                                 float(d.get("created") or 0.0), float(d.get("updated") or 0.0),
                                 [str(h) for h in hosts] if isinstance(hosts, list) else [],
                                 float(exp) if isinstance(exp, int | float) else None)
    return env


def pushed_by(data: dict[str, Any]) -> str:
    meta = data.get(META)
    return str(meta.get("pushed_by") or "") if isinstance(meta, dict) else ""


def _shape(env: Environment) -> dict[str, tuple]:
    """What counts as a change of an entry: its value, kind, hosts and expiry (not timestamps)."""
    return {n: (e.value.reveal(), e.kind, tuple(e.allowed_hosts), e.expires) for n, e in env.entries.items()}


def digest(env: Environment) -> str:
    """A fingerprint of the environment's contents, kept inside the encrypted local vault only."""
    raw = json.dumps(sorted(_shape(env).items()), separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


@dataclass
class Diff:
    """How `new` differs from `old`, by entry name."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def describe(self, future: bool = False) -> str:
        """`added a; changed b` (or, with future, `add a; change b`): names only."""
        labels = ("add", "change", "remove") if future else ("added", "changed", "removed")
        parts = [f"{label} {', '.join(names)}" for label, names in
                 zip(labels, (self.added, self.changed, self.removed), strict=True) if names]
        return "; ".join(parts) if parts else ("change nothing" if future else "no changes")

    def to_json(self) -> dict[str, list[str]]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}


def diff(old: Environment | None, new: Environment | None) -> Diff:
    a = _shape(old) if old is not None else {}
    b = _shape(new) if new is not None else {}
    return Diff(sorted(set(b) - set(a)), sorted(set(a) - set(b)),
                sorted(n for n in set(a) & set(b) if a[n] != b[n]))
