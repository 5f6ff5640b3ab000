"""What the click-free fast paths' parser tests share (get, run, audit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest


def check_parse_plain(parse_plain: Callable[[Sequence[str]], dict | None], args: list[str],
                      expected: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`parse_plain(args)` gives `expected` (plus no --vault), or None: a form left to click."""
    monkeypatch.delenv("TOKENSAFE_VAULT", raising=False)
    got = parse_plain(args)
    if expected is None:
        assert got is None
    else:
        assert got == {"vault_path": None, **expected}
