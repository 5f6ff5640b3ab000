"""Streaming output masking: every secret and its encoded forms become `<redacted:NAME>`.

Forms masked for each value: raw UTF-8, JSON-escaped (ASCII and not, with and without
`\\/`), URL-encoded (`quote`, `quote_plus`), base64 and base64url (padded and not), and the
base64/base64url *cores* of the value at the three byte alignments, so a secret inside a
larger base64 blob (e.g. `Basic base64(user:secret)`) is caught too.

Speed: every form goes into one multi-literal matcher (`vault.literal_scan`: Hyperscan,
else ahocorasick_rs, else `re`) that reports all (overlapping) occurrences; a greedy
leftmost-longest pass then picks what to replace. Across reads, only a tail that is a proper prefix of some form is held
back, so prompts and partial lines flow through at once and a value split over two reads
is still masked.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any, NamedTuple

from vault import literal_scan

# Shorter values would mask ordinary words; they are not masked (documented in README).
MIN_VALUE_LEN = 4
# base64 cores of shifted alignments only for values long enough to be distinctive.
MIN_CORE_LEN = 12


def _b64_cores(raw: bytes, alphabet: bytes | None) -> set[bytes]:
    """base64 characters fully determined by `raw` when it starts at byte offset 0, 1 or 2."""
    out: set[bytes] = set()
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw, alphabet)
        first = -(-8 * shift // 6)  # ceil: first char whose 6 bits all come from raw
        last = (8 * shift + 8 * len(raw)) // 6  # chars ending within raw
        core = enc[first:last]
        if len(core) >= MIN_CORE_LEN:
            out.add(core)
    return out


def forms(value: str, casefold: bool = False) -> set[bytes]:
    """Every encoded form of `value` that output masking looks for; with `casefold`, its
    lower-case form too (a host name as parsers normalise it)."""
    # surrogatepass: a lone surrogate (valid in JSON, so in an imported value) must not
    # make masking fail; the form is what an output with that value would hold.
    raw = value.encode("utf-8", "surrogatepass")
    out = {raw}
    if casefold:
        out.add(value.lower().encode("utf-8", "surrogatepass"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return {f for f in out if len(f) >= MIN_VALUE_LEN}  # the encoders below need valid text
    if "\n" in value:  # a pseudo-terminal turns \n into \r\n on the way out
        out.add(value.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    for ascii_only in (True, False):
        j = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        out |= {j.encode(), j.replace("/", "\\/").encode()}
    out |= {
        urllib.parse.quote(value, safe="").encode(),
        urllib.parse.quote(value).encode(),
        urllib.parse.quote_plus(value, safe="").encode(),
    }
    for alt in (None, b"-_"):
        enc = base64.b64encode(raw, alt)
        out |= {enc, enc.rstrip(b"=")}
        if len(raw) >= MIN_CORE_LEN:
            out |= _b64_cores(raw, alt)
    return {f for f in out if len(f) >= MIN_VALUE_LEN}


Match = literal_scan.Match


def _select(matches: list[Match]) -> list[Match]:
    """Leftmost-longest, non-overlapping, from all occurrences."""
    if len(matches) < 2:
        return matches
    matches.sort(key=lambda m: (m[1], m[1] - m[2]))
    out: list[Match] = []
    pos = 0
    for m in matches:
        if m[1] >= pos:
            out.append(m)
            pos = m[2]
    return out


class _Tables(NamedTuple):
    patterns: list[bytes]  # every form, longest first
    labels: list[bytes]  # `<redacted:NAME>` of each pattern
    max: int  # longest form
    by4: dict[bytes, list[bytes]]  # forms by their first 4 bytes
    short: set[bytes]  # every prefix under 4 bytes
    keys4: list[bytes]  # sorted keys of by4


class Masker:
    """Masks a byte stream; `stream()` gives an independent state for `feed()`/`flush()`."""

    def __init__(self, secrets: Mapping[str, str], backend: str | None = None, casefold: bool = False) -> None:
        # Forms and matchers are built on first use: a child that prints nothing (or a
        # `run -- true`) costs nothing. Both live in containers filled in place, shared
        # with every stream().
        self._secrets = dict(secrets)
        self._t: list[_Tables] = []
        self._tail = b""
        self._backend = backend
        self._casefold = casefold  # also mask each value in lower case (error text naming hosts)
        self._matchers: list[Any] = []

    @property
    def _tab(self) -> _Tables:
        if self._t:
            return self._t[0]
        table: dict[bytes, bytes] = {}
        # Longer values first, so a value that contains another keeps its own name.
        for name, value in sorted(self._secrets.items(), key=lambda kv: -len(kv[1] or "")):
            if value is None or len(value) < MIN_VALUE_LEN:
                continue
            label = f"<redacted:{name}>".encode()
            for f in forms(value, self._casefold):
                table.setdefault(f, label)
        patterns = sorted(table, key=len, reverse=True)
        # For the held-back tail: forms by their first 4 bytes, and all prefixes under 4.
        by4: dict[bytes, list[bytes]] = {}
        for p in patterns:
            by4.setdefault(p[:4], []).append(p)
        self._t.append(_Tables(
            patterns=patterns, labels=[table[p] for p in patterns],
            max=max((len(p) for p in patterns), default=0), by4=by4,
            short={p[:k] for p in patterns for k in range(1, min(4, len(p)))}, keys4=sorted(by4)))
        return self._t[0]

    def _compiled(self) -> list[Any]:
        if not self._matchers:
            name, find = literal_scan.build(self._tab.patterns, self._backend)
            # The same kind of matcher over the 4-byte keys finds tail candidates in one call.
            find4 = (literal_scan.regex_finder(self._tab.keys4) if name == "re"
                     else literal_scan.build(self._tab.keys4, name)[1])
            self._matchers[:] = [name, find, find4]  # in place: streams share it
        return self._matchers

    @property
    def backend(self) -> str:
        return self._compiled()[0]

    def _find(self, data: bytes) -> list[Match]:
        return self._compiled()[1](data)

    def _find4(self, data: bytes) -> list[Match]:
        return self._compiled()[2](data)

    def __repr__(self) -> str:
        return f"Masker(<{len(self._tab.patterns)} forms>)"

    def stream(self) -> Masker:
        """A masker sharing this one's matcher, with its own held-back tail."""
        other = object.__new__(Masker)
        other.__dict__.update(self.__dict__)
        other._tail = b""
        return other

    def mask(self, data: bytes) -> bytes:
        """Mask a complete buffer (no streaming state)."""
        parts, _ = self._apply(data, _select(self._find(data)), len(data))
        return b"".join(parts)

    def _apply(self, data: bytes, matches: list[Match], limit: int) -> tuple[list[bytes | memoryview], int]:
        """Pieces of output for matches starting before `limit`, and the bytes consumed.

        Pieces are memoryview slices (no copy): the caller writes them with writev."""
        view = memoryview(data)
        if not matches:
            return [view[:limit]], limit
        parts: list[bytes | memoryview] = []
        labels = self._tab.labels
        pos = 0
        for idx, start, end in matches:
            if start >= limit:
                break
            parts.append(view[pos:start])
            parts.append(labels[idx])
            pos = end
        limit = max(limit, pos)
        parts.append(view[pos:limit])
        return parts, limit

    def _held(self, data: bytes) -> int:
        """Start of the longest suffix of `data` that is a proper prefix of some form
        (it must wait for the next read); len(data) if there is none."""
        n = len(data)
        base = max(0, n - self._tab.max + 1)
        window = data[base:]
        by4, keys4 = self._tab.by4, self._tab.keys4
        for idx, start, _ in sorted(self._find4(window), key=lambda m: m[1]):
            rest = window[start:]
            if any(len(p) > len(rest) and p.startswith(rest) for p in by4[keys4[idx]]):
                return base + start
        short = self._tab.short
        for i in range(max(base, n - 3), n):
            if data[i:] in short:
                return i
        return n

    def feed_parts(self, chunk: bytes) -> list[bytes | memoryview]:
        """Mask the next chunk of the stream; pieces to write in order (see `feed`)."""
        if not self._tab.patterns:
            return [chunk]
        data = self._tail + chunk if self._tail else chunk
        # Matches that start before the held-back tail are final: a longer form starting
        # there would make the rest of `data` a proper prefix, i.e. part of the tail.
        parts, used = self._apply(data, _select(self._find(data)), self._held(data))
        self._tail = data[used:]
        return parts

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(self.feed_parts(chunk))

    def flush(self) -> bytes:
        data, self._tail = self._tail, b""
        return self.mask(data) if data else b""
