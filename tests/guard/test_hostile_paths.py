"""The shortcuts that keep hostile input fast give the same answers as the plain rules.

Each shortcut (a skipped region, a pre-check, a faster equivalent of a pattern, a memo of the
last answer) is checked two ways: against the reference form it replaces, on generated
input, and by a real finding placed right after a long hostile run that the shortcut skips.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.guard.tokens import opaque
from vault.guard import extract, filters
from vault.guard.readers import FileScanner, ScanConfig

# -- filters: the same decisions as the reference forms -------------------------------

# (is_placeholder itself lives in placeholders.py, whose word rules read at most 512
# characters of a value: its table and look-alike tests are tests/guard/test_placeholders.py)


@settings(max_examples=2000, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_distinct_characters_bound_the_entropy(v: str) -> None:
    """The shortcut in looks_random: below log2(distinct) the entropy cannot reach a threshold."""
    assert filters.entropy(v) <= math.log2(len(set(v))) + 1e-9


def test_a_value_at_the_edge_of_the_bound_is_still_counted() -> None:
    """10 distinct characters, evenly: entropy log2(10) = 3.32, just over 3.3."""
    v = "g1h2i3j4k5" * 2
    assert abs(filters.entropy(v) - math.log2(10)) < 1e-9
    assert filters.looks_random(v)
    assert not filters.looks_random(v, min_entropy=3.33)


def test_the_last_answer_is_kept_per_value_and_per_threshold() -> None:
    tok = opaque(40)
    assert filters.looks_random(tok)
    assert not filters.looks_random(tok, min_len=100)  # same value, other arguments
    assert filters.looks_random(tok)
    assert not filters.looks_random("token=" * 10)
    hexv = "0123456789abcdef" * 4  # 64 hex characters: a digest unless the key is strong
    assert not filters.looks_random(hexv)
    assert filters.looks_random(hexv, strong_key=True)


# -- extract: the split KV pattern is the full one ------------------------------------

_KV_PIECES = [b"a", b"Z", b"9", b"_", b"-", b".", b"=", b":", b"=>", b":=", b" ", b"\t", b'"', b"'",
              b"`", b"\\", b"%", b"%22", b"%27", b"%2", b"%3D", b"%3a", b"%20", b"%2C", b"%7d",
              b"%5D", b"%41", b",", b";", b"&", b"<", b"{", b"[", b"\n", b"\xc3\xa9", b"x" * 40]


@settings(max_examples=5000, deadline=None)
@given(st.lists(st.sampled_from(_KV_PIECES), min_size=1, max_size=14).map(b"".join),
       st.integers(0, 2))
def test_kv_match_gives_the_spans_of_the_full_pattern(buf: bytes, s: int) -> None:
    s = min(s, len(buf) - 1)
    m = extract.KV_RE.match(buf, s)
    want = None if m is None else (m.start("k"), m.end("k"), m.start("v"), m.end("v"))
    assert extract._kv_match(buf, s) == want


@pytest.mark.parametrize("tail", [b"", b"%22", b'"', b"22", b"%2", b"%"])
def test_kv_match_at_the_value_length_cap(tail: bytes) -> None:
    for fill in (b"a", b"a%", b"a%2"):
        buf = b"k=" + (fill * 8200)[:8190] + tail
        m = extract.KV_RE.match(buf, 0)
        assert m is not None
        assert extract._kv_match(buf, 0) == (m.start("k"), m.end("k"), m.start("v"), m.end("v"))


# -- skipped regions: a real finding right after each hostile run is still found ------

def _scan(data: bytes) -> list:
    return FileScanner(ScanConfig(b"k" * 32)).scan_bytes(data, "f.txt")


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _line_of(data: bytes, needle: bytes) -> int:
    return data[:data.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize("docs", [
    b"-----BEGIN PRIVATE KEY----- (an example header, no key follows)\n",  # BEGIN without END
    b"keep the private key offline; the Private Key file is 0600\n",  # `private` without BEGIN
])
def test_a_key_after_a_long_run_of_headers_or_prose_is_found(docs: bytes) -> None:
    pem = _pem().encode()
    secret = opaque(40)
    data = docs * 800 + pem + b"\n" + docs * 50 + f"private_key = {secret}\n".encode()
    found = {(f.detector, f.line) for f in _scan(data)}
    assert ("private-key", _line_of(data, b"-----BEGIN PRIVATE KEY-----\nM")) in found
    assert ("high-entropy", _line_of(data, b"private_key = ")) in found


def test_a_secret_pair_after_a_run_of_type_secret_is_found() -> None:
    first, second = opaque(40), opaque(40)
    data = (b'{"key": "k", "value": "v"' + b', "type": "secret"' * 20000 + b"}\n"
            + f'{{"key": "db_pass", "value": "{first}", "type": "secret"}},\n'.encode()
            + f'{{"key": "db_pass2", "value": "{second}", "type": "secret"}}\n'.encode())
    got = {f.facts.get("key"): f for f in _scan(data)}
    assert got["db_pass"].facts.get("type") == "secret" and got["db_pass"].line == 2
    assert got["db_pass2"].facts.get("type") == "secret" and got["db_pass2"].line == 3


def test_a_pair_whose_key_holds_spaces_after_a_run_of_prose_is_found() -> None:
    secret = opaque(40)
    data = (b"the secret token is rotated daily by the password job\n" * 500
            + f'{{"key": "my secret token", "value": "{secret}"}}\n'.encode())
    got = [f for f in _scan(data) if f.facts.get("key") == "my secret token"]
    assert len(got) == 1 and got[0].line == 501


def test_a_pair_at_the_widest_spacing_the_pattern_allows_is_found() -> None:
    """The key at its longest (200 escaped characters), then 256 spaces on each side of the
    comma: its `"value"` starts 914 bytes after the anchor, inside PAIR_REACH."""
    secret = opaque(40)
    key = "token" + "\\t" * 195
    data = (b"the secret token is rotated daily\n" * 100
            + f'{{"key": "{key}"{" " * 256},{" " * 256}"value": "{secret}"}}\n'.encode())
    got = [f for f in _scan(data) if f.line == 101]
    assert len(got) == 1 and got[0].facts["key"].startswith("token\t")


def test_skipped_regions_hold_across_chunks(tmp_path: Path) -> None:
    """Over 1 MiB, so the reach of a skipped region is carried from one chunk to the next."""
    docs = b"-----BEGIN PRIVATE KEY----- (an example header, no key follows)\n"
    pem = _pem().encode()
    data = docs * 20000 + pem + b"\n" + docs * 100 + b"-----END PRIVATE KEY-----\n" + pem
    p = tmp_path / "keys.txt"
    p.write_bytes(data)
    res = FileScanner(ScanConfig(b"k" * 32)).scan_path(str(p))
    lines = sorted(f.line for f in res.findings if f.detector == "private-key")
    first = _line_of(data, pem)
    assert lines == [first, first + pem.count(b"\n") + 102], lines
    assert res.error is None  # every anchor examined


# -- end to end --------------------------------------------------------------------------

@pytest.mark.e2e
def test_audit_finds_secrets_planted_after_hostile_runs(session, tmp_path: Path) -> None:
    d = tmp_path / "soup"
    d.mkdir()
    kv, pair, pem = "tsPLANTED" + opaque(32), "tsPLANTED" + opaque(32), _pem()
    pem_body = pem.splitlines()[1]
    data = (b"-----BEGIN PRIVATE KEY----- (example)\n" * 3000
            + b'{"key": "k", "value": "v"' + b', "type": "secret"' * 3000 + b"}\n"
            + b"the private key and the secret token are rotated daily\n" * 3000
            + f"api_token={kv}\n".encode()
            + f'{{"key": "db_pass", "value": "{pair}", "type": "secret"}}\n'.encode()
            + pem.encode())
    (d / "soup.txt").write_bytes(data)
    r = session("audit", "--json", str(d), timeout=60)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    got = {(f["detector"], f["line"]) for f in doc["findings"]}
    assert ("high-entropy", _line_of(data, b"api_token=")) in got
    assert ("postman-variable", _line_of(data, b'"db_pass"')) in got
    assert ("private-key", _line_of(data, b"-----BEGIN PRIVATE KEY-----\nM")) in got
    assert b"scanned in part" not in r.stderr
    for secret in (kv, pair, pem_body):
        session.assert_no_leak(secret)


@settings(max_examples=3000, deadline=None)
@given(st.integers(0, 4 * extract.ANCHOR_BUDGET_BASE), st.integers(0, 4 * extract.CANDIDATE_BASE),
       st.integers(0, 1 << 24))
def test_the_budget_compare_is_the_budget_rule(calls: int, cands: int, at: int) -> None:
    over = (calls >= extract.ANCHOR_BUDGET_BASE + at // extract.CALL_DENSITY
            or cands >= extract.CANDIDATE_BASE + at // extract.CANDIDATE_DENSITY)
    assert over == (at < extract._budget_opens_at(calls, cands))


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from([b"passw", b"api_key", b"token", b"x", b".", b"-", b"%26", b"\"", b"'",
                                 b" ", b"=", b"==", b":", b":=", b"=>", b"%3D", b"\\\"", b"a" * 60]),
                max_size=12).map(b"".join))
def test_a_kv_key_is_the_identifier_it_starts(buf: bytes) -> None:
    """`_kv` drops an anchor whose identifier is no secret-like key before matching the value:
    sound only because KV_RE's key, where it matches, is exactly that identifier."""
    for s in range(len(buf)):
        span = extract._kv_match(buf, s)
        if span is None or (s and extract._IDENT_RUN.match(buf[s - 1:s]).end()):
            continue  # an identifier starts only after a non-identifier byte
        e = extract._IDENT_RUN.match(buf, s).end()
        assert buf[span[0]:span[1]] == buf[s:e]


