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

Many writers per vault: the unlock agent and every command that unlocks the vault itself.
Each append takes `VAULT.access.log.lock` (flock; a file of its own because rotation renames
the log), re-reads the chain's tail from the file under it — never trusting a head held in
memory — and appends one line with one write(2). No fsync per record (bench/bench_accesslog.py:
it would multiply the cost of an append several times over, for durability against a
power cut, which is not what the log defends against); `sync_head` fsyncs the log before a
vault write records its head, so the head the vault remembers is never ahead of the disk.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from vault.record import Record

ZERO_MAC = "00" * 32
MAX_BYTES = 1 << 20  # rotate the current file past this size
KEEP = 4  # rotated files kept (.1 newest … .4 oldest)
_MAC_SEP = ',"mac":"'


def log_path(vault_path: Path) -> Path:
    return Path(f"{vault_path}.access.log")


def lock_path(path: Path) -> Path:
    """The log's writer lock (never renamed, unlike the log itself)."""
    return Path(f"{path}.lock")


@contextmanager
def _locked(path: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the log's writer lock (BusyError after TOKENSAFE_LOCK_WAIT). A writer holds it for one append."""
    from vault.store import fileio

    fd = fileio.acquire(lock_path(path), fileio.lock_wait_from_env() if wait_s is None else wait_s)
    try:
        yield
    finally:
        os.close(fd)


def log_files(path: Path) -> list[Path]:
    """The log's files that exist, oldest first."""
    rotated = [Path(f"{path}.{i}") for i in range(KEEP, 0, -1)]
    return [p for p in [*rotated, path] if p.exists()]


def mac_key(data_key: bytes, log_key: bytes = b"") -> bytes:
    """The vault's fixed log key once a write has stored one (`VaultData.log_key`); before
    that, the one it is made from: HKDF of the data key."""
    from vault import crypto

    return log_key or crypto.hkdf(data_key, crypto.HKDF_ACCESS_LOG_INFO)


def _mac(key: bytes, prev: str, body: str) -> str:
    import hmac

    return hmac.digest(key, bytes.fromhex(prev) + body.encode(), "sha256").hex()


def iso_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(text: str) -> float:
    """An ISO time (UTC) as written in records, a date, or an age such as 30m, 2h, 7d."""
    import calendar

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
    """An appending end of the log. `head()` is the last record this writer appended (or found)."""

    def __init__(self, path: Path, key: bytes, max_bytes: int = MAX_BYTES, read_tail: bool = True) -> None:
        self.path = path
        self._key = key
        self.max_bytes = max_bytes
        self.seq, self.mac = _tail(path) if read_tail else (0, ZERO_MAC)

    def head(self) -> dict[str, Any]:
        return {"seq": self.seq, "mac": self.mac} if self.seq else {}

    def verify(self, remembered: dict[str, Any] | None = None) -> Verdict:
        """The whole log checked against the newer of our head and `remembered` (the vault's)."""
        return verify(self.path, self._key, newer_head(self.head(), remembered))

    def append(self, fields: dict[str, Any]) -> None:
        """One record after the chain's current tail, as read from the file under the writer lock."""
        record = {k: v for k, v in fields.items() if k not in ("mac", "prev", "seq")}
        record.setdefault("time", iso_time(time.time()))
        with _locked(self.path):
            prev_seq, prev_mac = _tail(self.path)
            record["seq"] = prev_seq + 1
            size = self._size()
            rotate = size > 0 and size >= self.max_bytes
            if rotate or size == 0:
                record["prev"] = prev_mac  # a file's first record names where the chain comes from
            body = json.dumps(record, sort_keys=True, separators=(",", ":"))
            mac = _mac(self._key, prev_mac, body)
            line = f"{body[:-1]}{_MAC_SEP}{mac}\"}}\n".encode()
            if rotate:
                self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                if os.write(fd, line) != len(line):  # a full disk can cut a write short
                    raise OSError(28, "the record was only partly written")
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


def newer_head(*heads: dict[str, Any] | None) -> dict[str, Any]:
    """The head with the highest seq: every record before it is proven by the chain up to it."""
    return max((h for h in heads if h), key=lambda h: int(h.get("seq") or 0), default={})


def sync_head(path: Path) -> dict[str, Any]:
    """The chain's tail as a head for the vault to remember, after making the log durable.

    Taken under the writer lock; the log is fsynced first, so that a crash cannot leave a
    vault that remembers a record the disk never got (which `--verify` would call a cut).
    """
    with _locked(path):
        seq, mac = _tail(path)
        if seq:
            with suppress(FileNotFoundError):
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
    return {"seq": seq, "mac": mac} if seq else {}


def snapshot(data: Any) -> dict[str, dict[str, Any]]:
    """What `changed` compares, of a VaultData: each environment's entries as JSON (in memory only)."""
    return {en: {n: e.to_json() for n, e in env.entries.items()} for en, env in data.environments.items()}


def changed(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(environments, entry names) that differ between two snapshots of the vault data."""
    envs: list[str] = []
    names: set[str] = set()
    for en in sorted(set(before) | set(after)):
        ea, eb = before.get(en), after.get(en)
        if ea == eb:
            continue
        envs.append(en)
        for n in set(ea or {}) | set(eb or {}):
            if (ea or {}).get(n) != (eb or {}).get(n):
                names.add(n)
    return envs, sorted(names)


def _split(line: str) -> tuple[str, str] | None:
    """(body, mac) of one line, or None if it is not a record line."""
    i = line.rfind(_MAC_SEP)
    if i < 0 or not line.endswith('"}'):
        return None
    return line[:i] + "}", line[i + len(_MAC_SEP):-2]


_TAIL_CHUNK = 8192
_TAIL_MAX = 4 * MAX_BYTES  # a hostile file with no record near its end is not read whole


def _last_record(f: Path) -> tuple[int, str] | None:
    """(seq, mac) of the last record line in one file, reading backwards from its end."""
    try:
        fd = os.open(f, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        want = _TAIL_CHUNK
        while True:
            start = max(0, size - want)
            lines = os.pread(fd, size - start, start).split(b"\n")
            complete = lines if start == 0 else lines[1:]  # the first may be cut by the read
            for raw in reversed(complete):
                parts = _split(raw.decode("utf-8", "replace"))
                if parts is None:
                    continue
                try:
                    return int(json.loads(parts[0])["seq"]), parts[1]
                except (ValueError, KeyError, TypeError):
                    continue
            if start == 0 or want >= _TAIL_MAX:
                return None
            want *= 4  # records are short: one read nearly always does
    finally:
        os.close(fd)


def _tail(path: Path) -> tuple[int, str]:
    """(seq, mac) of the last record written, (0, zeros) for an empty log."""
    for f in reversed(log_files(path)):
        found = _last_record(f)
        if found is not None:
            return found
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
