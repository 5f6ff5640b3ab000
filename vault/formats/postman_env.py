"""Postman environment and globals exports: sniff, read (with each value's raw span), write.

The guard reads them to find secrets, `import --scrub` to replace values in place, and
`export --format postman` writes one for newman.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping

from vault.record import Record

SCOPES = ("environment", "globals")
SUFFIXES = (".postman_environment.json", ".postman_globals.json")
_SCOPE_RE = re.compile(rb'"_postman_variable_scope"\s*:\s*"(\w+)"')
# json.dumps(value, ensure_ascii=False / True) for a str value, as json.dumps calls them
_encode_str = json.encoder.encode_basestring
_encode_str_ascii = json.encoder.encode_basestring_ascii


def _after_value_key(data: bytes, at: int) -> bool:
    r"""Is a value's text at `at` preceded by its key: `"value"`, blanks, `:`, blanks, all
    within the 64 bytes before it (what `re.search(rb'"value"\s*:\s*\Z')` there says;
    bytes.rstrip strips exactly the bytes `\s` matches)."""
    if at >= 9 and data.startswith(b'"value": ', at - 9):
        return True  # as exporters write it
    w = data[max(0, at - 64):at].rstrip()
    return w.endswith(b":") and w[:-1].rstrip().endswith(b'"value"')


class FormatError(ValueError):
    """The bytes are not a Postman environment or globals export."""


def sniff_scope(head: bytes, name: str = "") -> str | None:
    """`environment` or `globals` for an export (by content, else by file name),
    `collection` for a collection, else None. `head`: the file's first few KB."""
    # The regex from where its literal first occurs (a C search), as no match starts before
    at = head.find(b'"_postman_variable_scope"')
    m = _SCOPE_RE.search(head, at) if at >= 0 else None
    if m:
        return m.group(1).decode("ascii", "replace")
    if name.endswith(SUFFIXES[0]):
        return "environment"
    if name.endswith(SUFFIXES[1]):
        return "globals"
    if b"schema.getpostman.com" in head or b"_postman_id" in head:
        return "collection"
    return None


class Variable(Record):
    """One entry of `values`; `start`/`end`: the value's raw JSON text, inside its quotes
    (None when the text could not be located)."""

    __slots__ = ("key", "value", "type", "start", "end")

    def __init__(self, key: str, value: str, type: str | None, start: int | None,
                 end: int | None) -> None:
        self.key = key
        self.value = value
        self.type = type
        self.start = start
        self.end = end

    def __repr__(self) -> str:  # never the value
        return f"Variable(key={self.key!r}, type={self.type!r}, start={self.start})"


def variables(data: bytes) -> list[Variable]:
    """The variables with a non-empty string value, in file order, whatever the key order
    inside each entry (`jq -S` and other tools re-serialise exports)."""
    return [Variable(*t) for t in rows(data)]


def rows(data: bytes) -> list[tuple[str, str, str | None, int | None, int | None]]:
    """`variables` as plain (key, value, type, start, end) tuples: the guard reads every
    export of a tree and keeps only a few of its variables, so it builds no object for the
    rest."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise FormatError(f"not valid JSON ({e.__class__.__name__})") from None
    values = doc.get("values") if isinstance(doc, dict) else None
    if not isinstance(values, list):
        raise FormatError("no `values` list: not a Postman environment or globals export")
    out: list[tuple[str, str, str | None, int | None, int | None]] = []
    cursor = 0
    for item in values:
        if not isinstance(item, dict):
            continue
        key, value, typ = item.get("key"), item.get("value"), item.get("type")
        if not (isinstance(key, str) and isinstance(value, str) and value):
            continue
        typ = typ if isinstance(typ, str) else None
        # The value's text as the exporter wrote it: with or without JSON unicode escapes
        # (json.dumps of a str, without its per-call set-up; a value whose two spellings
        # are the same is looked for once). First the way exporters write it, at once:
        raw = _encode_str(value).encode()
        at = data.find(raw, cursor)
        if at >= 9 and data.startswith(b'"value": ', at - 9):
            out.append((key, value, typ, at + 1, at + len(raw) - 1))
            cursor = at + len(raw)
            continue
        start = end = None
        raw = b""
        for encode in (_encode_str, _encode_str_ascii):
            first, raw = raw, encode(value).encode()
            if raw == first:
                break
            at = data.find(raw, cursor)
            while at >= 0 and not _after_value_key(data, at):
                at = data.find(raw, at + 1)  # the same text as a key, or another field
            if at >= 0:
                start, end = at + 1, at + len(raw) - 1
                cursor = at + len(raw)
                break
        out.append((key, value, typ, start, end))
    return out


def render(env_name: str, values: Mapping[str, str], kinds: Mapping[str, str] | None = None,
           now: float | None = None) -> str:
    """A Postman environment file newman loads with `-e /dev/stdin`.

    Every entry is enabled (newman honours `"disabled": true` but ignores `"enabled": false`,
    so disabled entries must be left out rather than flagged). Tokens are typed `secret`.
    """
    import uuid  # here: its import (with `platform`) is ~2 ms of every audit's start-up

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
