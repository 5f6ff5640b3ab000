"""Every backend of the literal scanner finds exactly what a brute-force search finds."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault import literal_scan

BACKENDS = [b for b in ("hyperscan", "ahocorasick_rs") if importlib.util.find_spec(b)] + ["re"]
LITERALS = st.lists(st.binary(min_size=1, max_size=6).map(lambda b: b.replace(b"\0", b"a")),
                    min_size=1, max_size=8, unique=True)


def brute(literals: list[bytes], data: bytes) -> set[tuple[int, int, int]]:
    return {(i, s, s + len(p)) for i, p in enumerate(literals)
            for s in range(len(data)) if data.startswith(p, s)}


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "re"])
@settings(max_examples=150, deadline=None)
@given(literals=LITERALS, data=st.binary(max_size=200))
def test_overlapping_backends_find_every_occurrence(backend: str, literals: list[bytes],
                                                    data: bytes) -> None:
    data = data + b"".join(literals)  # every literal occurs at least once
    name, find = literal_scan.build(literals, backend)
    assert name == backend
    assert set(find(data)) == brute(literals, data)


@settings(max_examples=100, deadline=None)
@given(literals=LITERALS, data=st.binary(max_size=200))
def test_overlapping_regex_finds_every_start(literals: list[bytes], data: bytes) -> None:
    got = literal_scan.regex_finder(literals)(data)
    # One match per start: the alternation's first literal that fits there.
    assert {s for _, s, _ in got} == {s for _, s, _ in brute(literals, data)}
    assert all(data.startswith(literals[i], s) for i, s, _ in got)


@pytest.mark.skipif(not importlib.util.find_spec("hyperscan"), reason="no hyperscan wheel")
def test_hyperscan_caseless_only_where_asked() -> None:
    hs = literal_scan.Hyperscan([b"token", b"AKIA"], caseless=[True, False])
    seen: list[tuple[int, int]] = []
    hs.scan(b"TOKEN akia AKIA ToKeN", lambda i, _f, to, _fl, _c: seen.append((i, to)))
    assert sorted(seen) == [(0, 5), (0, 21), (1, 15)]


def test_no_literals_find_nothing() -> None:
    assert literal_scan.build([])[1](b"anything") == []
