"""The access log's chain: every kind of tampering is found and named; rotation keeps the chain."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from vault.service import accesslog

KEY = bytes(range(32))


def _fields(i: int) -> dict:
    return {"verb": "get", "env": "dev", "names": [f"name{i}"], "command": "curl",
            "pid": 1000 + i, "uid": 1000, "exe": "/usr/bin/python3", "outcome": "ok"}


def _write(path: Path, n: int, max_bytes: int = accesslog.MAX_BYTES) -> accesslog.AccessLog:
    log = accesslog.AccessLog(path, KEY, max_bytes)
    for i in range(n):
        log.append(_fields(i))
    return log


@pytest.fixture
def log(tmp_path: Path) -> accesslog.AccessLog:
    return _write(tmp_path / "v.access.log", 6)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_clean_log_verifies(log: accesslog.AccessLog) -> None:
    v = accesslog.verify(log.path, KEY, log.head())
    assert v.ok and v.records == 6


def test_the_wrong_key_fails(log: accesslog.AccessLog) -> None:
    assert not accesslog.verify(log.path, bytes(32), log.head()).ok


def test_an_edited_record_is_named(log: accesslog.AccessLog) -> None:
    lines = _lines(log.path)
    lines[2] = lines[2].replace('"curl"', '"bash"')
    log.path.write_text("".join(lines))
    v = accesslog.verify(log.path, KEY, log.head())
    assert not v.ok and v.where.endswith(":3") and "record 3 was changed" in v.reason


def test_a_deleted_record_is_found(log: accesslog.AccessLog) -> None:
    lines = _lines(log.path)
    del lines[3]
    log.path.write_text("".join(lines))
    v = accesslog.verify(log.path, KEY, log.head())
    assert not v.ok and v.where.endswith(":4") and "record 5 where 4 was due" in v.reason


def test_reordered_records_are_found(log: accesslog.AccessLog) -> None:
    lines = _lines(log.path)
    lines[1], lines[2] = lines[2], lines[1]
    log.path.write_text("".join(lines))
    v = accesslog.verify(log.path, KEY, log.head())
    assert not v.ok and v.where.endswith(":2")


def test_a_cut_tail_is_found_through_the_vaults_head(log: accesslog.AccessLog) -> None:
    head = log.head()
    lines = _lines(log.path)
    log.path.write_text("".join(lines[:4]))
    assert accesslog.verify(log.path, KEY, None).ok  # the chain alone cannot tell
    v = accesslog.verify(log.path, KEY, head)
    assert not v.ok and "cut off" in v.reason and "record 6" in v.reason


def test_a_cut_and_regrown_tail_is_found(log: accesslog.AccessLog) -> None:
    head = log.head()
    log.path.write_text("".join(_lines(log.path)[:4]))
    again = accesslog.AccessLog(log.path, KEY)
    again.append(_fields(98))
    again.append(_fields(99))  # seq 6 again, but not the record the vault remembers
    v = accesslog.verify(log.path, KEY, head)
    assert not v.ok and "not the one the vault remembers" in v.reason


def test_a_deleted_log_is_found(log: accesslog.AccessLog) -> None:
    head = log.head()
    log.path.unlink()
    assert not accesslog.verify(log.path, KEY, head).ok


def test_a_first_record_cannot_be_dropped(log: accesslog.AccessLog) -> None:
    log.path.write_text("".join(_lines(log.path)[1:]))
    v = accesslog.verify(log.path, KEY, log.head())
    assert not v.ok and v.where.endswith(":1")


def test_garbage_line_is_named(log: accesslog.AccessLog) -> None:
    with log.path.open("a") as f:
        f.write("hello\n")
    v = accesslog.verify(log.path, KEY, log.head())
    assert not v.ok and v.where.endswith(":7") and v.reason == "not a log record"


def test_rotation_keeps_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "v.access.log"
    log = _write(path, 60, max_bytes=2000)
    files = accesslog.log_files(path)
    assert len(files) == accesslog.KEEP + 1  # oldest rotated away
    v = accesslog.verify(path, KEY, log.head())
    assert v.ok, v.reason
    first = json.loads(_lines(files[0])[0])
    assert first["seq"] > 1 and "prev" in first
    # Continuing after a restart picks up the chain's tail.
    again = accesslog.AccessLog(path, KEY, 2000)
    assert again.seq == 60
    again.append(_fields(60))
    assert accesslog.verify(path, KEY, again.head()).ok
    # A rotated file edited is still found.
    mid = files[2]
    mid.write_text(mid.read_text().replace('"curl"', '"bash"', 1))
    assert not accesslog.verify(path, KEY, again.head()).ok


def test_removing_a_middle_rotated_file_is_found(tmp_path: Path) -> None:
    path = tmp_path / "v.access.log"
    log = _write(path, 40, max_bytes=2000)
    accesslog.log_files(path)[1].unlink()
    v = accesslog.verify(path, KEY, log.head())
    assert not v.ok and "does not continue the previous file" in v.reason


def test_ten_thousand_records_verify_in_under_a_second(tmp_path: Path) -> None:
    path = tmp_path / "v.access.log"
    log = _write(path, 10_000, max_bytes=1 << 30)
    t0 = time.perf_counter()
    v = accesslog.verify(path, KEY, log.head())
    took = time.perf_counter() - t0
    print(f"verified {v.records} records in {took * 1000:.0f} ms")
    assert v.ok and v.records == 10_000
    assert took < 3.0  # the goal is 1 s; generous for a loaded CI machine


def test_records_carry_no_value_field(log: accesslog.AccessLog) -> None:
    for r in accesslog.read_records(log.path):
        assert set(r) <= {"verb", "env", "names", "command", "pid", "uid", "exe", "outcome",
                          "seq", "time", "prev", "mac"}


def test_log_file_is_private(log: accesslog.AccessLog) -> None:
    assert log.path.stat().st_mode & 0o777 == 0o600


def test_parse_time() -> None:
    assert abs(accesslog.parse_time("2h") - (time.time() - 7200)) < 5
    assert accesslog.parse_time("2026-12-01T09:00") == accesslog.parse_time("2026-12-01T09:00:00Z")
    with pytest.raises(Exception, match="cannot read the time"):
        accesslog.parse_time("yesterday")
