"""Vault names → environment variable names: `auth0-token` → `AUTH0_TOKEN`.

Upper-cased, every character outside A-Z 0-9 becomes `_`, a leading digit gets a `_` prefix.
`as_is=True` keeps the vault names unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from vault.errors import UsageError

_BAD = re.compile(r"[^A-Z0-9_]")


def env_name(name: str, as_is: bool = False) -> str:
    if as_is:
        return name
    out = _BAD.sub("_", name.upper())
    return "_" + out if out[:1].isdigit() else out


def env_map(values: Mapping[str, str], as_is: bool = False,
            only: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """env var name → (vault name, value); refuses two names that map to one variable."""
    names = list(values)
    if only is not None:
        wanted = list(dict.fromkeys(only))
        missing = [n for n in wanted if n not in values]
        if missing:
            from vault.errors import NotFoundError

            raise NotFoundError(f"no entry named {', '.join(missing)}",
                                "`tokensafe list` shows the names in this environment")
        names = wanted
    out: dict[str, tuple[str, str]] = {}
    for n in names:
        var = env_name(n, as_is)
        if var in out:
            raise UsageError(
                f"entries {out[var][0]!r} and {n!r} both become ${var}",
                "rename one, pick with --only, or use --as-is",
            )
        out[var] = (n, values[n])
    return out
