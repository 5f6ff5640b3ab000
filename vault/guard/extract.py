"""The hot loop: find anchors, then run one small regex at each anchor.

A full regex pass over every byte runs at tens of MB/s in CPython. A dozen anchors (`eyJ`,
`bearer`, `secret`, `token`, …) found in one caseless Hyperscan pass (over 1 GB/s), or by
`bytes.find` on a lowercased copy where the hyperscan wheel is missing, pick the few places
worth a closer look; each anchor has its own matcher that starts there. Vendor prefixes
(`ghp_`, `xoxb-`, `AKIA`, …) are case-sensitive anchors in the same Hyperscan pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable
from typing import Any

from vault import literal_scan
from vault.formats import postman_env
from vault.guard import codevalue, filters, providers
from vault.guard.model import Candidate

# (anchor in lowercase, handler); every handler must cope with a false anchor.
ANCHORS: tuple[tuple[bytes, str], ...] = (
    (b"eyj", "jwt"), (b"bearer", "bearer"), (b"authoriz", "authz"),
    (b"secret", "kv"), (b"token", "kv"), (b"passw", "kv"), (b"private", "pem"),
    (b"api_key", "kv"), (b"apikey", "kv"), (b"api-key", "kv"), (b'auth"', "kv"),
    (b"_pass", "kv"), (b"_key", "kv"),  # `ADMIN_PASS=`, `STRIPE_KEY=` (filters.secret_key_kind)
    # `pass:` (nodemailer's `auth: { user, pass }`), `dbPass = `, `"adminPass":`: `pass` right
    # before a separator or a quote, so that `compass`, `bypass(`, Python's `pass` cost nothing
    (b"pass:", "kv"), (b"pass=", "kv"), (b"pass =", "kv"), (b'pass"', "kv"), (b"pass'", "kv"),
    (b"://", "url"),
)
# Vendor prefixes, matched in their exact case (`ghp_`, `AKIA`): a token stands alone here,
# under any key or none. The table of formats is vault/guard/providers.py.
CASED_ANCHORS: tuple[tuple[bytes, str], ...] = tuple(
    (a, "provider") for a, _ in providers.ANCHORS) + ((b"PuTTY-User-Key-File-", "putty"),)
# The same anchors without hyperscan: one regex pass per leading byte (sre finds a literal
# prefix fast) instead of one `bytes.find` per anchor.
CASED_SCANS = tuple((rx, "provider") for rx in providers.SCANS) + (
    (re.compile(rb"PuTTY-User-Key-File-"), "putty"),)
# In binary files (databases, caches) only shapes strong enough to stand alone.
BINARY_HANDLERS = frozenset({"jwt", "bearer", "pem", "provider"})

LOOKAHEAD = 16 * 1024  # longest value an anchor may start (Auth0 tokens with all scopes ~4 KB)
LOOKBACK = 12 * 1024  # how far back a `"type": "secret"` may sit from its `"key"`
# Hostile files can put an anchor every few bytes (`eyJeyJ…`, `token=token=…`); each costs
# a Python call however cheap its pattern, and each candidate more (classifying it). Real
# files have about one anchor per 100-500 bytes (a log with `token_cache=` on every line:
# one per 90) and far fewer candidates. Budgets that grow with the position in the file:
# an anchor at offset x is examined only while fewer than BASE + x/16 handler calls were
# made and fewer than CANDIDATE_BASE + x/512 candidates came out (the same whatever the
# chunk size); a region of n bytes with more than BASE + n/16 anchor hits is cut short.
# Anchors left out are counted and the file is reported as scanned in part: hostile
# density costs coverage of that file, never time.
ANCHOR_BUDGET_BASE = 4096
HIT_DENSITY = 16
CALL_DENSITY = 16
CANDIDATE_BASE = 2048
CANDIDATE_DENSITY = 512

_B64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_B64ANY = _B64URL | frozenset(b"+/=")
_IDENT_RUN = re.compile(rb"[A-Za-z0-9_.\-]{0,100}")
_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")  # _IDENT_RUN's
_AFTER_KEY = frozenset(b"\"'%:= \t\\")  # quote, URL escape, separator, space, JSON escape

# Every quantifier is bounded and, where it cannot give back usefully, possessive: a match
# costs at most its own length (values at most 16,000 bytes: < LOOKAHEAD, so a chunk always
# holds one whole), and `reach` (Extractor.extract) keeps one handler's matches disjoint.
JWT_RE = re.compile(rb"eyJ[A-Za-z0-9_-]{8,16000}+\.[A-Za-z0-9_-]{8,16000}+\.[A-Za-z0-9_-]{0,16000}+")
# A JWT inside decoded bytes: tried only where a base64url run starts, so `eyJeyJ…` is one try
JWT_IN_RE = re.compile(rb"(?<![A-Za-z0-9_-])" + JWT_RE.pattern)
B64_RUN_RE = re.compile(rb"[A-Za-z0-9+/_-]{16,16000}+={0,2}")
BEARER_RE = re.compile(rb"(?i:bearer)(?:[ \t]{1,16}+|%20|\+)(?P<v>[A-Za-z0-9._~+/\-]{8,16000}+={0,2})")
AUTHZ_RE = re.compile(
    rb"(?i:authorization)\\?[\"']?(?:[ \t]{0,16}+[:=][ \t]{0,16}+"
    rb"|\\?\"[ \t]{0,16}+,\s{0,256}+\\?\"value\\?\"[ \t]{0,16}+:[ \t]{0,16}+)"
    rb"\\?[\"']?(?:(?P<scheme>[A-Za-z][A-Za-z\-]{1,15})(?:[ \t]{1,16}+|%20))?"
    rb"(?P<v>[A-Za-z0-9._~+/\-]{8,16000}+={0,2})")
# The value stops at a URL-encoded quote, ampersand, comma, bracket or space as it does at
# the raw ones, so `a%3D%22x%22%26token%3D…` leaves the next key outside the value.
# How a key meets its value: `KEY=v`, `key: v`, `"key": "v"`, `key => v`, `key := v`, URL-
# encoded `key%3Dv`; in code also a subscript, `cfg["key"] = "v"`, `$c['key'] = 'v'`, and a
# quoted key beside a quoted value, `define('DB_PASSWORD', 'v')`, `os.Setenv("K", "v")`
# (`_kv` takes these code forms only with a literal value that is not a name).
_KV_HEAD = (rb"(?P<k>[A-Za-z0-9_.\-]{1,100})"
            rb"(?:(?:\\?[\"']|%22|%27)?(?:[ \t]{0,16}+(?:=>|:=|=|:|%3[AaDd])|\][ \t]{0,16}+=)[ \t]{0,16}+"
            rb"(?:\\?[\"'`]|%22|%27)?"
            rb"|[\"'][ \t]{0,16}+,[ \t]{0,16}+[\"'])")
KV_RE = re.compile(_KV_HEAD + rb"(?P<v>(?:[^\s\"'`\\,;&<>{}()\[\]%]|%(?!2[0267Cc]|7[Dd]|5[Dd])){1,8192}+)")
# KV_RE in two steps (`_kv_match`): its value, a branch per byte, costs ~22 ns a byte in sre;
# a plain class run costs ~3.
_KV_HEAD_RE = re.compile(_KV_HEAD)
_KV_RUN = re.compile(rb"[^\s\"'`\\,;&<>{}()\[\]%]{1,8192}+")
# What must follow the key for KV_RE to match (the key can only end where the identifier
# run ends, as none of these bytes can be part of it): a cheap test before the full pattern.
_KV_SEP = (rb"(?:(?:\\?[\"']|%22|%27)?(?:[ \t]{0,16}+(?:=|:|%3[AaDd])|\][ \t]{0,16}+=)"
           rb"|[\"'][ \t]{0,16}+,[ \t]{0,16}+[\"'])")
# `_IDENT_RUN` and, if it follows, that separator: one match decides both in `_kv`
_IDENT_SEP = re.compile(rb"(?P<id>[A-Za-z0-9_.\-]{0,100}+)(?:" + _KV_SEP + rb")?")


# The bytes before a key, reversed, up to where the word holding it starts: is it an ARN?
_WORD_BACK = re.compile(rb"[^\s\"'`,;=(){}\[\]<>]{0,256}+")
# In URL-encoded text a value ends at an encoded quote, ampersand, comma or brace.
_URL_END = re.compile(rb"%(?:22|27|26|2[Cc]|7[Dd]|5[Dd]|20)")
# A Postman/HAR pair: {"key"|"name": "K", "value": "V"[, "type": "T"]}
PAIR_RE = re.compile(
    rb"\"(?:key|name)\"[ \t]{0,16}+:[ \t]{0,16}+\"(?P<k>(?:[^\"\\\r\n]|\\.){1,200}+)\"\s{0,256}+,\s{0,256}+"
    rb"\"value\"[ \t]{0,16}+:[ \t]{0,16}+\"(?P<v>(?:[^\"\\\r\n]|\\.){0,8192}+)\""
    rb"(?:\s{0,256}+,\s{0,256}+\"type\"[ \t]{0,16}+:[ \t]{0,16}+\"(?P<t>\w{1,20})\")?")
LOOK_WINDOW = 64 * 1024  # how far one forward search for a run of anchors reads
KEY_AHEAD = 1024  # how far `_pair_key_start` looks ahead in a dense run of anchors
PAIR_REACH = 1000  # a pair's `"value"` starts less than this after any byte of its key
_APIKEY_BLOCK = re.compile(rb"\s{0,256}+:\s{0,256}+\[")
TYPE_SECRET_PRE = re.compile(rb"\"type\"[ \t]{0,8}:[ \t]{0,8}\"\Z")
URL_CRED_RE = re.compile(
    rb"://(?P<u>[A-Za-z0-9._~%!$&*+;=\-]{0,64}):(?P<v>[^\s/@:\"'`<>{}\[\]\\]{3,128})@"
    rb"(?P<h>[A-Za-z0-9.\-]{1,253})")
# The whole token from its prefix; one named group per row of providers.FORMATS.
PROVIDER_RE = providers.PATTERN
PEM_RE = re.compile(
    rb"-----BEGIN (?P<t>[A-Z0-9 ]{0,20}PRIVATE KEY(?: BLOCK)?)-----"
    rb"(?P<body>(?:[A-Za-z0-9+/=\s:,\-]|\\n|\\r){64,12000}?)-----END (?P=t)-----")
PEM_SPAN = 12_300  # BEGIN to the end of END's label: at most 12,200 + a label
STRUCT_MAX = 8 * 1024 * 1024
# No detector that may claim a `kv` value reports one shorter than this, unless it starts
# like a JWT or a vendor token (detectors._SHORTEST; a test holds the two together): a
# tree's `token: $`, `password === x`, `secret: 42` leave `extract` as no candidate.
KV_SHORTEST = 6
_KV_SHORT_KEPT = ("eyJ", *providers.VALUE_PREFIXES)
RUN_RE = re.compile(rb"[A-Za-z0-9_\-+/=.~]{12,512}")  # bare vault values of 12+ characters
_RUN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.~")


def _budget_opens_at(calls: int, cands: int) -> int:
    """The first offset at which an anchor may still be examined: the budgets above say
    `calls < BASE + x // CALL_DENSITY and cands < CANDIDATE_BASE + x // CANDIDATE_DENSITY`,
    i.e. x >= (calls - BASE + 1) * CALL_DENSITY and likewise for candidates (one compare
    per hit instead of two divisions)."""
    return max((calls - ANCHOR_BUDGET_BASE + 1) * CALL_DENSITY,
               (cands - CANDIDATE_BASE + 1) * CANDIDATE_DENSITY)


def _kv_match(buf: bytes, s: int) -> tuple[int, int, int, int] | None:
    """(key start, key end, value start, value end) of `KV_RE.match(buf, s)`, or None.

    The head is the same pattern; a value without `%` is the longest run of allowed bytes.
    Where a `%` follows the run (URL-encoded text) or no value is left (`a:=""` matches `:`
    with the value `=` by backtracking), the full pattern decides: it stops at the first
    ending escape, where a run would read on to the length cap."""
    h = _KV_HEAD_RE.match(buf, s)
    if h is None:
        return None
    v0 = h.end()
    run = _KV_RUN.match(buf, v0)
    v1 = run.end() if run else v0
    if v1 > v0 and buf[v1:v1 + 1] != b"%":
        return h.start("k"), h.end("k"), v0, v1
    m = KV_RE.match(buf, s)
    return None if m is None else (m.start("k"), m.end("k"), m.start("v"), m.end("v"))


def _in_arn(buf: bytes, s: int) -> bool:
    """Does the word that ends at `s` (a `:` before a key) start `arn:`? Then the key is a
    segment of an AWS resource name and what follows it a resource id (IAM policies, AWS
    API examples hold thousands), never an assignment."""
    w = buf[max(0, s - 256):s][::-1]
    n = _WORD_BACK.match(w).end()  # type: ignore[union-attr]
    return n >= 4 and w[n - 4:n] == b":nra"


def _group_anchors() -> tuple[list[tuple[bytes, str]], list[tuple[re.Pattern[bytes], str]]]:
    """Anchors of one handler that share their first 3 bytes (`api_key`, `apikey`, `api-key`)
    become one regex, whose literal prefix sre finds in one pass instead of one pass each."""
    groups: dict[tuple[bytes, str], list[bytes]] = {}
    for anchor, name in ANCHORS:
        groups.setdefault((anchor[:3], name), []).append(anchor)
    single = [(g[0], name) for (_, name), g in groups.items() if len(g) == 1]
    grouped = [(re.compile(b"|".join(re.escape(a) for a in g)), name)
               for (_, name), g in groups.items() if len(g) > 1]
    return single, grouped


_SINGLE_ANCHORS, _GROUPED_ANCHORS = _group_anchors()


def _find_hits(buf: bytes, own_start: int, own_end: int) -> list[tuple[int, str]]:
    """Portable: one `bytes.find` pass per anchor over a lowercased copy (~100 MB/s a core),
    then the vendor prefixes in their own case, one regex pass per leading letter."""
    lo = buf.lower()
    hits = []
    stop = min(len(buf), own_end + 16)  # an anchor starting in range may end past it
    for anchor, name in _SINGLE_ANCHORS:
        end = min(len(lo), own_end + len(anchor) - 1)
        p = lo.find(anchor, own_start, end)
        while p >= 0:
            hits.append((p, name))
            p = lo.find(anchor, p + 1, end)
    for rx, name in _GROUPED_ANCHORS:
        hits.extend((m.start(), name) for m in rx.finditer(lo, own_start, stop) if m.start() < own_end)
    for rx, name in CASED_SCANS:
        hits.extend((m.start(), name) for m in rx.finditer(buf, own_start, stop)
                    if m.start() < own_end)
    return hits


ALL_ANCHORS = ANCHORS + CASED_ANCHORS  # Hyperscan's ids index this (here and in onepass.py)
_HS_LENS = tuple(len(a) for a, _ in ALL_ANCHORS)
ANCHOR_NAMES = tuple(name for _, name in ALL_ANCHORS)
_hs: list[Any] = []  # the compiled anchors, or None without the wheel; built on first use


def _hyperscan_hits(buf: bytes, own_start: int, own_end: int,
                    limit: int | None = None) -> list[tuple[int, str]] | None:
    """All anchors in one caseless pass (~1.3 GB/s a core) when the hyperscan wheel is installed;
    the scan stops once `limit` hits are in (the caller then knows the region is hostile)."""
    if not _hs:
        try:
            _hs.append(literal_scan.Hyperscan(
                [a for a, _ in ALL_ANCHORS], caseless=[True] * len(ANCHORS) + [False] * len(CASED_ANCHORS)))
        except ImportError:
            _hs.append(None)
    if _hs[0] is None:
        return None
    hits: list[tuple[int, str]] = []
    add, lens, names = hits.append, _HS_LENS, ANCHOR_NAMES
    cap = limit if limit is not None else len(buf) + 1

    def on_match(i: int, _from: int, to: int, _flags: int, _ctx: object) -> bool:
        # called once per hit (up to one per 16 bytes of hostile input): locals only
        p = to - lens[i]
        if own_start <= p < own_end:
            add((p, names[i]))
        return len(hits) > cap  # True stops the scan
    # An anchor starting in range may end up to 16 bytes past it.
    try:
        _hs[0].scan(buf[:own_end + 16] if own_end + 16 < len(buf) else buf, on_match)
    except hs_terminated():
        pass
    return hits


def hs_terminated() -> type[BaseException]:
    import hyperscan

    return hyperscan.ScanTerminated


def portable() -> bool:
    """TOKENSAFE_GUARD_PORTABLE=1: anchors are found without Hyperscan (tests compare both)."""
    return os.environ.get("TOKENSAFE_GUARD_PORTABLE") == "1"


def anchor_hits(buf: bytes, own_start: int, own_end: int,
                limit: int | None = None) -> list[tuple[int, str]]:
    """(position, handler) of every anchor starting in [own_start, own_end), in any case.
    With `limit`, more than `limit` hits means the list may be incomplete."""
    if not portable():
        got = _hyperscan_hits(buf, own_start, own_end, limit)
        if got is not None:
            return got
    return _find_hits(buf, own_start, own_end)


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _json_unescape(raw: bytes) -> str:
    if b"\\" not in raw:
        return _s(raw)  # nothing escaped (the common case): no JSON parser needed
    try:
        v = json.loads(b'"' + raw + b'"')
        return v if isinstance(v, str) else _s(raw)
    except ValueError:
        return _s(raw)


class Extractor:
    """Turns one buffer into candidates. `scope` is the file's Postman scope, if any."""

    def __init__(self, scope: str | None = None, binary: bool = False,
                 runs: Callable[[bytes], bool] | None = None, keep_all: bool = False) -> None:
        self.scope = scope
        self.binary = binary
        self.runs = runs  # is this token-shaped run a vault value? (bare vault-known values)
        self.keep_all = keep_all or runs is not None  # values under any key (in-vault check)
        self._pem_end: list[Any] = [None, 0, -1]  # (buffer, searched from, next END or -1)
        self._putty_lines: list[Any] = [None, 0, -1]  # the same for PuTTY's `Private-Lines:`
        self._putty_mac: list[Any] = [None, 0, -1]  # … and its `Private-MAC:`
        self._key_at: list[Any] = [None, -1, -1]  # (buffer, searched up to, last `"key"` or -1)
        self._pair_at: list[Any] = [None, -1, None]  # (buffer, start, PAIR_RE match there)
        self._value_at: list[Any] = [None, 0, -1]  # (buffer, from, next `"value"` at or after it)
        self._no_key: list[Any] = [None, 0, 0, -1]  # _pair_key_start's (see there)
        self._secret_dead: list[Any] = [None, -1]  # (buffer, end) of `"type": "secret"`s that cannot match
        # Per handler, the absolute offset up to which a match already read the bytes: an
        # anchor inside that span is part of a value (`token=token=token…`) and is skipped,
        # so matches are disjoint and a scan costs at most one read of each byte per handler.
        self._reach: dict[str, int] = {}
        self._hit = -1  # set by a handler: end of what its pattern consumed (relative)
        self.unexamined = 0  # anchors not looked at because the region was too dense
        self._calls = 0  # handler calls so far (the budgets above)
        self._cands = 0  # candidates they gave

    def extract(self, buf: bytes, own_start: int, own_end: int,
                whole: bool = False, base: int = 0,
                hits: list[tuple[int, str]] | None = None) -> list[Candidate]:
        """Candidates for anchors at positions [own_start, own_end) of `buf` (offsets relative).

        `whole`: `buf` is the entire file, so a Postman environment can also be read as JSON.
        `base`: the absolute offset of `buf` in the file (chunks share the skip state).
        `hits`: what `anchor_hits(buf, own_start, own_end, limit)` returns, when a caller's
        own pass found them already (onepass.py).
        """
        out: list[Candidate] = []
        structured = None
        if whole and self.scope in ("environment", "globals") and len(buf) <= STRUCT_MAX:
            structured = self._postman_struct(buf)
            out.extend(structured or ())
        limit = ANCHOR_BUDGET_BASE + (own_end - own_start) // HIT_DENSITY
        hits = sorted(anchor_hits(buf, own_start, own_end, limit) if hits is None else hits)  # in order: `reach` relies on it
        if len(hits) > limit:
            self.unexamined += len(hits) - limit
            hits = hits[:limit]
        # The loop runs once per hit (up to one per 16 bytes): names bound locally, no
        # attribute look-ups that can be hoisted.
        reach, handlers, binary = self._reach, _HANDLERS, self.binary
        skip_kv = structured is not None  # every variable of the export was read as JSON already
        calls, unexamined = self._calls, 0
        open_at = _budget_opens_at(calls, self._cands)
        # Candidates so far = self._cands + what the handlers added to `out`, counted from
        # its length (the loop adds nothing else): the candidate budget's term is
        # (candidates - CANDIDATE_BASE + 1) * CANDIDATE_DENSITY = (len(out) - cand_off) * cand_den
        call_off, cand_off = ANCHOR_BUDGET_BASE - 1, len(out) - self._cands + CANDIDATE_BASE - 1
        call_den, cand_den = CALL_DENSITY, CANDIDATE_DENSITY
        n0 = len(out)
        for p, name in hits:
            if binary and name not in BINARY_HANDLERS:
                continue
            if skip_kv and name == "kv":
                continue
            at = p + base
            # `private_key = …`: also an assignment (kv's own reach); never in a binary, where
            # kv does not run (symbol tables put `…PrivateKey` names beside arbitrary bytes)
            also_kv = name == "pem" and not binary
            if at < reach.get(name, -1):
                # inside a value this handler already read (for pem: a region without END)
                if not also_kv or at < reach.get("kv", -1):
                    continue
                name, also_kv = "kv", False
            if at < open_at:  # over the call or candidate budget here
                unexamined += 1
                continue
            calls += 1
            self._hit = -1
            out.extend(handlers[name](self, buf, p))
            if self._hit > p:
                reach[name] = self._hit + base
            if also_kv and at >= reach.get("kv", -1):
                self._hit = -1
                out.extend(self._kv(buf, p))
                if self._hit > p:
                    reach["kv"] = self._hit + base
            open_at = (calls - call_off) * call_den  # _budget_opens_at, inline (once a call)
            if (len(out) - cand_off) * cand_den > open_at:
                open_at = (len(out) - cand_off) * cand_den
        self._calls, self._cands = calls, self._cands + len(out) - n0
        self.unexamined += unexamined
        if not self.keep_all:
            # Dropped here, not by `_kv`: they still count against the candidate budget, which
            # is what bounds a hostile run of `password = = :` (with the vault's fingerprints
            # loaded any value may be one, so none is dropped then)
            out = [c for c in out if not (c.source == "kv" and len(c.value) < KV_SHORTEST
                                          and not c.value.startswith(_KV_SHORT_KEPT))]
        if self.runs is not None:
            # Every token-shaped run: costly (a regex over each byte), so only for `--deep`
            # and for watch, whose files are few. Each distinct run is checked once.
            for tok in set(RUN_RE.findall(buf, own_start, own_end)):
                if self.runs(tok):
                    out.extend(self._occurrences(buf, tok, own_start, own_end))
        return out

    @staticmethod
    def _occurrences(buf: bytes, tok: bytes, start: int, end: int) -> list[Candidate]:
        out = []
        i = buf.find(tok, start, end)
        while i >= 0:
            j = i + len(tok)
            if (i == 0 or buf[i - 1] not in _RUN_CHARS) and (j >= len(buf) or buf[j] not in _RUN_CHARS):
                out.append(Candidate(_s(tok), i, j, "run"))
            i = buf.find(tok, i + 1, end)
        return out

    # -- handlers: (buffer, anchor position) -> candidates ---------------

    def _jwt(self, buf: bytes, p: int) -> list[Candidate]:
        if buf[p:p + 3] != b"eyJ":
            return []
        if p > 0 and buf[p - 1] in _B64URL and not (p >= 3 and buf[p - 3] == 0x25):  # not %XX
            return []  # inside a longer base64 blob (images, integrity strings)
        m = JWT_RE.match(buf, p)
        if not m:
            return []
        self._hit = m.end()
        return [Candidate(_s(m.group()), m.start(), m.end(), "jwt")]

    def _b64jwt(self, buf: bytes, p: int) -> list[Candidate]:
        if buf[p:p + 4] != b"ZXlK":
            return []
        s = p
        while s > 0 and p - s < 4 and buf[s - 1] in _B64ANY:
            s -= 1  # a token base64'd whole starts within 3 bytes of "ZXlK"
        m = B64_RUN_RE.match(buf, s)
        if not m:
            return []
        run = m.group()
        try:
            dec = base64.b64decode(run + b"=" * (-len(run) % 4), altchars=b"-_" if b"-" in run or b"_" in run else None)
        except (binascii.Error, ValueError):
            return []
        j = JWT_IN_RE.search(dec)
        if not j:
            return []
        return [Candidate(_s(j.group()), m.start(), m.end(), "b64jwt", encoding="base64")]

    def _bearer(self, buf: bytes, p: int) -> list[Candidate]:
        if p > 0 and chr(buf[p - 1]).isalnum() and not (p >= 3 and buf[p - 3] == 0x25):
            return []  # inside a word, unless after %XX (URL-encoded)
        m = BEARER_RE.match(buf, p)
        if not m:
            return []
        self._hit = m.end()
        return [Candidate(_s(m.group("v")), m.start("v"), m.end("v"), "bearer")]

    def _provider(self, buf: bytes, p: int) -> list[Candidate]:
        """`ghp_…`, `xoxb-…`, `AKIA…` anywhere, keyed or bare: the prefix names the vendor."""
        if buf[p:p + 2] == b"k_":
            p -= 1  # the anchor sits one byte into `sk_live_`, `rk_live_`, `sk_test_`
            if p < 0:
                return []
        elif buf[p:p + 8] == b"T3BlbkFJ":
            p = buf.rfind(b"sk-", max(0, p - providers.BACK[b"T3BlbkFJ"]), p)  # OpenAI: mid-key
            if p < 0:
                return []
        # Not inside a longer identifier (`my_ghp_x`, `XAKIA…`), unless after %XX or a JSON \n
        if (p > 0 and (chr(buf[p - 1]).isalnum() or buf[p - 1] == 0x5F)
                and not ((p >= 3 and buf[p - 3] == 0x25) or (p >= 2 and buf[p - 2] == 0x5C))):
            return []
        m = PROVIDER_RE.match(buf, p)
        if not m:
            return []
        self._hit = m.end()
        out = [Candidate(_s(m.group()), m.start(), m.end(), "provider")]
        if buf[p:p + 4] in (b"AKIA", b"ASIA") and b"EXAMPLE" not in m.group():  # not AWS's docs
            near = providers.aws_secret_near(buf, m.start(), m.end())
            out[0].facts = {"secret_nearby": near is not None}
            if near:  # the pair is the credential: the secret is reported with the id's name
                out.append(Candidate(_s(buf[near[0]:near[1]]), near[0], near[1], "aws-secret"))
        return out

    def _putty(self, buf: bytes, p: int) -> list[Candidate]:
        """A PuTTY private key (`.ppk`): header line to its Private-MAC line."""
        # The next `Private-Lines:`, found once per buffer region (as for PEM's END): a file
        # of header lines must not search 16 KB for each.
        nxt = []
        for cache, word in ((self._putty_lines, b"Private-Lines:"), (self._putty_mac, b"Private-MAC:")):
            if cache[0] is not buf or not (cache[1] <= p and (cache[2] < 0 or p < cache[2])):
                cache[:] = [buf, p, buf.find(word, p)]
            nxt.append(cache[2])
        if nxt[0] < 0 or nxt[0] - p > providers.PUTTY_MAX:
            return []
        got = providers.putty_key(buf, p, nxt[0], nxt[1])
        if not got:
            return []
        s, e, enc = got
        self._hit = e
        return [Candidate(_s(buf[s:e]), s, e, "putty", encoding=None if enc == "none" else enc)]

    def _authz(self, buf: bytes, p: int) -> list[Candidate]:
        m = AUTHZ_RE.match(buf, p)
        if not m:
            return []
        self._hit = m.end()
        scheme = (m.group("scheme") or b"").lower()
        if scheme == b"bearer":
            return []  # the bearer anchor has it
        source = "basic" if scheme == b"basic" else "authz"
        return [Candidate(_s(m.group("v")), m.start("v"), m.end("v"), source)]

    def _kv(self, buf: bytes, p: int) -> list[Candidate]:
        if buf[p] == 0x5F:  # `_pass`, `_key`
            nxt = buf[p + 1:p + 6].lower()
            if nxt == b"passw" or (nxt[:3] == b"key" and buf[max(0, p - 3):p].lower() == b"api"):
                return []  # `_password`, `api_key`: the `passw` and `api_key` anchors read them
        # the two JSON shapes below start `"`
        word = buf[p:p + 7].lower() if p > 0 and buf[p - 1] == 0x22 else b""
        # 1. `"type": "secret"` closing a Postman variable: the pair starts at the last "key".
        if word == b'secret"':
            dead = self._secret_dead
            if dead[0] is buf and p < dead[1]:
                return []  # this `"secret"` leads back to the same pair as the last one did
            if TYPE_SECRET_PRE.search(buf, max(0, p - 16), p):
                k = self._last_key(buf, p)
                m = self._pair_match(buf, k) if k >= 0 else None
                if m and m.group("t") and m.end("t") == p + 6:
                    return [self._pair(m)]
                if not (m and m.group("t") and m.end("t") > p + 6):
                    # Until the next `"key"`, every later anchor finds this same pair (or
                    # none), whose type does not end there either: one look for the run.
                    nxt = buf.find(b'"key"', p - 4)
                    dead[:] = [buf, nxt + 5 if nxt >= 0 else len(buf)]
            return []
        # Postman's API-key auth keeps the key under "value": {"apikey": [{"key": "value", …}]}
        if word == b'apikey"' and _APIKEY_BLOCK.match(buf, p + 7):
            self._hit = min(len(buf), p + 2048)  # the window read; `"apikey": [` inside it is noise
            for m in PAIR_RE.finditer(buf, p, self._hit):
                if m.group("k") == b"value":
                    c = self._pair(m)
                    c.key = "apikey"
                    self._hit = m.end()
                    return [c]
                if m.group("k") == b"in" or b"]" in buf[p:m.start()]:
                    self._hit = m.start()
                    break
            return []
        # The identifier that holds the anchor; what follows it must be able to assign.
        idm = _IDENT_SEP.match(buf, p)
        e = idm.end(1)  # type: ignore[union-attr]  # group 1: `id`
        if e < len(buf) and buf[e] not in _AFTER_KEY:
            return []  # `{{auth0_token}}`, `getToken(`, `token.length`, prose
        # Case 3 needs a separator right there (the key cannot end anywhere else), case 2 a
        # `"key"` or `"name"` shortly before: without both, prose (`PRIVATE KEY-----`).
        assigns = idm.end() > e  # type: ignore[union-attr]
        if not assigns and not self._value_ahead(buf, p):
            return []
        k = -2  # the last `"key"`/`"name"` wholly in the 210 bytes before p (-1: none); -2: not looked
        if not assigns:
            k = self._pair_key_start(buf, p)
            if k < 0:
                return []
        if p and buf[p - 1] in _IDENT_BYTES:
            s = p - _IDENT_RUN.match(buf[max(0, p - 100):p][::-1]).end()  # type: ignore[union-attr]
        else:
            s = p  # the anchor starts the identifier (`"passw`, ` token`): nothing to read back
        if s > 0 and buf[s - 1] == 0x25 and p - s >= 2:
            s += 2  # `%26client_secret`: the ident starts after the URL escape
        before = buf[s - 1] if s > 0 else 0
        if (before == 0x24 and not assigns) or (before == 0x7B and s >= 2 and buf[s - 2] in b"{$"):
            return []  # `{{auth0_token}}`, `${TOKEN}`, `$TOKEN`: templates (`$db_pass = …`: PHP, below)
        if before == 0x3A and _in_arn(buf, s):
            return []  # `arn:aws:secretsmanager:…:secret:db-creds`: a resource type, not a key
        # 2. The anchor inside a pair's key: {"key": "auth0_token", "value": "…"}.
        if before == 0x22 or before == 0x20:
            if k == -2:
                k = self._pair_key_start(buf, p)
            if k >= 0 and self._value_ahead(buf, p):  # the two C searches first: cheaper
                m = self._pair_match(buf, k)
                if m and m.start(1) <= p < m.end(1):  # group 1: `k`
                    self._hit = m.end()
                    # _pair, with _wanted asked before the value is unescaped and kept
                    raw_k, raw_v, t = m.group(1, 2, 3)
                    key = _json_unescape(raw_k)
                    var_type = t.decode("ascii") if t else None  # `\w` of a bytes pattern: ASCII
                    if not (self.keep_all or var_type == "secret" or filters.secret_key_kind(key) is not None):
                        return []
                    v0, v1 = m.span(2)
                    return [Candidate(_json_unescape(raw_v), v0, v1, "pair", key=key, scope=self.scope,
                                      var_type=var_type)]
        # 3. An assignment: KEY=value, key: value, "key": "value", key = 'value'.
        if not assigns:
            return []
        # KV_RE's key can only be this identifier (it ends where the run ends): a key that is
        # not secret-like is dropped before the value is matched (`"value": "passw==` × n).
        # So the key matched is buf[s:e] (identifier bytes: ASCII), tested here once.
        key = buf[s:e].decode("ascii")
        if not self.keep_all and filters.secret_key_kind(key) is None:
            return []
        joint = buf[e:idm.end()]  # type: ignore[union-attr]  # the separator: `=`, `": "`, `"] =`, `', '`
        if before == 0x24 or b"]" in joint or b"," in joint:
            return self._code_form(buf, s, e, idm.end(), key, joint, before)  # type: ignore[union-attr]
        span = _kv_match(buf, s)
        if span is None or span[1] <= p:
            return []
        v0, v1 = span[2], span[3]
        self._hit = v1
        if buf.startswith(b"ZXlK", v0):
            # base64 of a JWT (Kubernetes Secret `data:`, CI variables): report the JWT
            got = self._b64jwt(buf, v0)
            if got:
                got[0].key = key
                return got
        enc = None
        if buf.find(b"%", v0, v1) >= 0:
            cut = _URL_END.search(buf, v0, v1)
            v1 = cut.start() if cut else v1
            enc = "url"
        value = _s(buf[v0:v1])
        if enc:
            from urllib.parse import unquote

            value = unquote(value)
        quoted = v0 > 0 and buf[v0 - 1] in b"\"'`"
        follows = "" if quoted else _s(buf[v1:v1 + 18].lstrip(b" \t")[:2])  # codevalue reads it
        return [Candidate(value, v0, v1, "kv", key=key, encoding=enc, quoted=quoted, follows=follows)]

    def _code_form(self, buf: bytes, s: int, e: int, sep_end: int, key: str, joint: bytes,
                   before: int) -> list[Candidate]:
        """A key and a value that only code writes so: a PHP variable `$db_pass = '…'`, a
        subscript `os.environ["API_TOKEN"] = "…"`, a quoted pair in a call `define('DB_PASSWORD',
        '…')`. Taken only for a quoted literal that is not a word or a name: such code is full
        of labels and field lists (`labels["password"] = "Password"`, `("token", "api_key")`)."""
        quote = buf[e:e + 1]
        if before == 0x24:
            if joint.strip(b" \t") != b"=":
                return []  # `$TOKEN: x`, `$token' = …`: not a PHP or Perl assignment
        elif b"]" in joint:
            if not (quote in (b'"', b"'") and s >= 2 and buf[s - 1:s] == quote and buf[s - 2] == 0x5B):
                return []  # `cfg[token] = x`: the key is a variable
        elif not (quote in (b'"', b"'") and buf[s - 1:s] == quote):
            return []  # `f(token', 'x')`: the key of a call pair is quoted as well
        if b"," in joint and b"]" not in joint:
            q = sep_end - 1  # the pair's separator ends with the value's opening quote
        else:
            q = sep_end
            while q < sep_end + 16 and buf[q:q + 1] in (b" ", b"\t"):
                q += 1
            if buf[q:q + 1] not in (b'"', b"'"):
                return []  # not a quoted literal: an expression (`= getenv('X')`, `= $x`, `== 'x'`)
        # The whole literal, to its closing quote on the same line: WordPress's salts hold
        # `&`, `;` and `%`, where an unquoted value would end
        v0 = q + 1
        v1 = buf.find(buf[q:q + 1], v0, v0 + 8192)
        if v1 < 0 or buf.find(b"\n", v0, v1) >= 0 or buf.find(b"\\", v0, v1) >= 0:
            return []  # unclosed, or escapes inside: not a plain literal
        value = _s(buf[v0:v1])
        if codevalue.is_reference(value) or (" " in value and value.replace(" ", "").isalpha()):
            return []  # a name, or words: `'Mot de passe'`, `'put your unique phrase here'`
        self._hit = v1
        return [Candidate(value, v0, v1, "kv", key=key, quoted=True, follows="")]

    def _value_ahead(self, buf: bytes, p: int) -> bool:
        """Can a pair whose key holds `p` have its `"value"` ahead? PAIR_RE puts it within
        400 (key) + 514 (quote, comma, spaces) bytes after `p`. One search serves a run."""
        memo = self._value_at
        if memo[0] is not buf or not memo[1] <= p <= memo[2]:
            q = buf.find(b'"value"', p, p + LOOK_WINDOW)  # none: none starts before the window's end
            memo[:] = [buf, p, q if q >= 0 else p + LOOK_WINDOW - 6]
        return memo[2] - p < PAIR_REACH

    def _pair_key_start(self, buf: bytes, p: int) -> int:
        """Where the last `"key"` or `"name"` lying wholly in the 210 bytes before `p` starts,
        or -1: case 2 reads a pair back from it (a pair's key is at most 200 characters, so
        nothing further back can hold `p`). Two short C searches back; where anchors come
        dense (hostile runs) and find none, one bounded search ahead tells up to where later
        anchors cannot find one either, so each of those costs a compare."""
        memo = self._no_key  # (buffer, from, to, previous p): none for any p in [from, to)
        if memo[0] is buf:
            if memo[1] <= p < memo[2]:
                return -1
            dense = 0 <= p - memo[3] < 64
        else:
            memo[:] = [buf, 0, 0, p]
            dense = False
        lo = p - 210 if p > 210 else 0
        k = max(buf.rfind(b'"key"', lo, p), buf.rfind(b'"name"', lo, p))
        memo[3] = p
        if k < 0 and dense:
            # One wholly before a later p' but not before p starts at p - 4 (p - 5) or after;
            # the first of each ahead ends the span where none can be found.
            hi = p + KEY_AHEAD
            qk = buf.find(b'"key"', p - 4 if p > 4 else 0, hi)
            qn = buf.find(b'"name"', p - 5 if p > 5 else 0, hi)
            memo[1], memo[2] = p, min(qk + 5 if qk >= 0 else hi, qn + 6 if qn >= 0 else hi)
        return k

    def _last_key(self, buf: bytes, p: int) -> int:
        """The last `"key"` within LOOKBACK before `p`. Searches only the bytes not searched
        for the previous anchor, so a run of `"type": "secret"` costs one pass, not one each."""
        cache = self._key_at
        lo = max(0, p - LOOKBACK)
        if cache[0] is buf and lo <= cache[1] <= p:
            k = buf.rfind(b'"key"', max(lo, cache[1] - 4), p)  # a `"key"` may straddle the old end
            if k < 0:
                k = cache[2] if cache[2] >= lo else -1
        else:
            k = buf.rfind(b'"key"', lo, p)
        cache[:] = [buf, p, k]
        return k

    def _pair_match(self, buf: bytes, k: int) -> re.Match[bytes] | None:
        """PAIR_RE at `k`, once per position: many anchors may lead back to the same pair."""
        cache = self._pair_at
        if cache[0] is not buf or cache[1] != k:
            cache[:] = [buf, k, PAIR_RE.match(buf, k)]
        return cache[2]

    def _postman_struct(self, buf: bytes) -> list[Candidate] | None:
        """Variables of a Postman environment/globals export, read as JSON.
        None when the file is not such an export after all (the text scan then does it all)."""
        try:
            found = postman_env.rows(buf)  # (key, value, type, start, end): no object per variable
        except postman_env.FormatError:
            return None  # malformed: the anchored text scan still runs
        keep_all, key_kind, scope = self.keep_all, filters.secret_key_kind, self.scope  # _wanted, inline
        return [Candidate(value, start, end, "pair", key=key, scope=scope, var_type=typ)
                for key, value, typ, start, end in found
                if start is not None and end is not None
                and (keep_all or typ == "secret" or key_kind(key) is not None
                     or value.startswith("eyJ"))]

    def _wanted(self, key: str, var_type: str | None = None) -> bool:
        """Only values under secret-like keys can become findings (or any, when the vault's
        fingerprints are loaded): dropping the rest here keeps the classifier off the hot path."""
        return self.keep_all or var_type == "secret" or filters.secret_key_kind(key) is not None

    def _pair(self, m: re.Match[bytes]) -> Candidate:
        t = m.group("t")
        return Candidate(_json_unescape(m.group("v")), m.start("v"), m.end("v"), "pair",
                         key=_json_unescape(m.group("k")), scope=self.scope,
                         var_type=_s(t) if t else None)

    def _url(self, buf: bytes, p: int) -> list[Candidate]:
        """`postgres://app:PASSWORD@db:5432/app`: the password part of a URL's userinfo."""
        m = URL_CRED_RE.match(buf, p)
        if not m:
            return []
        return [Candidate(_s(m.group("v")), m.start("v"), m.end("v"), "url",
                          key=_s(m.group("h")))]

    def _pem(self, buf: bytes, p: int) -> list[Candidate]:
        b = buf.rfind(b"-----BEGIN ", max(0, p - 30), p)
        if b < 0:
            # No anchor before the next BEGIN has one within 30 bytes before it either
            nb = buf.find(b"-----BEGIN ", max(0, p - 30))
            self._hit = nb + 11 if nb >= 0 else len(buf)
            return []
        # The next END marker, found once per buffer region: without it the body regex
        # would walk 12 KB for every BEGIN (a file of BEGIN lines took minutes).
        cache = self._pem_end
        if cache[0] is not buf or not (cache[1] <= b and (cache[2] < 0 or b < cache[2])):
            cache[:] = [buf, b, buf.find(b"-----END ", b)]
        end = cache[2]
        if end < 0 or end - b > 12_200:
            # No END within reach of any BEGIN up to `end - PEM_SPAN` (or to where the
            # buffer still holds a whole body): anchors before it are skipped, not re-read.
            self._hit = (end if end >= 0 else len(buf)) - PEM_SPAN
            return []
        m = PEM_RE.match(buf, b, end + 80)
        if not m:
            return []
        body = m.group("body")
        if sum(1 for c in body if c in _B64ANY) < 64:
            return []  # `-----BEGIN PRIVATE KEY-----\n...\n-----END…`: documentation
        return [Candidate(_s(m.group()), m.start(), m.end(), "pem")]


# The handler of each anchor name: (extractor, buffer, anchor position) -> candidates. One
# table for the class, not bound methods built for every file's extractor.
_HANDLERS: dict[str, Callable[[Extractor, bytes, int], list[Candidate]]] = {
    "jwt": Extractor._jwt, "b64jwt": Extractor._b64jwt, "bearer": Extractor._bearer,
    "authz": Extractor._authz, "kv": Extractor._kv, "pem": Extractor._pem, "url": Extractor._url,
    "provider": Extractor._provider, "putty": Extractor._putty,
}