def test_identifier_bytes_are_the_identifier_patterns_class() -> None:
    """`_kv` skips reading back when the byte before the anchor is not in _IDENT_BYTES: sound
    only if that set is exactly what _IDENT_RUN matches."""
    for b in range(256):
        assert bool(extract._IDENT_RUN.fullmatch(bytes([b]))) == (b in extract._IDENT_BYTES), b


# -- _kv case 2: the last `"key"`/`"name"` before an anchor, with its memo of dense runs ----

_PAIR_BITS = st.sampled_from([b'"key"', b'"name"', b"token", b" ", b'"', b"x", b"=", b":",
                              b'"value"', b"\n", b"ab" * 20, b'"k', b'ey"', b"me\""])


@settings(max_examples=600, deadline=None)
@given(bits=st.lists(_PAIR_BITS, max_size=300), at=st.lists(st.integers(0, 2000), max_size=80),
       ahead=st.sampled_from([8, 40, extract.KEY_AHEAD]))
def test_pair_key_start_is_the_last_key_or_name_before_the_anchor(
        bits: list[bytes], at: list[int], ahead: int) -> None:
    buf = b"".join(bits)
    saved, extract.KEY_AHEAD = extract.KEY_AHEAD, ahead  # small windows reach their ends
    try:
        ex = extract.Extractor()
        # anchors in order, repeats allowed; also just before, at and after each word's end
        ends = [i + len(w) + d for w in (b'"key"', b'"name"') for i in range(len(buf))
                if buf.startswith(w, i) for d in (-1, 0, 1)]
        for p in sorted(min(max(a, 0), len(buf)) for a in at + ends):
            lo = max(0, p - 210)
            want = max(buf.rfind(b'"key"', lo, p), buf.rfind(b'"name"', lo, p))
            assert ex._pair_key_start(buf, p) == want
    finally:
        extract.KEY_AHEAD = saved
