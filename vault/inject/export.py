"""Render an environment for other tools: postman, dotenv, json, shell.

Output goes to a pipe (`| newman run c.json -e /dev/stdin`, `docker run --env-file
/dev/stdin`, `eval "$(…)"`); the CLI refuses a terminal without --reveal.
"""

from __future__ import annotations

import json
import re
import shlex
import time
import uuid
from collections.abc import Mapping

from vault.errors import UsageError
from vault.inject.envnames import env_map

FORMATS = ("postman", "dotenv", "json", "shell")
# Values docker's --env-file and dotenv parsers both read literally.
_DOTENV_PLAIN = re.compile(r"^[^\s'\"#\\$`]*$")


def to_postman(env_name: str, values: Mapping[str, str], kinds: Mapping[str, str] | None = None,
               now: float | None = None) -> str:
    """A Postman environment file newman loads with `-e /dev/stdin`.

    Every entry is enabled (newman honours `"disabled": true` but ignores `"enabled": false`,
    so disabled entries must be left out rather than flagged). Tokens are typed `secret`.
    """
    kinds = kinds or {}
    now = time.time() if now is None else now
    doc = {
        "id": str(uuid.uuid4()),
        "name": env_name,
        "values": [
            {"key": k, "value": v,
             "type": "default" if kinds.get(k) in ("domain", "url") else "secret",
             "enabled": True}
            for k, v in values.items()
        ],
        "_postman_variable_scope": "environment",
        "_postman_exported_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now)),
        "_postman_exported_using": "tokensafe",
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _dotenv_value(v: str) -> str:
    if _DOTENV_PLAIN.match(v):
        return v
    esc = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("$", "\\$")
    return f'"{esc}"'


def render(fmt: str, env_name: str, values: Mapping[str, str], *, as_is: bool = False,
           kinds: Mapping[str, str] | None = None) -> str:
    if fmt == "postman":
        return to_postman(env_name, values, kinds)
    if fmt == "json":
        return json.dumps(dict(values), indent=2, ensure_ascii=False) + "\n"
    mapping = env_map(values, as_is)
    if fmt == "dotenv":
        return "".join(f"{var}={_dotenv_value(v)}\n" for var, (_, v) in mapping.items())
    if fmt == "shell":
        bad = [var for var in mapping if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", var)]
        if bad:
            raise UsageError(f"not a shell variable name: {', '.join(bad)}",
                             "drop --as-is so names become UPPER_CASE")
        return "".join(f"export {var}={shlex.quote(v)}\n" for var, (_, v) in mapping.items())
    raise UsageError(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
