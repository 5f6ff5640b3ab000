"""Streaming output masking: every secret and its encoded forms become `<redacted:NAME>`.

Forms masked for each value: raw UTF-8, JSON-escaped (ASCII and not, with and without
`\\/`), URL-encoded (`quote`, `quote_plus`), base64 and base64url (padded and not), and the
base64/base64url *cores* of the value at the three byte alignments, so a secret inside a
larger base64 blob (e.g. `Basic base64(user:secret)`) is caught too.

Speed: all forms go into one Aho-Corasick automaton (`ahocorasick_rs`, a Rust DFA; several
hundred MB/s) with leftmost-longest semantics; without it, one compiled alternation regex
(correct but slow). Across reads, only a tail that is a prefix of some form is held back,
so prompts and partial lines flow through immediately and a value split over two reads
is still masked.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping

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


def forms(value: str) -> set[bytes]:
    """Every encoded form of `value` that output masking looks for."""
    raw = value.encode("utf-8")
    out = {raw}
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


class Masker:
    """Masks a byte stream; `feed()` chunks in order, then `flush()` once at the end."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        table: dict[bytes, bytes] = {}
        # Longer values first, so a value that contains another keeps its own name.
        for name, value in sorted(secrets.items(), key=lambda kv: -len(kv[1] or "")):
            if value is None or len(value) < MIN_VALUE_LEN:
                continue
            label = f"<redacted:{name}>".encode()
            for f in forms(value):
                table.setdefault(f, label)
        self._patterns = sorted(table, key=len, reverse=True)
        self._labels = [table[p] for p in self._patterns]
        self._max = max((len(p) for p in self._patterns), default=0)
        self._prefixes = {p[:k] for p in self._patterns for k in range(1, len(p))}
        self._pre4 = {p[:4] for p in self._patterns}
        self._tail = b""
        self._find = self._build()

    def __repr__(self) -> str:
        return f"Masker(<{len(self._patterns)} forms>)"

    def stream(self) -> Masker:
        """A masker sharing this one's automaton, with its own held-back tail."""
        other = object.__new__(Masker)
        other.__dict__.update(self.__dict__)
        other._tail = b""
        return other

    @property
    def active(self) -> bool:
        return bool(self._patterns)

    def _build(self):
        if not self._patterns:
            return lambda data: []
        try:
            import ahocorasick_rs as ac
        except ImportError:
            # Leftmost-first alternation, longest first = leftmost-longest among forms.
            rx = re.compile(b"|".join(re.escape(p) for p in self._patterns))
            index = {p: i for i, p in enumerate(self._patterns)}
            return lambda data: [(index[m.group()], m.start(), m.end()) for m in rx.finditer(data)]
        auto = ac.BytesAhoCorasick(self._patterns, matchkind=ac.MatchKind.LeftmostLongest,
                                   implementation=ac.Implementation.DFA)
        return auto.find_matches_as_indexes

    def mask(self, data: bytes) -> bytes:
        """Mask a complete buffer (no streaming state)."""
        return self._apply(data, self._find(data), len(data))[0]

    def _apply(self, data: bytes, matches, limit: int) -> tuple[bytes, int]:
        """Replace matches starting before `limit`; return (output, bytes consumed)."""
        if not matches:
            return data[:limit], limit
        parts: list[bytes] = []
        pos = 0
        for idx, start, end in matches:
            if start >= limit:
                break
            parts.append(data[pos:start])
            parts.append(self._labels[idx])
            pos = end
        limit = max(limit, pos)
        parts.append(data[pos:limit])
        return b"".join(parts), limit

    def _held(self, data: bytes) -> int:
        """Start of the longest suffix of `data` that is a proper prefix of some form
        (it must wait for the next read); len(data) if there is none."""
        n = len(data)
        pre4, prefixes = self._pre4, self._prefixes
        for i in range(max(0, n - self._max + 1), n):
            # A 4-byte slice and set lookup first: cheap, and rules out almost every position.
            if (n - i < 4 or data[i:i + 4] in pre4) and data[i:] in prefixes:
                return i
        return n

    def feed(self, chunk: bytes) -> bytes:
        if not self._patterns:
            return chunk
        data = self._tail + chunk if self._tail else chunk
        # Matches that start before the held-back tail are final: a longer form starting
        # there would make the rest of `data` a proper prefix, i.e. part of the tail.
        out, used = self._apply(data, self._find(data), self._held(data))
        self._tail = data[used:]
        return out

    def flush(self) -> bytes:
        data, self._tail = self._tail, b""
        return self.mask(data) if data else b""


def masker_for(values: Mapping[str, str], extra: Iterable[tuple[str, str]] = ()) -> Masker:
    secrets = dict(values)
    for k, v in extra:
        secrets.setdefault(k, v)
    return Masker(secrets)
