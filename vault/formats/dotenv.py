"""`.env` files: written so that python-dotenv reads every value back as it was, read with
python-dotenv itself (imported on first use: it is not needed by `get` or `run`).

Reading is literal (`interpolate=False`): `import` stores what the file says, not what
`${HOME}` expands to in the importing shell. python-dotenv's default reader does expand
`${NAME}` and `${NAME:-default}`; a value holding such text reads back changed there, and
no quoting prevents it (interpolation runs after unquoting).

NUL cannot be held by an environment variable (execve refuses it), so it is refused here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from vault.errors import UsageError

# Read the same by docker's --env-file (no quoting at all) and by dotenv parsers.
_PLAIN = re.compile(r"[^\s'\"#\\$`]*")
# python-dotenv's double-quoted value (its parser.py): an escaped quote is `\"` wherever a
# backslash precedes a quote, so a value that ends in a backslash cannot be double-quoted
# safely when another `"` follows anywhere later in the file.
_DQ_VALUE = re.compile(r'"((?:\\"|[^"])*)"')
_SQ_VALUE = re.compile(r"'((?:\\'|[^'])*)'")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_TO_ESCAPE = re.compile(r'[\\"\n\r]')
# Up to the value: optional `export`, the key (bare or single-quoted), `=`, blanks.
_BEFORE_VALUE = re.compile(r"\s*(?:export[^\S\r\n]+)?(?:'[^']+'|[^=#\s]+)[^\S\r\n]*=[^\S\r\n]*")


def _bare_ok(v: str) -> bool:
    """python-dotenv reads an unquoted value literally, less blanks around it and a ` #…`."""
    return (v == v.strip() and v[:1] not in ("'", '"') and "\n" not in v and "\r" not in v
            and not re.search(r"\s#", v))


def _quoted(v: str) -> str:
    return '"' + _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group()], v) + '"'


def render(values: Mapping[str, str]) -> str:
    """`NAME=value` lines; a value leaves plain only when every reader takes it literally."""
    lines, last = [], []
    for var, v in values.items():
        if "\0" in v:
            raise UsageError(f"{var}: a value with a NUL byte cannot be an environment variable",
                             "export it with --format json instead")
        if _PLAIN.fullmatch(v):
            lines.append(f"{var}={v}\n")
        elif not v.endswith("\\"):
            lines.append(f"{var}={_quoted(v)}\n")
        elif _bare_ok(v):
            lines.append(f"{var}={v}\n")  # `C:\dir\`: unquoted values keep backslashes
        else:
            # The closing quote would read as escaped: python-dotenv then backtracks to it,
            # which only works when no `"` follows, i.e. on the file's last line.
            last.append((var, v))
    if len(last) > 1:
        names = ", ".join(var for var, _ in last)
        raise UsageError(f"{names}: only one value that ends in a backslash and holds blanks "
                         "or line breaks fits in a .env file", "export them with --format json")
    lines.extend(f"{var}={_quoted(v)}\n" for var, v in last)
    return "".join(lines)


@dataclass
class Binding:
    """One `KEY=value` of a file; `start`/`end`: the value's raw bytes (inside any quotes)."""

    key: str
    value: str
    start: int
    end: int

    def __repr__(self) -> str:  # never the value
        return f"Binding(key={self.key!r}, start={self.start}, end={self.end})"


def read(data: bytes) -> list[Binding]:
    """Every binding with a value, in file order (a key set twice appears twice), as
    python-dotenv reads it without interpolation. Bytes that are not UTF-8 survive in the
    spans; in values they become U+FFFD."""
    from io import StringIO

    from dotenv.parser import parse_stream

    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    text = data[bom:].decode("utf-8", "surrogateescape")
    out: list[Binding] = []
    pos = 0  # character offset of the binding in `text`
    for b in parse_stream(StringIO(text)):
        raw = b.original.string
        at, pos = pos, pos + len(raw)
        if b.key is None or b.value is None or b.error:
            continue
        m = _BEFORE_VALUE.match(raw)
        if m is None:
            continue
        v0 = m.end()
        q = _DQ_VALUE.match(raw, v0) or _SQ_VALUE.match(raw, v0)
        v0, v1 = (q.start(1), q.end(1)) if q else (v0, v0 + len(b.value))
        if not q and raw[v0:v1] != b.value:
            continue  # not where python-dotenv found it: leave it out rather than guess
        s = bom + len(text[:at + v0].encode("utf-8", "surrogateescape"))
        e = s + len(raw[v0:v1].encode("utf-8", "surrogateescape"))
        value = b.value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        out.append(Binding(b.key, value, s, e))
    return out
