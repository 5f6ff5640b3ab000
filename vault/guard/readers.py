"""Files to findings: encodings, binaries, chunked reads with overlap, line/column mapping.

A file of at most one chunk (1 MiB; most files of a tree) is read whole with one `os.read`
and scanned as one buffer, exactly as the chunk loop would for it (its first pass ends at
EOF), minus the file object and loop. A larger one streams in 1 MiB chunks that overlap by
the longest value an anchor can start, so memory stays flat whatever the file size; it is
read whole only if it must be decoded (UTF-16).
"""

from __future__ import annotations

import contextlib
import os
import stat

from vault import crypto
from vault.formats import postman_env
from vault.guard import (
    ciphertext,
    codevalue,
    credfiles,
    decode,
    detectors,
    onepass,
    providers,
    situation,
)
from vault.guard.extract import ANCHOR_BUDGET_BASE, HIT_DENSITY, LOOKAHEAD, LOOKBACK, Extractor
from vault.guard.model import (
    Candidate,
    FileError,
    FileResult,
    Finding,
    display_path,
    os_error_reason,
)
from vault.record import FrozenRecord, init_field
from vault.secret import preview

CHUNK = 1024 * 1024
HEAD = 8192
MAX_DECODE = 64 * 1024 * 1024  # UTF-16 files are decoded whole; beyond this they are skipped
# Pseudo-file systems: their "regular" files (`/proc/self/pagemap`) claim size 0 and never end.
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")
ALLOW_MARK = b"tokensafe:allow"
SOURCE_RANK = {"pem": 0, "jwt": 1, "b64jwt": 1, "pair": 2, "kv": 3, "bearer": 4, "authz": 5,
               "basic": 5, "url": 6, "run": 9,
               "cred": -1, "putty": 0, "aws-secret": 1}  # a credential file's grammar knows best


class ScanConfig(FrozenRecord):
    """Everything a worker needs; picklable, holds keys but never a secret value."""

    __slots__ = ("guard_key", "vault_key", "known", "now", "deep", "max_size", "roots")
    _secret = ("guard_key", "vault_key", "known")  # out of the repr

    def __init__(self, guard_key: bytes, vault_key: bytes | None = None,
                 known: frozenset[str] = frozenset(), now: float | None = None, deep: bool = False,
                 max_size: int | None = None, roots: tuple[str, ...] = ()) -> None:
        init_field(self, "guard_key", guard_key)
        init_field(self, "vault_key", vault_key)
        init_field(self, "known", known)
        init_field(self, "now", now)
        init_field(self, "deep", deep)  # also look for vault values standing bare, not under a key
        init_field(self, "max_size", max_size)  # bytes; larger files are skipped (the service sets the default)
        # The paths the user named: a finding's test/doc context is read below them (and from
        # the folder named), never from where they sit (`~/tests/myproject/...` is not a test)
        init_field(self, "roots", roots)

    def with_roots(self, roots: tuple[str, ...]) -> ScanConfig:
        """A copy of this configuration whose `roots` are the paths the user named."""
        return ScanConfig(self.guard_key, self.vault_key, self.known, self.now, self.deep,
                          self.max_size, roots)

    def extractor(self, scope: str | None, binary: bool) -> Extractor:
        runs = None
        if self.deep and self.known and self.vault_key is not None:
            key = self.vault_key
            digests = frozenset(bytes.fromhex(fp) for fp in self.known)

            def runs(tok: bytes) -> bool:
                return crypto.hmac_sha256(key, tok) in digests
        return Extractor(scope, binary, runs=runs, keep_all=bool(self.known))

    def fingerprint(self, value: str) -> str:
        return crypto.fingerprint(self.guard_key, value)

    def in_vault(self, value: str) -> bool | None:
        if self.vault_key is None:
            return None
        return crypto.fingerprint(self.vault_key, value) in self.known


def is_binary(head: bytes) -> bool:
    return b"\x00" in head


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b <= 0xBF)


