"""Anchors that start inside a chunk's own range but end past it are still found."""

from __future__ import annotations

import pytest

from vault.guard import extract


@pytest.mark.parametrize(("anchor", "name"), extract.ANCHORS)
def test_portable_search_finds_an_anchor_straddling_the_range_end(anchor: bytes, name: str) -> None:
    own_end = 100
    for start in range(own_end - len(anchor) + 1, own_end):  # starts inside, ends outside
        buf = b" " * start + anchor + b" " * 64
        hits = extract._find_hits(buf, 0, own_end)
        assert (start, name) in hits, (anchor, start)
    # An anchor that starts at own_end belongs to the next range.
    buf = b" " * own_end + anchor + b" " * 64
    assert (own_end, name) not in extract._find_hits(buf, 0, own_end)
