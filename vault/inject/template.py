"""One resolver for `{{name}}` and `{{vault:name}}`, following Postman's rules.

- The pattern is Postman's `\\{\\{([^{}]*?)}}`, applied repeatedly so that nested references
  (`{{token_{{env}}}}` or a value that itself holds `{{other}}`) resolve.
- `{{$guid}}`, `{{$timestamp}}` … are Postman's dynamic variables: generated when
  `dynamic=True` (at send time), otherwise left alone for the consumer (newman) to fill.
  They are never looked up in the vault.
- An unknown name raises `NotFoundError` naming every unknown name (never a value), unless
  `keep_unknown`, which leaves it literally as Postman does.
- Bounded: at most `MAX_DEPTH` passes (Postman's limit; a cycle stops there, as in Postman),
  and the text may grow by at most `MAX_GROWTH` bytes in all — values that nest references
  (`a` = `{{b}}{{b}}`, `b` = `{{c}}{{c}}` …) would otherwise double it on every pass. Past
  that, `UsageError` (no value in its text).
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vault.errors import NotFoundError, UsageError

VAR_RE = re.compile(r"\{\{([^{}]*?)}}")
VAULT_PREFIX = "vault:"
# Postman substitutes up to 19 times; a deeper chain is almost certainly a cycle.
MAX_DEPTH = 19
# How much resolving may add to a text: far beyond any real template, far below exhaustion.
MAX_GROWTH = 16 << 20
# The hint names no flag: a resolver serves several commands; each caller names its own.
UNKNOWN_HINT = "`tokensafe list` shows the names in the vault; `tokensafe set NAME` adds one"


def _iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"


# The dynamic variables that matter for API calls; other `$random…` names are left alone.
DYNAMIC = {
    "$guid": lambda: str(uuid.uuid4()),
    "$randomUUID": lambda: str(uuid.uuid4()),
    "$timestamp": lambda: str(int(time.time())),
    "$isoTimestamp": _iso,
    "$randomInt": lambda: str(random.randint(0, 1000)),
}


@dataclass
class Layer:
    """One scope of variables; `secret` marks vault values (tracked for host binding)."""

    name: str
    values: Mapping[str, str] = field(repr=False)
    secret: bool = False


@dataclass
class Resolver:
    """Resolves templates against scopes in precedence order (first wins)."""

    layers: Sequence[Layer]
    keep_unknown: bool = False
    dynamic: bool = False
    used_secrets: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    unknown_hint: str = UNKNOWN_HINT

    def lookup(self, name: str) -> str | None:
        vault_only = name.startswith(VAULT_PREFIX)
        key = name[len(VAULT_PREFIX):] if vault_only else name
        for layer in self.layers:
            if vault_only and not layer.secret:
                continue
            if key in layer.values:
                value = layer.values[key]
                if layer.secret:
                    self.used_secrets.add(key)
                return "" if value is None else str(value)
        return None

    def _sub(self, m: re.Match[str]) -> str:
        name = m.group(1).strip()
        if name.startswith("$"):
            gen = DYNAMIC.get(name) if self.dynamic else None
            return gen() if gen else m.group(0)
        value = self.lookup(name)
        if value is None:
            self.unknown.add(name)
            return m.group(0)
        return value

    def resolve(self, text: str, check: bool = True) -> str:
        """Resolve `text`; with `check`, raise on unknown names collected so far."""
        limit = len(text) + MAX_GROWTH
        for _ in range(MAX_DEPTH):
            new = self._pass(text, limit)
            if new == text:
                break
            text = new
        if check:
            self.check()
        return text

    def _pass(self, text: str, limit: int) -> str:
        """One substitution pass, refusing as soon as the result would exceed `limit` chars."""
        parts: list[str] = []
        size = pos = 0
        for m in VAR_RE.finditer(text):
            piece = self._sub(m)
            size += (m.start() - pos) + len(piece)
            if size > limit:
                raise UsageError(
                    f"resolving {{{{…}}}} would grow the text past {MAX_GROWTH >> 20} MiB more than it was: "
                    "values that refer to other variables expand too far (a cycle that doubles?)",
                    "check the values that hold {{…}} references: `tokensafe list` shows the names")
            parts += (text[pos:m.start()], piece)
            pos = m.end()
        if not parts:
            return text
        parts.append(text[pos:])
        return "".join(parts)

    def check(self) -> None:
        if self.unknown and not self.keep_unknown:
            names = ", ".join(sorted(self.unknown))
            raise NotFoundError(f"unknown variable(s): {names}", self.unknown_hint)


def resolve(text: str, values: Mapping[str, str], *, keep_unknown: bool = False,
            dynamic: bool = False) -> str:
    """Resolve one template against the vault values only (`tokensafe inject`)."""
    hint = f"{UNKNOWN_HINT}; --keep-unknown leaves them as {{{{name}}}}"
    return Resolver([Layer("vault", values, secret=True)], keep_unknown, dynamic,
                    unknown_hint=hint).resolve(text)