def _chars(seg: bytes) -> int:
    """Characters in UTF-8 bytes (bytes that are not continuation bytes), even across a cut."""
    return len(seg) - len(seg.translate(None, _NOT_CONTINUATION))


class _Lines:
    """Maps absolute byte offsets to 1-based line and column while chunks stream by.

    Offsets are located in increasing order from the last one (findings come sorted), so a
    buffer costs one pass however many findings sit on one long line."""

    def __init__(self) -> None:
        self.newlines_before = 0  # newlines before the current buffer's first byte
        self.chars_before = 0  # characters of the current line before the buffer's first byte
        self._at: tuple[bytes, int, int, int] | None = None  # (buffer, rel, line, column) last located

    def locate(self, buf: bytes, base: int, rel: int) -> tuple[int, int]:
        at = self._at
        if at is not None and at[0] is buf and at[1] <= rel:
            _, r0, line0, col0 = at
            nls = buf.count(b"\n", r0, rel)
            if nls == 0:
                got = (line0, col0 + _chars(buf[r0:rel]))
            else:
                got = (line0 + nls, _chars(buf[buf.rfind(b"\n", r0, rel) + 1:rel]) + 1)
        else:
            line = self.newlines_before + buf.count(b"\n", 0, rel) + 1
            nl = buf.rfind(b"\n", 0, rel)
            if nl >= 0:
                got = (line, _chars(buf[nl + 1:rel]) + 1)
            else:
                got = (line, self.chars_before + _chars(buf[:rel]) + 1)  # the line began earlier
        self._at = (buf, rel, *got)
        return got

    def advance(self, buf: bytes, base: int, drop: int) -> None:
        self._at = None
        self.newlines_before += buf.count(b"\n", 0, drop)
        nl = buf.rfind(b"\n", 0, drop)
        if nl >= 0:
            self.chars_before = _chars(buf[nl + 1:drop])
        else:
            self.chars_before += _chars(buf[:drop])


class _Allowed:
    """Is the line holding an offset marked `tokensafe:allow`? One look per line, not per
    finding (a 1 MB line of findings would otherwise be read once for each)."""

    def __init__(self) -> None:
        self._line: tuple[bytes, int, int, bool] | None = None  # (buffer, start, end, allowed)

    def __call__(self, buf: bytes, rel: int) -> bool:
        got = self._line
        if got is not None and got[0] is buf and got[1] <= rel < got[2]:
            return got[3]
        start = buf.rfind(b"\n", 0, rel) + 1
        end = buf.find(b"\n", rel)
        end = end if end >= 0 else len(buf)
        allowed = buf.find(ALLOW_MARK, start, end) >= 0
        self._line = (buf, start, end, allowed)
        return allowed


UNEXAMINED = ("scanned in part: far more places that look like tokens than a real file holds "
              "(generated or hostile?); some were not examined")


