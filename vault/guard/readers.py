"""Files to findings: encodings, binaries, chunked reads with overlap, line/column mapping.

A file is never read whole unless it must be decoded (UTF-16); everything else streams in
1 MiB chunks that overlap by the longest value an anchor can start, so memory stays flat
whatever the file size.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from vault import crypto
from vault.formats import postman_env
from vault.guard import detectors
from vault.guard.extract import LOOKAHEAD, LOOKBACK, Extractor
from vault.guard.model import (
    Candidate,
    FileError,
    FileResult,
    Finding,
    display_path,
    os_error_reason,
)
from vault.secret import preview

CHUNK = 1024 * 1024
HEAD = 8192
MAX_DECODE = 64 * 1024 * 1024  # UTF-16 files are decoded whole; beyond this they are skipped
ALLOW_MARK = b"tokensafe:allow"
SOURCE_RANK = {"pem": 0, "jwt": 1, "b64jwt": 1, "pair": 2, "kv": 3, "bearer": 4, "authz": 5,
               "basic": 5, "url": 6, "run": 9}


@dataclass(frozen=True)
class ScanConfig:
    """Everything a worker needs; picklable, holds keys but never a secret value."""

    guard_key: bytes = field(repr=False)
    vault_key: bytes | None = field(default=None, repr=False)
    known: frozenset[str] = field(default_factory=frozenset, repr=False)
    now: float | None = None
    deep: bool = False  # also look for vault values standing bare, not under a key

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


_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b <= 0xBF)


def _chars(seg: bytes) -> int:
    """Characters in UTF-8 bytes (bytes that are not continuation bytes), even across a cut."""
    return len(seg) - len(seg.translate(None, _NOT_CONTINUATION))


class _Lines:
    """Maps absolute byte offsets to 1-based line and column while chunks stream by."""

    def __init__(self) -> None:
        self.newlines_before = 0  # newlines before the current buffer's first byte
        self.chars_before = 0  # characters of the current line before the buffer's first byte

    def locate(self, buf: bytes, base: int, rel: int) -> tuple[int, int]:
        line = self.newlines_before + buf.count(b"\n", 0, rel) + 1
        nl = buf.rfind(b"\n", 0, rel)
        if nl >= 0:
            return line, _chars(buf[nl + 1:rel]) + 1
        return line, self.chars_before + _chars(buf[:rel]) + 1  # the line began earlier

    def advance(self, buf: bytes, base: int, drop: int) -> None:
        self.newlines_before += buf.count(b"\n", 0, drop)
        nl = buf.rfind(b"\n", 0, drop)
        if nl >= 0:
            self.chars_before = _chars(buf[nl + 1:drop])
        else:
            self.chars_before += _chars(buf[:drop])


def _line_allows(buf: bytes, rel: int) -> bool:
    start = buf.rfind(b"\n", 0, rel) + 1
    end = buf.find(b"\n", rel)
    return buf.find(ALLOW_MARK, start, end if end >= 0 else len(buf)) >= 0


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
    return list(by_start.values())


class FileScanner:
    """Scans one file or one byte string; stateless between files."""

    def __init__(self, cfg: ScanConfig) -> None:
        self.cfg = cfg
        self.ctx = detectors.Context() if cfg.now is None else detectors.Context(now=cfg.now)

    def _findings(self, cands: list[Candidate], buf: bytes, base: int, lines: _Lines,
                  path: str, seen: set[int]) -> list[Finding]:
        out: list[Finding] = []
        for c in _merge(cands):
            start = c.start + base
            if start in seen:
                continue
            in_vault = self.cfg.in_vault(c.value) if (self.cfg.known or c.source != "run") else None
            if c.source == "run":
                if not in_vault:
                    continue
                hit = (detectors.BY_ID["vault-known"], detectors.Verdict("high"))
            else:
                hit = detectors.classify(c, self.ctx)
                if hit is None and in_vault:
                    hit = (detectors.BY_ID["vault-known"], detectors.Verdict("high"))
            if hit is None or _line_allows(buf, c.start):
                continue
            seen.add(start)
            det, verdict = hit
            facts = dict(verdict.facts)
            if c.key is not None and c.source != "url":
                facts["key"] = c.key
            if c.scope:
                facts["scope"] = c.scope
            if c.var_type:
                facts["type"] = c.var_type
            if c.encoding:
                facts["encoding"] = c.encoding
            if in_vault is not None:
                facts["in_vault"] = in_vault
            line, col = lines.locate(buf, base, c.start)
            out.append(Finding(path, line, col, det.id, verdict.severity, preview(c.value),
                               self.cfg.fingerprint(c.value), facts, start, c.end - c.start))
        return out

    def scan_bytes(self, data: bytes, path: str = "<bytes>", binary: bool | None = None) -> list[Finding]:
        """Scan an in-memory file (staged blobs, tests)."""
        head = data[:HEAD]
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            data = data.decode("utf-16", "replace").encode("utf-8")
            binary = False
        binary = is_binary(head) if binary is None else binary
        ex = self.cfg.extractor(postman_env.sniff_scope(head), binary)
        lines = _Lines()
        return self._findings(ex.extract(data, 0, len(data), whole=True), data, 0, lines, path, set())

    def scan_path(self, path: str) -> FileResult:
        shown = display_path(path)
        res = FileResult(shown)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            res.error = FileError(shown, os_error_reason(e, missing="vanished before it could be read"))
            return res
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                res.error = FileError(shown, "not a regular file")
                return res
            with os.fdopen(fd, "rb", buffering=0) as f:
                fd = -1
                self._scan_stream(f, res)
        except OSError as e:
            res.error = FileError(shown, os_error_reason(e, missing="vanished before it could be read"))
        finally:
            if fd >= 0:
                os.close(fd)
        return res

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
            return
        binary = is_binary(head)
        res.binary = binary
        res.kind = "binary" if binary else "text"
        ex = self.cfg.extractor(postman_env.sniff_scope(head), binary)
        lines = _Lines()
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
                cands = ex.extract(buf, own - base, own_end - base, whole=eof and base == 0)
                if cands:
                    res.findings.extend(self._findings(cands, buf, base, lines, res.path, seen))
            if eof:
                res.nbytes = end
                return
            drop = max(0, own_end - LOOKBACK - base)
            lines.advance(buf, base, drop)
            buf, base, own = buf[drop:], base + drop, own_end
