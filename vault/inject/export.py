"""Render an environment for other tools: postman, dotenv, json, shell.

Output goes to a pipe (`| newman run c.json -e /dev/stdin`, `docker run --env-file
/dev/stdin`, `eval "$(…)"`); the CLI refuses a terminal without --reveal.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence

from vault.errors import UsageError
from vault.formats import dotenv, postman_env
from vault.inject.envnames import env_map
from vault.inject.envpolicy import split_allowed

FORMATS = ("postman", "dotenv", "json", "shell")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _shell(mapping: Mapping[str, str]) -> str:
    bad = [var for var in mapping if not _SHELL_NAME.fullmatch(var)]
    if bad:
        raise UsageError(f"not a shell variable name: {', '.join(bad)}",
                         "drop --as-is so names become UPPER_CASE")
    nul = [var for var, v in mapping.items() if "\0" in v]
    if nul:
        raise UsageError(f"{', '.join(nul)}: a value with a NUL byte cannot be a shell variable",
                         "export it with --format json instead")
    return "".join(f"export {var}={shlex.quote(v)}\n" for var, v in mapping.items())


def render(fmt: str, env_name: str, values: Mapping[str, str], *, as_is: bool = False,
           kinds: Mapping[str, str] | None = None, allow_env: Sequence[str] = (),
           dropped: list[str] | None = None) -> str:
    """The document; for dotenv and shell, denied variable names (vault.inject.envpolicy) not
    in `allow_env` are left out and appended to `dropped`."""
    if fmt == "postman":
        return postman_env.render(env_name, values, kinds)
    if fmt == "json":
        return json.dumps(dict(values), indent=2, ensure_ascii=False) + "\n"
    mapping, left_out = split_allowed({var: v for var, (_, v) in env_map(values, as_is).items()}, allow_env)
    if dropped is not None:
        dropped.extend(left_out)
    if fmt == "dotenv":
        return dotenv.render(mapping)
    if fmt == "shell":
        return _shell(mapping)
    raise UsageError(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