def _read_upto(fd: int, size: int) -> bytes:
    """At most `size` bytes (what fstat said): one read for a regular file, more only if a
    file system returns a short read; a file that grows meanwhile is not followed."""
    data = os.read(fd, size) if size else b""
    if 0 < len(data) < size:
        parts = [data]
        got = len(data)
        while got < size:
            more = os.read(fd, size - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


class _Limited:
    """Reads a file only up to the size fstat gave: a file that claims one size and keeps
    yielding bytes (pseudo files, a writer racing the scan) cannot make the read endless."""

    def __init__(self, f, size: int) -> None:
        self.f, self.left = f, size

    def read(self, n: int) -> bytes:
        got = self.f.read(min(n, self.left)) if self.left > 0 else b""
        self.left -= len(got)
        return got


def is_pseudo(path: str, st: os.stat_result, real_dirs: dict[str, tuple[str, bool]] | None = None,
              link: bool | None = None) -> bool:
    """A file of /proc, /sys or /dev (a symlink may lead there): never scanned.

    `real_dirs` caches each folder's real path (and whether it lies in one of those) across
    calls: resolving every component of every file's path (`realpath`, one lstat each) was a
    fifth of the time on small files. A file's own name is then resolved only if it is a link:
    `link=False` when the caller knows it is none (it opened it with O_NOFOLLOW), else lstat."""
    if st.st_dev in _pseudo_devs():
        return True
    if real_dirs is None:
        return _under_pseudo_root(os.path.realpath(path))
    folder, sep, name = path.rpartition("/")
    key = folder if folder or not sep else "/"  # `/x`: "/"; `x`: "" (the working folder)
    got = real_dirs.get(key)
    if got is None:
        got = _real_folder(key, real_dirs)
    if name in ("", ".", "..") or (link is not False and stat.S_ISLNK(os.lstat(path).st_mode)):
        return _under_pseudo_root(os.path.realpath(path))
    return got[1] or (got[0] == "/" and "/" + name in PSEUDO_ROOTS)


def _real_folder(key: str, real_dirs: dict[str, tuple[str, bool]]) -> tuple[str, bool]:
    """A folder's real path, and whether it lies in a pseudo root, cached with those of the
    folders above it: a folder that is no link is its parent's real path and its name, one
    lstat instead of `realpath`'s one per component (a tree of 700 folders spent ~17 ms in
    `realpath`)."""
    if len(real_dirs) >= 4096:
        real_dirs.clear()  # bounded: a walk moves on from a folder and rarely comes back
    below: list[str] = []  # folders under `k` to resolve, deepest first
    k = key
    while k not in real_dirs:
        parent, sep, name = k.rpartition("/")
        if not sep or name in ("", ".", "..") or len(below) >= 64:
            real = os.path.realpath(k or ".")
            real_dirs[k] = (real, _under_pseudo_root(real))
            break
        below.append(k)
        k = parent or "/"
    for folder in reversed(below):
        try:
            link = stat.S_ISLNK(os.lstat(folder).st_mode)
        except OSError:
            link = True  # gone or unreadable: realpath says what it can
        real = os.path.realpath(folder) if link else \
            real_dirs[k][0].rstrip("/") + "/" + folder.rpartition("/")[2]
        real_dirs[folder] = (real, _under_pseudo_root(real))
        k = folder
    return real_dirs[key]


def _under_pseudo_root(real: str) -> bool:
    return any(real == r or real.startswith(r + "/") for r in PSEUDO_ROOTS)


_PSEUDO_DEVS: list[frozenset[int]] = []


def _pseudo_devs() -> frozenset[int]:
    if not _PSEUDO_DEVS:
        devs = set()
        for r in PSEUDO_ROOTS[:2]:  # /dev is a tmpfs that may share a device with others
            with contextlib.suppress(OSError):
                devs.add(os.stat(r).st_dev)
        _PSEUDO_DEVS.append(frozenset(devs))
    return _PSEUDO_DEVS[0]


def _scope(head: bytes) -> str | None:
    """The Postman scope of a file's head; every marker sniff_scope reads holds `postman`, and
    most files have none: one substring test instead of a regex search over 8 KB."""
    return postman_env.sniff_scope(head) if b"postman" in head else None


def _merge(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per value start; context (key, scope, type) pooled from the others."""
    by_start: dict[int, Candidate] = {}
    for c in sorted(cands, key=lambda c: SOURCE_RANK.get(c.source, 8)):
        have = by_start.get(c.start)
        if have is None:
            by_start[c.start] = c
        else:
            have.key = have.key or c.key
            have.scope = have.scope or c.scope
            have.var_type = have.var_type or c.var_type
            have.encoding = have.encoding or c.encoding
            have.facts = have.facts or c.facts
    return list(by_start.values())


class FileScanner:
    """Scans one file or one byte string; stateless between files."""

    def __init__(self, cfg: ScanConfig) -> None:
        self.cfg = cfg
        self.ctx = detectors.Context() if cfg.now is None else detectors.Context(now=cfg.now)
        self._allows = _Allowed()
        self.unexamined = 0  # of the last scan_bytes: anchors too dense to examine
        self._real_dirs: dict[str, tuple[str, bool]] = {}  # for is_pseudo (audit only)
        self.encrypted: list[ciphertext.Encrypted] = []  # of the last scan_bytes: ciphertext seen

    def _findings(self, cands: list[Candidate], buf: bytes, base: int, lines: _Lines,
                  path: str, seen: set[int], enc: list[ciphertext.Span] | None = None) -> list[Finding]:
        out: list[Finding] = []
        allows = self._allows
        # Where the file sits (test folder, documentation …: lowers severity), read at the
        # first finding: most files with candidates have none
        in_path: str | None = None
        in_text: situation.TextContext | None = None
        in_code = codevalue.is_code_file(path)
        for c in sorted(_merge(cands), key=lambda c: c.start):
            start = c.start + base
            if start in seen:
                continue
            if enc and ciphertext.covers(enc, c.start):
                continue  # ciphertext meant to be committed: listed apart, not a finding
            if (in_code and c.source == "kv" and not c.quoted and codevalue.is_reference(c.value)
                    and not c.value.startswith(providers.VALUE_PREFIXES)):
                continue  # `password: SecretStr`, `user, password = proxy_auth`: a name in code
                # (not `API_KEY=gho_…` in a docstring: the vendor rows judge that one)
            in_vault = self.cfg.in_vault(c.value) if (self.cfg.known or c.source != "run") else None
            if c.source == "run":
                if not in_vault:
                    continue
                hit = (detectors.BY_ID["vault-known"], detectors.Verdict("high"))
            else:
                hit = detectors.classify(c, self.ctx)
                if hit is None and in_vault:
                    hit = (detectors.BY_ID["vault-known"], detectors.Verdict("high"))
            if hit is None or allows(buf, c.start):
                continue
            seen.add(start)
            det, verdict = hit
            facts = dict(verdict.facts)
            if c.key is not None and c.source not in ("url", "cred"):  # cred: facts name the field
                facts["key"] = c.key
            if c.scope:
                facts["scope"] = c.scope
            if c.var_type:
                facts["type"] = c.var_type
            if c.encoding:
                facts["encoding"] = c.encoding
            if c.facts:
                facts.update(c.facts)
            if in_vault is not None:
                facts["in_vault"] = in_vault
            severity = verdict.severity
            if in_text is None:
                in_path = situation.path_context(situation.below_root(path, self.cfg.roots))
                in_text = situation.TextContext(path)
            where = in_path or in_text(buf, c.start, base == 0)
            if where:
                facts["context"] = where
                severity = situation.lowered(det.id, severity, facts, where)
            line, col = lines.locate(buf, base, c.start)
            out.append(Finding(path, line, col, det.id, severity, preview(c.value),
                               self.cfg.fingerprint(c.value), facts, start, c.end - c.start))
        return out

    def _region(self, dec: decode.Decoder | None, cands: list[Candidate], buf: bytes, lo: int, hi: int,
                base: int, lines: _Lines, path: str, seen: set[int],
                enc: list[ciphertext.Span] | None = None,
                literals: tuple[bool, list[int]] | None = None) -> list[Finding]:
        """Findings of [lo, hi) of `buf`: the plain candidates, then what base64 values there
        decode to (vault/guard/decode.py), each reported at its encoded run. `literals`: what
        onepass.py found for the decoder in the whole of `buf`."""
        if dec is None:
            return self._findings(cands, buf, base, lines, path, seen, enc) if cands else []
        groups, replaced = dec.scan(buf, lo, hi, base, literals)
        if replaced:
            cands = [c for c in cands if c.start not in replaced]
        out = self._findings(cands, buf, base, lines, path, seen, enc) if cands else []
        for group in groups:  # one finding per encoded value: its first view that classifies
            for c in group:
                got = self._findings([c], buf, base, lines, path, seen, enc)
                if got:
                    out.extend(got)
                    break
        return out

    def _decoder(self, binary: bool) -> decode.Decoder | None:
        return None if binary else decode.Decoder(lambda: self.cfg.extractor(None, False))

    def scan_bytes(self, data: bytes, path: str = "<bytes>", binary: bool | None = None) -> list[Finding]:
        """Scan an in-memory file (staged blobs, tests)."""
        head = data[:HEAD]
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
        if utf16:
            data = data.decode("utf-16", "replace").encode("utf-8")
            binary = False
        binary = is_binary(head) if binary is None else binary
        self.encrypted = []
        self.unexamined = 0
        kind = ciphertext.whole_file(head)
        if kind:
            self.encrypted.append(ciphertext.Encrypted(path, 1, kind))
            return []
        # One literal pass for the anchors and all the rest (onepass.py); the head sniffed
        # is the bytes as given, so a file decoded from UTF-16 keeps its own searches.
        limit = ANCHOR_BUDGET_BASE + len(data) // HIT_DENSITY
        lit = None if utf16 else onepass.whole(data, limit)
        whole = lit if lit is not None and lit.complete else None  # else: anchors only
        if whole is not None:
            scope = postman_env.sniff_scope(head) if 0 <= whole.postman_end <= HEAD else None
        else:
            scope = _scope(head)
        ex = self.cfg.extractor(scope, binary)
        lines = _Lines()
        # Nothing to decode where the pass saw no `Secret` and no encoded anchor (what
        # Decoder.scan would conclude first): no decoder for most files
        dec = self._decoder(binary) if whole is None or whole.secret or whole.b64_starts else None
        hits = lit.anchors if lit is not None and lit.anchors_complete else None
        cands = ex.extract(data, 0, len(data), whole=True, hits=hits)
        if not binary:  # `.netrc`, `.npmrc`, …: the file's grammar as well (credfiles.py)
            cands = credfiles.merge(cands, credfiles.candidates(path, data))
        markers = None if lit is None else lit.markers if whole or lit.markers_complete else None
        enc = self._encrypted_spans(data, cands, path, binary, markers)
        found = self._region(dec, cands, data, 0, len(data), 0, lines, path, set(), enc,
                             (whole.secret, whole.b64_starts) if whole else None)
        self._note_encrypted(enc, data, 0, 0, len(data), lines, path, self.encrypted)
        self.unexamined = ex.unexamined + (dec.unexamined if dec else 0)
        return found

    @staticmethod
    def _encrypted_spans(buf: bytes, cands: list[Candidate], path: str, binary: bool,
                         markers: list[tuple[int, int]] | None = None) -> list[ciphertext.Span]:
        """Ciphertext spans of a text buffer: looked for in config and data files, and in
        source files only when they gave candidates (a tree of code pays nothing).
        `markers`: what onepass.py found of them in the whole of `buf`."""
        if binary or not (cands or not codevalue.is_code_file(path)):
            return []
        return ciphertext.spans(buf, markers)

    @staticmethod
    def _note_encrypted(enc: list[ciphertext.Span], buf: bytes, base: int, own_start: int,
                        own_end: int, lines: _Lines, path: str, into: list) -> None:
        for s, _e, kind, key in enc:
            if own_start <= s < own_end and len(into) < ciphertext.MAX_LISTED:  # chunks overlap: each span is listed by one chunk
                into.append(ciphertext.Encrypted(path, lines.locate(buf, base, s)[0], kind, key))

    def scan_path(self, path: str, follow: bool = True) -> FileResult:
        """`follow=False` (watch): a symlink is not opened (O_NOFOLLOW), it is an error."""
        shown = display_path(path)
        res = FileResult(shown)
        link: bool | None = None  # is `path` itself a symlink? (None: not known)
        try:
            if follow and _NOFOLLOW:
                # Opened without following first: when that works the name is no link, and
                # is_pseudo needs no lstat of it; a link (ELOOP), or any error, opens as before.
                try:
                    fd = os.open(path, _OPEN_FLAGS | _NOFOLLOW)
                    link = False
                except OSError:
                    fd = os.open(path, _OPEN_FLAGS)
            else:
                fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | _NOFOLLOW)
        except OSError as e:
            res.error = FileError(shown, os_error_reason(e, missing="vanished before it could be read"))
            return res
        try:
            st = os.fstat(fd)
            # watch (follow=False) runs for days while folders may be swapped: no cache there
            real_dirs = self._real_dirs if follow else None
            if not stat.S_ISREG(st.st_mode) or is_pseudo(path, st, real_dirs, link):
                res.error = FileError(shown, "not a regular file (device, FIFO, socket, /proc or /sys)")
                res.skipped = "special"
                return res
            cap = self.cfg.max_size
            if cap is not None and st.st_size > cap:
                res.error = FileError(shown, f"larger than the size cap ({st.st_size} > {cap} bytes; "
                                      "--max-size raises it)")
                res.skipped = "large"
                return res
            if st.st_size <= CHUNK:
                self._scan_whole(_read_upto(fd, st.st_size), res)
                return res
            with os.fdopen(fd, "rb", buffering=0) as f:
                fd = -1
                self._scan_stream(_Limited(f, st.st_size), res)
        except OSError as e:
            res.error = FileError(shown, os_error_reason(e, missing="vanished before it could be read"))
        finally:
            if fd >= 0:
                os.close(fd)
        return res

    def _scan_whole(self, data: bytes, res: FileResult) -> None:
        """A small file in one buffer: what _scan_stream does when its first read reaches EOF."""
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
        res.nbytes = len(data)
        res.binary = not utf16 and data.find(b"\x00", 0, HEAD) >= 0  # is_binary(data[:HEAD]), uncopied
        res.kind = "utf-16" if utf16 else "binary" if res.binary else "text"
        if utf16:  # decoded first, as _scan_stream does: the sniffed head is then text
            data = data.decode("utf-16", "replace").encode("utf-8")
        res.findings = self.scan_bytes(data, res.path, binary=res.binary)
        res.encrypted = list(self.encrypted)
        if self.unexamined and not utf16:
            res.error = FileError(res.path, UNEXAMINED)

    def _scan_stream(self, f, res: FileResult) -> None:
        head = f.read(HEAD)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            rest = f.read(MAX_DECODE + 1)
            if len(rest) > MAX_DECODE:
                res.error = FileError(res.path, "UTF-16 file too large to decode")
                return
            res.nbytes = len(head) + len(rest)
            res.kind = "utf-16"
            data = (head + rest).decode("utf-16", "replace").encode("utf-8")
            res.findings = self.scan_bytes(data, res.path, binary=False)
            res.encrypted = list(self.encrypted)
            return
        binary = is_binary(head)
        res.binary = binary
        res.kind = "binary" if binary else "text"
        kind = ciphertext.whole_file(head)
        if kind:  # encrypted from the first byte (git-crypt, age, ansible-vault): nothing to read
            res.encrypted.append(ciphertext.Encrypted(res.path, 1, kind))
            res.nbytes = len(head) + max(0, getattr(f, "left", 0))
            return
        ex = self.cfg.extractor(_scope(head), binary)
        lines = _Lines()
        dec = self._decoder(binary)
        seen: set[int] = set()
        buf, base, own = head, 0, 0
        eof = len(head) < HEAD
        while True:
            if not eof:
                new = f.read(CHUNK)
                eof = len(new) < CHUNK
                buf += new
            end = base + len(buf)
            own_end = end if eof else max(own, end - LOOKAHEAD)
            if own_end > own:
                cands = ex.extract(buf, own - base, own_end - base, whole=eof and base == 0, base=base)
                if eof and base == 0 and not binary:  # the whole file: its grammar as well
                    cands = credfiles.merge(cands, credfiles.candidates(res.path, buf))
                enc = self._encrypted_spans(buf, cands, res.path, binary)
                res.findings.extend(self._region(dec, cands, buf, own - base, own_end - base, base,
                                                 lines, res.path, seen, enc))
                if enc:
                    self._note_encrypted(enc, buf, base, own - base, own_end - base, lines,
                                         res.path, res.encrypted)
            if eof:
                res.nbytes = end
                if ex.unexamined or (dec and dec.unexamined):
                    res.error = FileError(res.path, UNEXAMINED)
                return
            drop = max(0, own_end - LOOKBACK - base)
            lines.advance(buf, base, drop)
            buf, base, own = buf[drop:], base + drop, own_end
