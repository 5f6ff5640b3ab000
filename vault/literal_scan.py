"""Find every occurrence of many byte literals in one pass: output masking's forms, the
guard's anchors.

Backends, fastest first: Hyperscan (SIMD literal matching, GB/s, where its wheel exists),
`ahocorasick_rs` (a Rust DFA over short prefixes of the literals, verified in Python), and a
compiled alternation regex (stdlib, correct but slow). Each is imported on first use.
A finder returns `(literal index, start, end)` for all occurrences, overlapping ones too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

Match = tuple[int, int, int]  # (literal index, start, end)
Finder = Callable[[bytes], list[Match]]

BACKENDS = ("hyperscan", "ahocorasick_rs", "re")
# ahocorasick_rs searches these many leading bytes of each literal: a small automaton stays
# in cache (a DFA over whole 400-byte literals runs 3x slower); candidates are verified.
_AC_PREFIX = 12


class Hyperscan:
    """A compiled set of literals; `scan` calls `on_match(index, _, end, _, _)` for each
    occurrence, as Hyperscan does (a caller's own callback saves a pass over the matches).
    ImportError without the wheel."""

    def __init__(self, literals: Sequence[bytes], caseless: Sequence[bool] | None = None,
                 single: Sequence[bool] | None = None) -> None:
        """`single[i]`: literal i is reported once, at its first occurrence (the earliest end)."""
        import hyperscan as hs

        self._hs = hs
        self._db = hs.Database(mode=hs.HS_MODE_BLOCK)
        flags: list[int] | int = 0
        if caseless or single:
            flags = [(hs.HS_FLAG_CASELESS if caseless and caseless[i] else 0)
                     | (hs.HS_FLAG_SINGLEMATCH if single and single[i] else 0)
                     for i in range(len(literals))]
        self._db.compile(expressions=list(literals), ids=list(range(len(literals))),
                         elements=len(literals), flags=flags, literal=True)
        self._pid = os.getpid()

    def scan(self, data: bytes, on_match: Callable[[int, int, int, int, object], object]) -> None:
        if self._pid != os.getpid():
            # Scratch space is per process: a forked worker (audit's pool) allocates its own.
            self._db.scratch = self._hs.Scratch(self._db)
            self._pid = os.getpid()
        if data:
            self._db.scan(data, match_event_handler=on_match)


def hyperscan_finder(literals: Sequence[bytes]) -> Finder:
    hs = Hyperscan(literals)
    lengths = [len(p) for p in literals]

    def find(data: bytes) -> list[Match]:
        found: list[Match] = []

        def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> int:
            found.append((idx, to - lengths[idx], to))
            return 0

        hs.scan(data, on_match)
        return found

    return find


def ahocorasick_finder(literals: Sequence[bytes]) -> Finder:
    import ahocorasick_rs as ac

    keys = sorted({p[:_AC_PREFIX] for p in literals})
    by_key: dict[int, list[int]] = {}
    index = {k: i for i, k in enumerate(keys)}
    for i, p in enumerate(literals):
        by_key.setdefault(index[p[:_AC_PREFIX]], []).append(i)
    auto = ac.BytesAhoCorasick(keys, matchkind=ac.MatchKind.Standard,
                               implementation=ac.Implementation.DFA)

    def find(data: bytes) -> list[Match]:
        found: list[Match] = []
        for k, start, _ in auto.find_matches_as_indexes(data, overlapping=True):
            for i in by_key[k]:
                if data.startswith(literals[i], start):
                    found.append((i, start, start + len(literals[i])))
        return found

    return find


def regex_finder(literals: Sequence[bytes], overlapping: bool = True) -> Finder:
    """Without `overlapping`, leftmost-first: leftmost-longest when literals come longest first."""
    alt = b"|".join(re.escape(p) for p in literals)
    index = {p: i for i, p in enumerate(literals)}
    if not overlapping:
        rx = re.compile(alt)
        return lambda data: [(index[m.group()], m.start(), m.end()) for m in rx.finditer(data)]
    rx = re.compile(b"(?=(" + alt + b"))")  # a lookahead also finds overlapping occurrences
    return lambda data: [(index[m.group(1)], m.start(), m.start() + len(m.group(1)))
                         for m in rx.finditer(data)]


def build(literals: Sequence[bytes], backend: str | None = None) -> tuple[str, Finder]:
    """The fastest backend that imports (or exactly `backend`), with its name."""
    if not literals:
        return "none", lambda data: []
    builders = {"hyperscan": hyperscan_finder, "ahocorasick_rs": ahocorasick_finder,
                "re": lambda lits: regex_finder(lits, overlapping=False)}
    for name in [backend] if backend else BACKENDS:
        if name == "hyperscan" and not backend and any(b"\0" in p for p in literals):
            continue  # its literal API stops a pattern at NUL: the value would be half masked
        try:
            return name, builders[name](literals)
        except ImportError:
            if backend:
                raise
    raise AssertionError("unreachable: the re backend always imports")
