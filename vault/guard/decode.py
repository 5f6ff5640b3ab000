"""See through encodings: base64 values are decoded once and the decoded bytes scanned.

Where encoded values are looked for (each bounded, each linear in the bytes it reads):
- Kubernetes `Secret` `data:` (YAML or JSON), in a document that says `kind: Secret`: every
  value is decoded and judged under its key (`data.password`), so a base64 `changeme` is a
  placeholder, not a finding. `stringData:` is plain and the ordinary scan reads it;
  `SealedSecret` `encryptedData:` is ciphertext and never decoded.
- Any base64 run (kubeconfig `client-key-data`, data URLs, CI variables, blobs) that contains
  the base64 form of an anchor (`token`, `secret`, `passw`, `-----BEGIN`, `ghp_`, …) in any of
  its three alignments: one literal pass (Hyperscan, Aho-Corasick or `re`) finds those.

A decoded value is reported at the ORIGINAL position (the start of the encoded run, its whole
length for scrub) with facts {"encoding": "base64", "key": …}. Decoded bytes that do not look
like text (images, compressed data) are not scanned, decoded bytes are never decoded again,
a run longer than MAX_BLOB_CHARS is skipped, and a file decodes at most FILE_BUDGET bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from vault import literal_scan
from vault.guard import filters
from vault.guard.model import Candidate

MAX_BLOB = 64 * 1024  # decoded bytes of one blob at most
MAX_BLOB_CHARS = (MAX_BLOB + 2) // 3 * 4
MIN_BLOB_CHARS = 16  # generic blobs: shorter runs hold nothing the detectors would report
FILE_BUDGET = 1024 * 1024  # decoded bytes per file; beyond it the rest is not decoded
# Each encoded value looked at costs Python work: at most CALL_BASE + offset/CALL_DENSITY of
# them up to an offset (real files hold a few; hostile ones a value every few bytes). What
# is left over is counted and the file reported as scanned in part: coverage, never time.
CALL_BASE = 1024
CALL_DENSITY = 1024
WINDOW = 64 * 1024  # the literal finder runs over windows of this size (bounded match lists)

# What the detectors look for, in the cases files write them; base64'd in three alignments.
_WORDS = (b"token", b"secret", b"passw", b"api_key", b"apikey", b"bearer", b"authoriz",
          b"private")
_CASED = (b"-----BEGIN ", b"eyJhbGci", b"eyJ0eXAi", b"://", b"ghp_", b"gho_", b"ghs_",
          b"github_pat_", b"glpat-", b"xoxb-", b"xoxp-", b"sk_live_", b"npm_", b"AKIA")
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_RUN = re.compile(rb"[A-Za-z0-9+/_-]{1,%d}+" % MAX_BLOB_CHARS)
_RUN_BACK = re.compile(rb"[A-Za-z0-9+/_-]{0,%d}+" % MAX_BLOB_CHARS)  # over reversed bytes
_PAD = re.compile(rb"={1,2}")
# The key a run is assigned to (`client-key-data: `, `"token": "`, `X_B64=`), matched on the
# reversed bytes before the run: anchored, so one try, not one per position.
_KEY_BEFORE_REV = re.compile(rb"[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?([A-Za-z0-9_.\-]{1,100})")
_MIME = re.compile(rb"[A-Za-z0-9.+\-]{1,60}/[A-Za-z0-9.+\-]{1,60}")
# Control bytes other than tab/CR/LF: decoded bytes holding them are binary, not text.
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 32 and b not in (9, 10, 13) or b == 127))

# Kubernetes Secret: the kind line, the `data:` block header, and one entry per line.
_KIND_SECRET = re.compile(rb"[\"']?kind[\"']?[ \t]{0,8}:[ \t]{0,8}[\"']?Secret\b(?![\"']?[-.\w])")
_YAML_ENTRY = re.compile(
    rb"(?P<i>[ \t]{1,64})(?P<q>[\"']?)(?P<k>[A-Za-z0-9._\-]{1,253})(?P=q)[ \t]{0,8}:[ \t]{0,8}"
    rb"(?P<vq>[\"']?)(?P<v>[A-Za-z0-9+/]{0,%d}+={0,2})(?P=vq)[ \t]{0,64}+(?:#[^\n]{0,1024}+)?\r?(?:\n|\Z)"
    % MAX_BLOB_CHARS)
_BLANK_LINE = re.compile(rb"[ \t]{0,256}+(?:#[^\n]{0,1024}+)?\r?\n")
_INDENT = re.compile(rb"[ \t]{0,256}+")
_JSON_OPEN = re.compile(rb"[ \t]{0,8}:[ \t\r\n]{0,256}+\{")
_JSON_ENTRY = re.compile(
    rb"[ \t\r\n]{0,256}+\"(?P<k>[A-Za-z0-9._\-]{1,253})\"[ \t\r\n]{0,64}:[ \t\r\n]{0,64}"
    rb"\"(?P<v>[A-Za-z0-9+/]{0,%d}+={0,2})\"[ \t\r\n]{0,256}+(?P<end>[,}])" % MAX_BLOB_CHARS)


def _encoded_forms(word: bytes) -> set[bytes]:
    """The base64 characters fully determined by `word` at each of the three alignments."""
    out = set()
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + word)
        first = -(-8 * shift // 6)  # the first character whose 6 bits all come from `word`
        last = 8 * (shift + len(word)) // 6  # one past the last such character
        form = enc[first:last]
        if len(form) >= 4:
            out.add(form)
            if b"+" in form or b"/" in form:
                out.add(form.replace(b"+", b"-").replace(b"/", b"_"))  # URL-safe alphabet
    return out


def literals() -> list[bytes]:
    words = set(_CASED)
    for w in _WORDS:
        words.update((w, w.upper(), w.capitalize()))
    lits: set[bytes] = set()
    for w in words:
        lits |= _encoded_forms(w)
    return sorted(lits)


_finder: list[Callable[[bytes], list[literal_scan.Match]]] = []


def _find(data: bytes) -> list[literal_scan.Match]:
    if not _finder:
        _finder.append(literal_scan.build(literals())[1])
    return _finder[0](data)


def b64decode(run: bytes) -> bytes | None:
    """Standard or URL-safe base64, padding optional; None when it is not base64."""
    if (b"-" in run or b"_" in run) and (b"+" in run or b"/" in run):
        return None
    run = run.rstrip(b"=")
    if len(run) % 4 == 1:
        run = run[:-1]  # a stray character after a complete run (`…abc=x`)
    try:
        alt = b"-_" if b"-" in run or b"_" in run else None
        return base64.b64decode(run + b"=" * (-len(run) % 4), altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        return None


def as_text(data: bytes) -> str | None:
    """Decoded bytes as text, or None when they look binary (images, compressed, random)."""
    if not data or len(data.translate(None, _NOT_CONTROL)) * 32 > len(data) or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _key_before(buf: bytes, s: int) -> str | None:
    """What the run at `s` is assigned to: a key, or `data:MIME` for a data URL."""
    before = buf[max(0, s - 130):s]
    if before.endswith(b";base64,"):
        d = before.rfind(b"data:")
        m = _MIME.match(before, d + 5) if d >= 0 else None
        return "data:" + (m.group().decode() if m else "")
    k = _KEY_BEFORE_REV.match(before[::-1])
    return k.group(1)[::-1].decode() if k else None


class Decoder:
    """Per-file state: what was decoded already (absolute offsets), the budgets left.

    `scan(buf, start, end, base)` returns groups of candidates (each group: the views of one
    encoded value, best first; offsets relative to `buf`) and the starts whose plain
    candidates the decoded view replaces (Kubernetes `data:` values: judged decoded only).
    """

    def __init__(self, extractor: Callable[[], object]) -> None:
        self._extractor = extractor  # a fresh Extractor for decoded bytes (no decode inside)
        self.reach = -1  # absolute offset up to which runs were read
        self._run_start = 0  # absolute start of the last run read
        self.budget = FILE_BUDGET
        self.calls = 0
        self.unexamined = 0
        self._doc: tuple[int, int, bool] | None = None  # (abs start, abs end, kind Secret)
        self._k8s_reach = -1

    def scan(self, buf: bytes, start: int, end: int, base: int,
             found: tuple[bool, list[int]] | None = None) -> tuple[list[list[Candidate]], set[int]]:
        """`found`: (does `Secret` occur in `buf`, the start of every literal of `literals()`
        in `buf`), when a pass over the whole buffer found them already (onepass.py)."""
        groups: list[list[Candidate]] = []
        replaced: set[int] = set()
        if found is not None and not found[0] and not found[1]:
            return groups, replaced  # no `Secret`, no encoded anchor: nothing to decode
        has_secret = found[0] if found is not None else buf.find(b"Secret") >= 0
        if has_secret:  # no Kubernetes Secret without the word (a C search)
            self._k8s(buf, start, end, base, groups, replaced)
        if found is not None:
            self._runs_at(buf, sorted({s for s in found[1] if start <= s < end}), base, groups)
        else:
            self._blobs(buf, start, end, base, groups)
        return groups, replaced

    def _spend(self, at: int) -> bool:
        """One more encoded value may be examined at absolute offset `at` (else counted)."""
        if self.budget <= 0 or self.calls >= CALL_BASE + at // CALL_DENSITY:
            self.unexamined += 1
            return False
        self.calls += 1
        return True

    # -- generic base64 runs ----------------------------------------------------------------

    def _blobs(self, buf: bytes, start: int, end: int, base: int, groups: list[list[Candidate]]) -> None:
        longest = 16  # longest literal is under this many bytes
        for w0 in range(start, end, WINDOW):
            w1 = min(end, w0 + WINDOW)
            starts = sorted({w0 + m[1] for m in _find(buf[w0:min(len(buf), w1 + longest)])})
            self._runs_at(buf, [p for p in starts if p < w1], base, groups)

    def _runs_at(self, buf: bytes, starts: list[int], base: int, groups: list[list[Candidate]]) -> None:
        """The runs holding literals that start at `starts` (sorted: `reach` relies on it)."""
        for p in starts:
            if p + base < self.reach:
                continue  # inside a run already read
            if not self._spend(p + base):
                continue
            group = self._blob_at(buf, p, base)
            if group:
                groups.append(group)

    def _blob_at(self, buf: bytes, p: int, base: int) -> list[Candidate]:
        lo = max(0, p - MAX_BLOB_CHARS, self.reach - base)
        back = _RUN_BACK.match(buf[lo:p][::-1])
        s = p - (back.end() if back else 0)
        if s + base == self.reach and s > 0 and buf[s - 1] in _B64_CHARS:
            s += (self._run_start - s - base) % 4  # the rest of a run cut at a buffer's end
        m = _RUN.match(buf, p)
        e = m.end() if m else p
        while m and m.end() - m.start() == MAX_BLOB_CHARS:
            m = _RUN.match(buf, m.end())  # too long to decode: skip to where it really ends
            e = m.end() if m else e
        pad = _PAD.match(buf, e)
        e = pad.end() if pad else e
        self.reach = e + base
        self._run_start = s + base
        if e - s > MAX_BLOB_CHARS or e - s < MIN_BLOB_CHARS:
            return []
        raw = b64decode(buf[s:e])
        if raw is None:
            return []
        self.budget -= len(raw)
        text = as_text(raw)
        if text is None:
            return []
        return self._inner(raw, s, e, _key_before(buf, s))

    def _inner(self, raw: bytes, s: int, e: int, outer: str | None) -> list[Candidate]:
        """Candidates of the decoded bytes, placed on the encoded run [s, e)."""
        ex = self._extractor()
        out = []
        for c in ex.extract(raw, 0, len(raw), whole=True):  # type: ignore[attr-defined]
            out.append(Candidate(c.value, s, e, c.source, key=c.key or outer, var_type=c.var_type,
                                 encoding="base64", quoted=c.quoted))
        self.unexamined += ex.unexamined  # type: ignore[attr-defined]
        return out

    # -- Kubernetes Secret data -------------------------------------------------------------

    def _is_secret_doc(self, buf: bytes, p: int, base: int) -> bool:
        """Does the YAML document (between `---` lines) holding `p` say `kind: Secret`?
        Computed once per document, so many `data:` blocks cost one look."""
        doc = self._doc
        if doc is not None and doc[0] <= p + base < doc[1]:
            return doc[2]
        ds = buf.rfind(b"\n---", 0, p)
        ds = 0 if ds < 0 else ds + 1
        de = buf.find(b"\n---", p)
        de = len(buf) if de < 0 else de
        found = _KIND_SECRET.search(buf, ds, de) is not None
        self._doc = (ds + base, de + base, found)
        return found

    def _k8s(self, buf: bytes, start: int, end: int, base: int,
             groups: list[list[Candidate]], replaced: set[int]) -> None:
        p = buf.find(b"data", start, end)
        while p >= 0:
            nxt = p + 4
            prev = buf[p - 1] if p > 0 else 0x0A
            if p + base < self._k8s_reach:
                pass  # inside a block already read
            elif not self._spend(p + base):
                return
            elif prev in b"\"'" and buf[p + 4:p + 5] == bytes([prev]):
                m = _JSON_OPEN.match(buf, p + 5)
                if m and self._is_secret_doc(buf, p, base):
                    nxt = self._json_block(buf, m.end(), base, groups, replaced)
            elif prev in b" \t\n" and buf[p + 4:p + 5] == b":" and self._is_secret_doc(buf, p, base):
                nxt = self._yaml_block(buf, p, base, groups, replaced)
            self._k8s_reach = max(self._k8s_reach, nxt + base)
            p = buf.find(b"data", nxt, end) if nxt < end else -1

    def _yaml_block(self, buf: bytes, p: int, base: int,
                    groups: list[list[Candidate]], replaced: set[int]) -> int:
        ls = buf.rfind(b"\n", 0, p) + 1
        indent = buf[ls:p]
        if indent.strip(b" \t") not in (b"", b"-"):
            return p + 5  # `metadata: … data:` mid-line: not a block header
        nl = buf.find(b"\n", p)
        if nl < 0 or buf[p + 5:nl].strip(b" \t\r") not in (b"", b"{}"):
            return p + 5  # `data: x` on one line: not a map of values
        width = len(indent)
        pos = nl + 1
        level = -1  # the entries' indentation, once one is read
        while pos < len(buf):
            blank = _BLANK_LINE.match(buf, pos)
            if blank:
                pos = blank.end()
                continue
            m = _YAML_ENTRY.match(buf, pos)
            if m and len(m.group("i")) > width and level in (-1, len(m.group("i"))):
                if not self._spend(pos + base):
                    break
                level = len(m.group("i"))
                self._value(buf, m.start("v"), m.end("v"), m.group("k"), groups, replaced)
                pos = m.end()
                continue
            # Not an entry. A Helm template keeps reading: a `{{ … }}` value or directive, or
            # a deeper line (a block scalar's body), is stepped over; any other line ends the block.
            at = _INDENT.match(buf, pos).end()  # type: ignore[union-attr]
            if not (buf.startswith(b"{{", at) or at - pos > width) or not self._spend(pos + base):
                break
            nl = buf.find(b"\n", at)
            pos = len(buf) if nl < 0 else nl + 1
        return pos

    def _json_block(self, buf: bytes, pos: int, base: int,
                    groups: list[list[Candidate]], replaced: set[int]) -> int:
        while True:
            m = _JSON_ENTRY.match(buf, pos)
            if not m or not self._spend(pos + base):
                return pos
            self._value(buf, m.start("v"), m.end("v"), m.group("k"), groups, replaced)
            pos = m.end()
            if m.group("end") == b"}":
                return pos

    def _value(self, buf: bytes, s: int, e: int, k: bytes,
               groups: list[list[Candidate]], replaced: set[int]) -> None:
        if e - s < 4 or self.budget <= 0:
            return
        raw = b64decode(buf[s:e])
        if raw is None:
            return
        self.budget -= len(raw)
        text = as_text(raw)
        if text is None:
            return  # binary (a keystore): the plain scan judges the base64 as it stands
        replaced.add(s)  # judged decoded: the base64 text itself is not the secret
        if filters.is_placeholder(text):
            return  # `changeme`, `<your-password>`, `{{ .Values.x }}` in base64
        key = "data." + k.decode()
        group = [Candidate(text.strip(), s, e, "kv", key=key, encoding="base64")]
        if len(raw) >= MIN_BLOB_CHARS:  # a whole file in one key (`.dockerconfigjson`, `.env`)
            group += self._inner(raw, s, e, key)
        groups.append(group)
