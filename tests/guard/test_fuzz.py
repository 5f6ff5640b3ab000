"""Readers never crash: malformed JSON, truncated files, random bytes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard.tokens import NOW, auth0_mgmt
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
TOKEN = auth0_mgmt()
ENV = json.dumps({"_postman_variable_scope": "environment", "values": [
    {"key": "auth0_token", "value": TOKEN, "type": "secret", "enabled": True},
    {"key": "auth0_client_secret", "value": "x" * 10, "type": "secret"}]}, indent="\t").encode()
FRAGMENTS = [b'"key"', b'"value"', b'"type"', b'"secret"', b":", b",", b'"', b"\\", b"{", b"}",
             b"eyJ", b"Bearer ", b"Authorization: ", b"token=", b"-----BEGIN PRIVATE KEY-----",
             b"\n", b"\x00", b"\xff\xfe", b"ZXlK", b'auth"', b"%20", b"\xc3", b"\xe9"]


def _ok(data: bytes) -> None:
    for f in SCANNER.scan_bytes(data, "fuzz"):
        assert f.line >= 1 and f.column >= 1
        assert TOKEN not in json.dumps(f.to_json())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _ok(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=12), max_size=80))
def test_token_soup(parts: list[bytes]) -> None:
    _ok(b"".join(parts))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(ENV)), st.integers(0, len(ENV)), st.binary(max_size=8))
def test_truncated_and_corrupted_postman(cut: int, at: int, junk: bytes) -> None:
    _ok(ENV[:cut])
    _ok(ENV[:at] + junk + ENV[at:])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500))
def test_text_in_any_encoding(text: str) -> None:
    for enc in ("utf-8", "utf-16"):
        _ok(text.encode(enc, "surrogatepass"))
