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
# Ciphertext markers and the shapes around them (vault/guard/ciphertext.py)
CIPHER_FRAGMENTS = [b"ENC[AES256_GCM,data:", b",iv:", b",tag:", b",type:str]", b"QUJD" * 8,
                    b"-----BEGIN AGE ENCRYPTED FILE-----", b"-----END AGE ENCRYPTED FILE-----",
                    b"-----BEGIN PGP MESSAGE-----", b"-----END PGP MESSAGE-----",
                    b"$ANSIBLE_VAULT;1.1;AES256\n", b"  6162636465\n", b"!vault |\n",
                    b"encrypted:", b"kind: SealedSecret\n", b"  encryptedData:\n", b"    k: ",
                    b'"encryptedData": {', b"\n---\n", b"\x00GITCRYPT\x00", b"age-encryption.org/v1\n",
                    b"token=", b"\n", b" ", b"}"]


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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 120_000), st.sampled_from(["jwt", "bearer", "kv", "pem"])),
                max_size=6), st.integers(0, 2**32), st.booleans())
def test_chunked_reading_equals_whole(tmp_path_factory, plants, seed: int, long_lines: bool) -> None:
    """Streaming with small chunks finds exactly what one whole buffer finds."""
    import random

    from tests.guard.tokens import jwt, opaque
    from vault.guard import readers

    rnd = random.Random(seed)
    words = [b"lorem", b"ipsum", b"token_cache", b"x=1", b" ", b"Bearer", b"{{t}}", b"\xc3\xa9"]
    if not long_lines:
        words.append(b"\n")
    body = bytearray(b"".join(rnd.choice(words) for _ in range(30_000)))
    nl = " " if long_lines else "\n"
    shapes = {"jwt": lambda: f" {jwt()} ", "bearer": lambda: f"{nl}Authorization: Bearer {opaque()}{nl}",
              "kv": lambda: f"{nl}API_TOKEN={opaque()}{nl}",
              "pem": lambda: "\n-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 40 + "\n-----END PRIVATE KEY-----\n"}
    for at, shape in sorted(plants, reverse=True):
        at = min(at, len(body))
        body[at:at] = shapes[shape]().encode()
    data = bytes(body)
    path = tmp_path_factory.mktemp("chunks") / "f.txt"
    path.write_bytes(data)
    whole = sorted((f.line, f.column, f.detector, f.fingerprint) for f in SCANNER.scan_bytes(data, str(path)))
    old = readers.CHUNK
    readers.CHUNK = 20_000  # > LOOKAHEAD (16 KiB): many chunk boundaries in a 150 KB file
    try:
        res = SCANNER.scan_path(str(path))
    finally:
        readers.CHUNK = old
    assert sorted((f.line, f.column, f.detector, f.fingerprint) for f in res.findings) == whole


# Hostile repetition (finding 6): any unit of keys, separators and prefixes repeated over a
# long line scans in time linear in its size, through the streaming reader as well.
UNITS = [b"token", b"secret", b"Bearer", b"Authorization", b"eyJ", b"ZXlK", b"api_key", b"passw",
         b"ghp_", b"xoxb-1-", b"sk_live_", b"://", b"a:", b"-----BEGIN PRIVATE KEY-----",
         b'"key": "', b'"value": "', b'"type": "secret"', b'"apikey": [', b"=", b":", b'"', b"'",
         b" ", b"+", b"%20", b"%3D", b"%22", b",", b"a", b"Zz9", b".", b"\\"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(UNITS), min_size=1, max_size=5))
def test_repeated_shapes_scan_in_linear_time(tmp_path_factory, unit_parts: list[bytes]) -> None:
    import time

    from tests.guard.pathological import normal_text

    size = 256 * 1024
    unit = b"".join(unit_parts)
    data = (unit * (size // len(unit) + 1))[:size]

    def timed(b: bytes) -> float:
        t = time.perf_counter()
        SCANNER.scan_bytes(b, "fuzz")
        return time.perf_counter() - t
    base = min(timed(normal_text(size)) for _ in range(2))
    took = timed(data)
    assert took < 60 * base + 0.5, f"{unit!r} repeated: {took:.2f} s vs {base:.3f} s for text"
    path = tmp_path_factory.mktemp("rep") / "f.txt"
    path.write_bytes(data)
    res = SCANNER.scan_path(str(path))  # the size-limited streaming reader
    assert res.nbytes == size and res.skipped is None


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000), st.integers(0, 4000))
def test_size_cap_and_limited_reads(tmp_path_factory, data: bytes, cap: int) -> None:
    from vault.guard.readers import FileScanner, ScanConfig

    path = tmp_path_factory.mktemp("cap") / "f.bin"
    path.write_bytes(data)
    scanner = FileScanner(ScanConfig(b"k" * 32, now=NOW, max_size=cap))
    res = scanner.scan_path(str(path))
    nofollow = scanner.scan_path(str(path), follow=False)  # watch's reader: same result
    assert [f.fingerprint for f in nofollow.findings] == [f.fingerprint for f in res.findings]
    if len(data) > cap:
        assert res.skipped == "large" and res.findings == [] and res.nbytes == 0
    else:
        assert res.skipped is None and res.nbytes == len(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CIPHER_FRAGMENTS) | st.binary(max_size=12), max_size=80))
def test_ciphertext_soup(parts: list[bytes]) -> None:
    """Ciphertext markers in any order: no crash, spans inside the buffer, sorted, disjoint."""
    from vault.guard import ciphertext

    data = b"".join(parts)
    _ok(data)
    spans = ciphertext.spans(data)
    for i, (s, e, _, _) in enumerate(spans):
        assert 0 <= s < e <= len(data)
        assert i + 1 == len(spans) or e <= spans[i + 1][0]
    for e in SCANNER.encrypted:
        assert e.line >= 1
