"""Masking: every encoded form, every split point, and speed-independent correctness."""

from __future__ import annotations

import base64
import json
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from vault.inject.mask import MIN_VALUE_LEN, Masker, forms

TOKEN = "tsPLANTED-7f3a9c/SECRET+e1d2c3 b4\"a5f6?=&é"
SECRETS = {"auth0_token": TOKEN, "auth0_domain": "tenant.eu.auth0.com", "pin": "123"}


def encodings(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        urllib.parse.quote(value, safe="").encode(),
        urllib.parse.quote_plus(value).encode(),
        json.dumps(value)[1:-1].encode(),
        json.dumps(value, ensure_ascii=False)[1:-1].encode(),
    ]


def stream(m: Masker, data: bytes, cuts: list[int]) -> bytes:
    s = m.stream()
    out, prev = [], 0
    for c in sorted(set(cuts)) + [len(data)]:
        out.append(s.feed(data[prev:c]))
        prev = c
    out.append(s.flush())
    return b"".join(out)


def test_every_form_is_masked_with_its_name() -> None:
    m = Masker(SECRETS)
    for enc in encodings(TOKEN):
        out = m.mask(b"before " + enc + b" after")
        assert out == b"before <redacted:auth0_token> after", enc


def test_secret_inside_a_larger_base64_blob_at_any_alignment() -> None:
    m = Masker(SECRETS)
    for prefix in (b"", b"u", b"us", b"use", b"user:"):
        for alphabet in (None, b"-_"):
            blob = base64.b64encode(prefix + TOKEN.encode() + b"!", alphabet)
            out = m.mask(b"Authorization: Basic " + blob)
            assert b"<redacted:auth0_token>" in out
            # No run of 8+ characters of the original encoding of the secret survives.
            core = base64.b64encode(TOKEN.encode(), alphabet)[2:-4]
            assert core[:8] not in out


def test_short_values_are_not_masked() -> None:
    assert len("123") < MIN_VALUE_LEN
    assert Masker(SECRETS).mask(b"pin 123") == b"pin 123"
    assert all(len(f) >= MIN_VALUE_LEN for f in forms("abcd"))


def test_longest_value_wins_over_a_value_it_contains() -> None:
    m = Masker({"short": "abcdefgh", "long": "xxabcdefghyy"})
    assert m.mask(b"xxabcdefghyy abcdefgh") == b"<redacted:long> <redacted:short>"


def test_no_secrets_passes_through() -> None:
    m = Masker({})
    s = m.stream()
    assert s.feed(b"hello") == b"hello" and s.flush() == b""


def test_partial_prefix_is_released_at_the_end() -> None:
    s = Masker(SECRETS).stream()
    head = TOKEN.encode()[:10]
    assert s.feed(b"line\n" + head) == b"line\n"  # might be the start of the token: held
    assert s.flush() == head  # it was not: released unchanged


def test_prompts_are_not_held_back() -> None:
    s = Masker(SECRETS).stream()
    assert s.feed(b"Password: ") == b"Password: "


@settings(max_examples=300, deadline=None)
@given(
    pre=st.binary(max_size=40),
    post=st.binary(max_size=40),
    which=st.integers(min_value=0, max_value=7),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_split_reads_mask_like_the_whole(pre: bytes, post: bytes, which: int, cuts: list[int]) -> None:
    m = Masker(SECRETS)
    data = pre + b" " + encodings(TOKEN)[which] + b" " + post + b"\n" + TOKEN.encode()
    cuts = [c % (len(data) + 1) for c in cuts]
    whole = m.mask(data)
    assert stream(m, data, cuts) == whole
    assert TOKEN.encode() not in whole
    assert whole.count(b"<redacted:auth0_token>") >= 2


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=200))
def test_every_single_split_point(cut: int) -> None:
    m = Masker(SECRETS)
    data = b"x=" + base64.b64encode(TOKEN.encode()) + b"&y=" + TOKEN.encode() + b"\n"
    cut %= len(data) + 1
    assert stream(m, data, [cut]) == b"x=<redacted:auth0_token>&y=<redacted:auth0_token>\n"


def test_byte_by_byte() -> None:
    m = Masker(SECRETS)
    data = (b"a " + TOKEN.encode() + b" b " + SECRETS["auth0_domain"].encode()) * 3
    assert stream(m, data, list(range(len(data)))) == m.mask(data)
    assert b"tenant" not in m.mask(data)


def test_repr_has_no_value() -> None:
    assert TOKEN not in repr(Masker(SECRETS))


def _backends() -> list[str]:
    import importlib.util

    return [b for b in ("hyperscan", "ahocorasick_rs") if importlib.util.find_spec(b)] + ["re"]


@settings(max_examples=100, deadline=None)
@given(
    noise=st.lists(st.sampled_from([b"a", b"tsPL", b" ", b"\\", b"%2F", b"dHNQ", b"tenant.eu", b"\n"]),
                   max_size=30),
    which=st.integers(min_value=0, max_value=7),
    cut=st.integers(min_value=0, max_value=300),
)
def test_every_backend_agrees_with_the_regex(noise: list[bytes], which: int, cut: int) -> None:
    data = b"".join(noise[: len(noise) // 2]) + encodings(TOKEN)[which] + b"".join(noise[len(noise) // 2:])
    ref = Masker(SECRETS, backend="re").mask(data)
    assert TOKEN.encode() not in ref
    for backend in _backends():
        m = Masker(SECRETS, backend=backend)
        assert m.backend == backend
        assert m.mask(data) == ref, backend
        assert stream(m, data, [cut % (len(data) + 1)]) == ref, backend


def test_multiline_values_also_after_a_terminal_rewrote_newlines() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    m = Masker({"key": pem})
    assert m.mask(pem.encode()) == b"<redacted:key>"
    assert m.mask(pem.replace("\n", "\r\n").encode()) == b"<redacted:key>"
