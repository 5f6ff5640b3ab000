"""The decrypted vault contents: environments of entries, with (de)serialisation.

Pure data; no I/O and no crypto. The payload JSON is described in SECURITY.md.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from vault.errors import NotFoundError, UsageError
from vault.record import Record
from vault.secret import Secret

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}\Z")
ENV_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}\Z")
_HOST_RE = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9\-]{0,62})(\.[A-Za-z0-9\-]{1,63})*(:\d{1,5})?\Z")
_JWT_RE = re.compile(r"^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:\d{1,5})?$")
# Hosts that are not dotted names: an IPv4 address, localhost or a bracketed IPv6 address,
# each with an optional port (`127.0.0.1:8443` is where a local stand-in of a tenant runs).
_HOSTLIKE_RE = re.compile(r"^(?:(?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9A-Fa-f:.]{2,45}\])(:\d{1,5})?$")


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid entry name {name!r}",
            "names start with a letter or _, then letters, digits, _ . - (at most 128)",
        )
    return name


# Environments tokensafe keeps for itself (the remotes' own credentials): not listed, not
# created, used or removed by `env`; their commands (`remote …`) manage them.
RESERVED_ENVS = frozenset({"_remotes"})


def check_env_name(name: str) -> str:
    if not ENV_RE.fullmatch(name):
        raise UsageError(
            f"invalid environment name {name!r}",
            "use letters, digits, _ . - (at most 64), e.g. dev or prod",
        )
    return name


def check_host_pattern(pattern: str) -> str:
    """`host`, `*.host`, `host:port`; `http://host[:port]` also allows plain http (no
    wildcard); `https://` is the default and is dropped."""
    p = pattern.strip().lower().removeprefix("https://")
    scheme, rest = ("http://", p[len("http://"):]) if p.startswith("http://") else ("", p)
    rest = rest.rstrip("/")
    if not _HOST_RE.fullmatch(rest) or (scheme and rest.startswith("*.")):
        raise UsageError(
            f"invalid host pattern {pattern!r}",
            "give a host name such as example.auth0.com, a wildcard such as *.auth0.com, "
            "or http://HOST:PORT for a plain-http test server",
        )
    return scheme + rest


def host_allowed(host: str, patterns: list[str]) -> bool:
    """True if `host` matches one pattern; `*.x.com` matches subdomains of x.com, not x.com."""
    from fnmatch import fnmatchcase

    host = host.lower().rstrip(".")
    bare = host.rsplit(":", 1)[0] if ":" in host else host
    for pat in patterns:
        # A pattern without a port allows any port of its host; one with a port, that port only.
        candidate = host if ":" in pat else bare
        if pat.startswith("*."):
            if candidate.endswith(pat[1:]) and fnmatchcase(candidate, pat):
                return True
        elif candidate == pat:
            return True
    return False


def _b64url_json(segment: str) -> Any:
    pad = "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(segment + pad))


def jwt_claims(value: str) -> dict[str, Any] | None:
    """Decode (never verify) a JWT's payload; None if `value` is not a JWT."""
    if not _JWT_RE.match(value):
        return None
    try:
        header_seg, payload_seg, _ = value.split(".")
        header = _b64url_json(header_seg)
        payload = _b64url_json(payload_seg)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return None
    return payload


def detect_kind(value: str) -> tuple[str, float | None]:
    """Classify a value as jwt/token/domain/url/text; for a JWT also return its `exp`."""
    v = value.strip()
    claims = jwt_claims(v)
    if claims is not None:
        exp = claims.get("exp")
        return "jwt", float(exp) if isinstance(exp, int | float) else None
    if re.match(r"^https?://\S+$", v):
        return "url", None
    if _DOMAIN_RE.match(v) or _HOSTLIKE_RE.match(v):  # host[:port]
        return "domain", None
    if len(v) >= 16 and not re.search(r"\s", v) and len(set(v)) >= 8:
        return "token", None
    return "text", None


