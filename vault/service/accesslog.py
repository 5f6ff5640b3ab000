"""The access log: one JSON line per secret read or write, chained with MACs, never a value.

Beside the vault as `VAULT.access.log` (0600), rotated by size into `.1` … `.4`. A record:

    {"command": "curl", "env": "dev", "exe": "/usr/bin/python3", "names": ["auth0_token"],
     "outcome": "ok", "pid": 4242, "seq": 7, "time": "2026-12-02T13:40:01Z", "uid": 1000,
     "verb": "get", "mac": "…"}

`mac` = HMAC-SHA256(log key, previous record's mac ‖ the record's canonical JSON without
`mac`), the log key being HKDF(data key, crypto.HKDF_ACCESS_LOG_INFO): without the vault's
key no one can edit, drop, insert or reorder records and fix the chain up. The first record
of each file also carries `prev` (the mac it continues from), so a rotated file verifies
on its own once older ones are gone. The vault's payload remembers the last record it saw
(`log_head`), so cutting records off the end is detected too.

One writer per vault: the unlock agent (its pid lock makes it the only one).
"""

from __future__ import annotations

import calendar
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vault.service.record import Record

ZERO_MAC = "00" * 32
MAX_BYTES = 1 << 20  # rotate the current file past this size
KEEP = 4  # rotated files kept (.1 newest … .4 oldest)
_MAC_SEP = ',"mac":"'


def log_path(vault_path: Path) -> Path:
    return Path(f"{vault_path}.access.log")


def log_files(path: Path) -> list[Path]:
    """The log's files that exist, oldest first."""
    rotated = [Path(f"{path}.{i}") for i in range(KEEP, 0, -1)]
    return [p for p in [*rotated, path] if p.exists()]


def mac_key(data_key: bytes) -> bytes:
    from vault import crypto

    return crypto.hkdf(data_key, crypto.HKDF_ACCESS_LOG_INFO)


def _mac(key: bytes, prev: str, body: str) -> str:
    import hmac

    return hmac.digest(key, bytes.fromhex(prev) + body.encode(), "sha256").hex()


def iso_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(text: str) -> float:
    """An ISO time (UTC) as written in records, a date, or an age such as 30m, 2h, 7d."""
    from vault.errors import UsageError

    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return time.time() - int(text[:-1]) * units[text[-1]]
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    raise UsageError(f"cannot read the time {text!r}",
                     "give an age such as 30m, 2h or 7d, or a UTC time such as 2026-12-01T09:00")


class AccessLog:
    """The appending end of the log (the agent's): keeps the chain's tail in memory."""

    def __init__(self, path: Path, key: bytes, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self._key = key
        self.max_bytes = max_bytes
        self.seq, self.mac = _tail(path)

    def head(self) -> dict[str, Any]:
        return {"seq": self.seq, "mac": self.mac} if self.seq else {}

    def verify(self) -> Verdict:
        """The whole log checked against the head held here (the newest there is)."""
        return verify(self.path, self._key, self.head())

    def append(self, fields: dict[str, Any]) -> None:
        record = {k: v for k, v in fields.items() if k not in ("mac", "prev", "seq")}
        record["seq"] = self.seq + 1
        record.setdefault("time", iso_time(time.time()))
        size = self._size()
        rotate = size > 0 and size >= self.max_bytes
        if rotate or size == 0:
            record["prev"] = self.mac  # a file's first record names where the chain comes from
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        mac = _mac(self._key, self.mac, body)
        line = f"{body[:-1]}{_MAC_SEP}{mac}\"}}\n".encode()
        if rotate:
            self._rotate()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        self.seq, self.mac = record["seq"], mac

    def _size(self) -> int:
        try:
            return os.lstat(self.path).st_size
        except FileNotFoundError:
            return 0

    def _rotate(self) -> None:
        for i in range(KEEP, 0, -1):
            older = Path(f"{self.path}.{i - 1}") if i > 1 else self.path
            if older.exists():
                os.replace(older, f"{self.path}.{i}")


def _split(line: str) -> tuple[str, str] | None:
    """(body, mac) of one line, or None if it is not a record line."""
    i = line.rfind(_MAC_SEP)
    if i < 0 or not line.endswith('"}'):
        return None
    return line[:i] + "}", line[i + len(_MAC_SEP):-2]


def _tail(path: Path) -> tuple[int, str]:
    """(seq, mac) of the last record written, (0, zeros) for an empty log."""
    for f in reversed(log_files(path)):
        lines = f.read_bytes().decode("utf-8", "replace").splitlines()
        for line in reversed(lines):
            parts = _split(line)
            if parts is None:
                continue
            try:
                return int(json.loads(parts[0])["seq"]), parts[1]
            except (ValueError, KeyError, TypeError):
                continue
    return 0, ZERO_MAC


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record, oldest first, unverified (for display); lines that do not parse are skipped."""
    for f in log_files(path):
        for line in f.read_bytes().decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


class Verdict(Record):
    """What `log --verify` found: ok, how many records, and the first break (file:line, why)."""

    __slots__ = ("ok", "records", "where", "reason", "head_seq")

    def __init__(self, ok: bool, records: int, where: str = "", reason: str = "", head_seq: int = 0) -> None:
        self.ok = ok
        self.records = records
        self.where = where
        self.reason = reason
        self.head_seq = head_seq


def verify(path: Path, key: bytes, head: dict[str, Any] | None) -> Verdict:
    """Check every MAC, the sequence, the links between files, and the vault's `head`."""
    count = 0
    seq = 0
    mac = ""
    head = head or {}
    head_seq = int(head.get("seq") or 0)
    seen_head = False
    first = 0
    for f in log_files(path):
        for n, line in enumerate(f.read_bytes().decode("utf-8", "replace").splitlines(), 1):
            where = f"{f.name}:{n}"
            parts = _split(line)
            try:
                record = json.loads(parts[0]) if parts else None
                rseq = int(record["seq"]) if isinstance(record, dict) else -1
            except (ValueError, KeyError, TypeError):
                record, rseq = None, -1
            if record is None or rseq < 1:
                return Verdict(False, count, where, "not a log record", head_seq)
            body, claimed = parts  # type: ignore[misc]
            if n == 1:
                prev = record.get("prev")
                if not isinstance(prev, str) or (rseq == 1 and prev != ZERO_MAC):
                    return Verdict(False, count, where, f"record {rseq} does not say where its file continues from", head_seq)
                if mac and prev != mac:
                    return Verdict(False, count, where, f"record {rseq} does not continue the previous file", head_seq)
                if not mac:
                    seq, mac, first = rseq - 1, prev, rseq
            if rseq != seq + 1:
                return Verdict(False, count, where, f"record {rseq} where {seq + 1} was due (a record removed or moved)", head_seq)
            if _mac(key, mac, body) != claimed:
                return Verdict(False, count, where, f"record {rseq} was changed, or does not follow record {seq}", head_seq)
            seq, mac = rseq, claimed
            count += 1
            if rseq == head_seq:
                if claimed != head.get("mac"):
                    return Verdict(False, count, where, f"record {rseq} is not the one the vault remembers", head_seq)
                seen_head = True
    if head_seq and not seen_head and not (first and head_seq < first):  # older files rotate away
        last = f"record {seq}" if seq else "no record"
        return Verdict(False, count, f"{path.name}:end",
                       f"the log ends at {last}, but the vault remembers record {head_seq} (records cut off)", head_seq)
    return Verdict(True, count, head_seq=head_seq)
