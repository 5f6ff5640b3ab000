"""Ciphertext is not a leak: values and files encrypted on purpose, to be committed.

Recognised: Bitnami SealedSecret `encryptedData`, sops `ENC[AES256_GCM,…]` values (and the
armoured keys of its `sops:` block), ansible-vault (`$ANSIBLE_VAULT;1.1;AES256`, whole files
and inline `!vault |` values), git-crypt files (`\\0GITCRYPT\\0`), dotenvx `encrypted:`
values, age (armoured and binary) and PGP messages. They are listed as information in the
report (`encrypted`), never as findings, and never change the exit status. Candidates inside
their spans are dropped; a plaintext value beside them is still found.

DESIGN: one literal pass (Hyperscan when the wheel is there, else a `bytes.find` per
marker) finds the markers; each span's end is a bounded search from its marker, so a
hostile file costs linear time. The pass runs on text files that are not source code, and
on source files only when they gave candidates: a tree of code pays nothing for it.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from vault.record import Record

# Whole files: the first bytes say it all (binary formats carry no plaintext at all).
_WHOLE = ((b"\x00GITCRYPT\x00", "git-crypt"), (b"age-encryption.org/v1\n", "age"),
          (b"$ANSIBLE_VAULT;", "ansible-vault"))
MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"ENC[AES256_GCM,", "sops"),
    (b"-----BEGIN AGE ENCRYPTED FILE-----", "age"),
    (b"-----BEGIN PGP MESSAGE-----", "pgp"),
    (b"$ANSIBLE_VAULT;", "ansible-vault"),
    (b"encrypted:", "dotenvx"),
    (b"SealedSecret", "sealed-secret"),
)
MAX_SPAN = 1024 * 1024
MAX_LISTED = 1000  # encrypted spans listed per file (a generated file may hold many more)
MAX_HITS = 4096
MAX_MISSES = 8  # markers whose span search failed, per buffer, before the rest are ignored
_COSTLY = frozenset({"age", "pgp", "sealed-secret"})  # no single encrypted value is longer; a hostile file cannot stretch one
_SOPS_VALUE = re.compile(rb"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]{0,1048576}+,iv:[A-Za-z0-9+/=]{1,64}+,"
                         rb"tag:[A-Za-z0-9+/=]{1,64}+,type:[a-z]{1,10}+\]")
_DOTENVX_VALUE = re.compile(rb"encrypted:[A-Za-z0-9+/=_-]{40,65536}+")
_HEX_LINE = re.compile(rb"[ \t]{0,64}+[0-9a-f]{2,256}+\r?\n")
_VAULT_HEADER = re.compile(rb"\$ANSIBLE_VAULT;1\.[0-9];AES256(?:;[\w.-]{1,64}+)?\r?\n")
_INDENT = re.compile(rb"[ \t]{0,256}")
_SEALED_KIND = re.compile(rb"[\"']?kind[\"']?[ \t]{0,16}:[ \t]{0,16}[\"']?SealedSecret\b")
_ENC_DATA = re.compile(rb"[\"']?encryptedData[\"']?[ \t]{0,16}:")


class Encrypted(Record):
    """A value or file encrypted on purpose: where, what kind, under which key (never the value)."""

    __slots__ = ("path", "line", "kind", "key")

    def __init__(self, path: str, line: int, kind: str, key: str | None = None) -> None:
        self.path = path
        self.line = line
        self.kind = kind  # sealed-secret | sops | ansible-vault | git-crypt | dotenvx | age | pgp
        self.key = key

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "kind": self.kind, "key": self.key}


Span = tuple[int, int, str, "str | None"]  # (start, end, kind, key)


_WHOLE_MAGICS = tuple(magic for magic, _ in _WHOLE)


def whole_file(head: bytes) -> str | None:
    """The kind of a file that is ciphertext from its first byte, else None."""
    if not head.startswith(_WHOLE_MAGICS):
        return None  # nearly every file: one test for all
    for magic, kind in _WHOLE:
        if head.startswith(magic):
            return kind
    return None


_hs: list[Any] = []


def _marker_hits(buf: bytes) -> list[tuple[int, int]]:
    """(position, marker index) of every marker, in one pass when Hyperscan is there."""
    if not _hs:
        try:
            from vault import literal_scan

            _hs.append(literal_scan.Hyperscan([m for m, _ in MARKERS]))
        except ImportError:
            _hs.append(None)
    hits: list[tuple[int, int]] = []
    cap = MAX_HITS + len(buf) // 256  # a real file holds a marker per value, not per 256 bytes
    if _hs[0] is not None:
        def on_match(i: int, _f: int, to: int, _fl: int, _c: object) -> bool:
            hits.append((to - len(MARKERS[i][0]), i))
            return len(hits) >= cap  # True stops the scan
        try:
            _hs[0].scan(buf, on_match)
        except _terminated():
            pass
        return sorted(hits)
    for i, (m, _) in enumerate(MARKERS):
        p = buf.find(m)
        while p >= 0 and len(hits) < cap:
            hits.append((p, i))
            p = buf.find(m, p + 1)
    return sorted(hits)


def _terminated() -> type[BaseException]:
    import hyperscan

    return hyperscan.ScanTerminated


def spans(buf: bytes, hits: list[tuple[int, int]] | None = None) -> list[Span]:
    """Encrypted spans in `buf`, in order, not overlapping. `hits`: what `_marker_hits(buf)`
    finds, in any order, when a pass over the whole buffer found them already (onepass.py)."""
    out: list[Span] = []
    reach = -1
    misses = 0
    for p, i in _marker_hits(buf) if hits is None else sorted(hits):
        if p < reach:
            continue  # inside a span already found (a PGP block inside a sops file …)
        kind = MARKERS[i][1]
        got = _SPAN_OF[kind](buf, p)
        if got is not None and got[0] < reach:
            continue  # a SealedSecret's span starts at its encryptedData, maybe before the marker
        if got is not None:
            out.append((got[0], got[1], kind, _key_before(buf, got[0])))
            reach = got[1]
        elif kind in _COSTLY:
            misses += 1  # a BEGIN without END searched up to MAX_SPAN: a hostile file
            if misses > MAX_MISSES:  # repeats it; the rest is scanned as plain text
                break
    return out


def _sops(buf: bytes, p: int) -> tuple[int, int] | None:
    m = _SOPS_VALUE.match(buf, p, p + MAX_SPAN)
    return (p, m.end()) if m else None


def _armour(end_marker: bytes) -> Any:
    def span(buf: bytes, p: int) -> tuple[int, int] | None:
        e = buf.find(end_marker, p, p + MAX_SPAN)
        return (p, e + len(end_marker)) if e >= 0 else None
    return span


_TAG_TO_HEADER = re.compile(rb"[ \t]{0,64}\|[-+]?[ \t]{0,64}\r?\n[ \t]{0,64}")


def _ansible(buf: bytes, p: int) -> tuple[int, int] | None:
    m = _VAULT_HEADER.match(buf, p)
    if not m:
        return None
    e = m.end()
    lines = 0
    while lines < 65536:
        h = _HEX_LINE.match(buf, e)
        if not h:
            break
        e, lines = h.end(), lines + 1
    if lines == 0:
        return None
    # `password: !vault |` on the line before: the tag is part of the value
    tag = buf.rfind(b"!vault", max(0, p - 256), p)
    if tag >= 0 and not _TAG_TO_HEADER.fullmatch(buf, tag + 6, p):
        tag = -1  # another line between the tag and the header: not this block's tag
    return (tag if tag >= 0 else p, e)


def _dotenvx(buf: bytes, p: int) -> tuple[int, int] | None:
    m = _DOTENVX_VALUE.match(buf, p)
    return (p, m.end()) if m else None


def _sealed(buf: bytes, p: int) -> tuple[int, int] | None:
    """From a `kind: SealedSecret` line, the span of its `encryptedData` block (YAML: the
    lines indented under it; JSON: the object after it). The template beside it is plain."""
    if not _SEALED_KIND.search(buf, max(0, p - 48), p + 12):
        return None  # `SealedSecret` in prose or code, not a manifest's kind
    nxt = buf.find(b"\n---", p)  # the YAML document ends there
    doc_end = nxt if nxt >= 0 else len(buf)
    doc_start = buf.rfind(b"\n---", 0, p)
    doc_start = doc_start + 1 if doc_start >= 0 else 0
    k = buf.find(b"encryptedData", doc_start, min(doc_end, doc_start + 4 * MAX_SPAN))
    m = _ENC_DATA.match(buf, k - 1) or _ENC_DATA.match(buf, k) if k >= 0 else None
    if not m:
        return None
    after = buf[m.end():m.end() + 256].lstrip(b" \t")
    if after.startswith(b"{"):
        close = buf.find(b"}", m.end(), m.end() + MAX_SPAN)
        return (m.start(), close + 1) if close >= 0 else None
    # YAML: every following line indented deeper than the `encryptedData:` line
    ls = buf.rfind(b"\n", 0, m.start()) + 1
    indent = _INDENT.match(buf, ls).end() - ls  # type: ignore[union-attr]
    e = buf.find(b"\n", m.end())
    while 0 <= e < doc_end:
        nl = buf.find(b"\n", e + 1)
        nl = nl if nl >= 0 else len(buf)
        row = buf[e + 1:nl]
        if row.strip() and _INDENT.match(row).end() <= indent:  # type: ignore[union-attr]
            break
        e = nl if nl < len(buf) else -1
        if e < 0:
            return (m.start(), len(buf))
    return (m.start(), e if e >= 0 else len(buf))


_SPAN_OF = {"sops": _sops, "age": _armour(b"-----END AGE ENCRYPTED FILE-----"),
            "pgp": _armour(b"-----END PGP MESSAGE-----"), "ansible-vault": _ansible,
            "dotenvx": _dotenvx, "sealed-secret": _sealed}


def _key_before(buf: bytes, start: int) -> str | None:
    """The key a value is assigned to (`password: ENC[…]`, `API_KEY="encrypted:…"`)."""
    # Walked backwards, a bounded number of bytes: quotes and blanks, `:` or `=`, blanks, name
    i, lo = start, max(0, start - 160)
    while i > lo and buf[i - 1] in b"\"' \t":
        i -= 1
    if i <= lo or buf[i - 1] not in b":=":
        return None
    i -= 1
    while i > lo and buf[i - 1] in b"\"' \t":
        i -= 1
    j = i
    while j > lo and buf[j - 1] in _NAME_BYTES:
        j -= 1
    return buf[j:i].decode("utf-8", "replace") if j < i else None


_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def covers(found: list[Span], start: int) -> bool:
    """Is offset `start` inside one of the spans (sorted, disjoint)? A binary search: a
    hostile file may hold many spans and many candidates."""
    i = bisect.bisect_right(found, (start, _AFTER)) - 1
    return i >= 0 and found[i][0] <= start < found[i][1]


_AFTER = float("inf")  # sorts after any end offset: bisect finds the last span starting <= x