class Entry(Record):
    __slots__ = ("name", "value", "kind", "created", "updated", "allowed_hosts", "expires", "bound_to")

    def __init__(self, name: str, value: Secret, kind: str = "text", created: float = 0.0,
                 updated: float = 0.0, allowed_hosts: list[str] | None = None,
                 expires: float | None = None, bound_to: list[str] | None = None) -> None:
        self.name = name
        self.value = value
        self.kind = kind
        self.created = created
        self.updated = updated
        self.allowed_hosts = [] if allowed_hosts is None else allowed_hosts
        self.expires = expires
        # Where the entry may go when it has no allowed hosts of its own, fixed when it was
        # stored (the environment's auth0_domain then, or [] for nowhere); None: stored before
        # bindings were recorded, bound to auth0_domain at request time (SECURITY.md, finding 2).
        self.bound_to = bound_to

    @classmethod
    def new(cls, name: str, value: str, allowed_hosts: list[str] | None = None,
            now: float | None = None) -> Entry:
        now = time.time() if now is None else now
        kind, expires = detect_kind(value)
        return cls(check_name(name), Secret(value), kind, now, now,
                   sorted(set(allowed_hosts or [])), expires)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value.reveal(),
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "allowed_hosts": self.allowed_hosts,
            "expires": self.expires,
            **({"bound_to": self.bound_to} if self.bound_to is not None else {}),
        }

    @classmethod
    def from_json(cls, name: str, d: dict[str, Any]) -> Entry:
        bound = d.get("bound_to")
        return cls(name, Secret(d["value"]), d.get("kind", "text"), d.get("created", 0.0),
                   d.get("updated", 0.0), list(d.get("allowed_hosts", [])), d.get("expires"),
                   [str(h) for h in bound] if isinstance(bound, list) else None)

    def describe(self) -> dict[str, Any]:
        """Everything about the entry except its value (for `list`)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "allowed_hosts": self.allowed_hosts,
            "expires": self.expires,
            "length": len(self.value),
        }


class Environment(Record):
    __slots__ = ("name", "entries")

    def __init__(self, name: str, entries: dict[str, Entry] | None = None) -> None:
        self.name = name
        self.entries = {} if entries is None else entries

    def get(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            import difflib  # only on this error path: `get` starts light

            close = difflib.get_close_matches(name, list(self.entries), n=3, cutoff=0.7)
            hint = (f"did you mean {' or '.join(close)}? (`tokensafe list` shows the names)" if close
                    else "`tokensafe list` shows the names; `--env` picks another environment")
            raise NotFoundError(f"no entry {name!r} in environment {self.name!r}", hint) from None

    def values(self) -> dict[str, str]:
        """name -> plaintext value; for injection at the moment of use only."""
        return {n: e.value.reveal() for n, e in self.entries.items()}


class VaultData(Record):
    """The whole decrypted payload."""

    __slots__ = ("current", "environments", "fingerprint_key", "originals", "log_head", "log_key")
    _secret = ("fingerprint_key", "log_key")  # keys; the repr below shows names only anyway

    def __init__(self, current: str = "default", environments: dict[str, Environment] | None = None,
                 fingerprint_key: bytes = b"", originals: dict[str, dict[str, Any]] | None = None,
                 log_head: dict[str, Any] | None = None, log_key: bytes = b"") -> None:
        self.current = current
        self.environments = {} if environments is None else environments
        self.fingerprint_key = fingerprint_key
        # Originals of files rewritten by `import --scrub`, keyed by absolute path (for `restore`).
        self.originals = {} if originals is None else originals
        # The access log's last record this vault has seen: {"seq": n, "mac": hex} (SECURITY.md).
        self.log_head = {} if log_head is None else log_head
        # The access log's MAC key: fixed once, so a new data key (`passwd`, `keys rm`) does not
        # break the chain made before it. Never sent to an agent's clients (`to_bytes(False)`).
        self.log_key = log_key

    def env(self, name: str | None = None) -> Environment:
        name = name or self.current
        try:
            return self.environments[name]
        except KeyError:
            raise NotFoundError(
                f"no environment {name!r}",
                "`tokensafe env list` shows them; `tokensafe env create NAME` makes one",
            ) from None

    def ensure_env(self, name: str) -> Environment:
        check_env_name(name)
        return self.environments.setdefault(name, Environment(name))

    def all_values(self) -> list[str]:
        return [e.value.reveal() for env in self.environments.values() for e in env.entries.values()]

    def to_bytes(self, with_log_key: bool = True) -> bytes:
        doc = {
            "current": self.current,
            "environments": {
                en: {"entries": {n: e.to_json() for n, e in env.entries.items()}}
                for en, env in self.environments.items()
            },
            "fingerprint_key": base64.b64encode(self.fingerprint_key).decode(),
            "originals": self.originals,
        }
        if self.log_head:  # absent until an agent logs: vaults that never used one are unchanged
            doc["log_head"] = self.log_head
        if self.log_key and with_log_key:
            doc["log_key"] = base64.b64encode(self.log_key).decode()
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> VaultData:
        doc = json.loads(raw)
        envs = {
            en: Environment(en, {n: Entry.from_json(n, e) for n, e in body.get("entries", {}).items()})
            for en, body in doc.get("environments", {}).items()
        }
        return cls(doc.get("current", "default"), envs,
                   base64.b64decode(doc.get("fingerprint_key", "")), doc.get("originals", {}),
                   dict(doc.get("log_head") or {}), base64.b64decode(doc.get("log_key", "")))

    def __repr__(self) -> str:
        return f"VaultData(current={self.current!r}, environments={sorted(self.environments)})"
