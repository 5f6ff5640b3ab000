"""One Hyperscan pass over a whole file for every literal its scan asks about.

A file of a tree is small (a few KB): the anchors (extract.py), the base64 forms of anchors
(decode.py), the ciphertext markers (ciphertext.py), `Secret` (a Kubernetes Secret) and
`postman` (a Postman export's head) each took a pass of their own, and per byte those passes
cost as much as all the rest of the scan. One database holding them all reads the bytes once
(~2 GB/s a core); each user then gets exactly the hits its own pass would have found.

Without the hyperscan wheel, or with TOKENSAFE_GUARD_PORTABLE=1, `whole` returns None and
each user runs its own search as before. Streamed chunks of large files do too.
"""

from __future__ import annotations

from typing import Any

from vault import literal_scan
from vault.guard import ciphertext, decode, extract

_SECRET = b"Secret"  # decode.Decoder.scan: no Kubernetes Secret without the word
_POSTMAN = b"postman"  # readers._scope: every marker postman_env.sniff_scope reads holds it
_B64 = tuple(decode.literals())
# Ciphertext markers by their first 16 bytes, each hit checked whole: the armour lines
# (`-----BEGIN AGE ENCRYPTED FILE-----`) took Hyperscan 5x longer to compile whole (~6 ms,
# in every worker), for no faster scan.
_MARKER_PREFIX = 16
_MARKERS = tuple(m for m, _ in ciphertext.MARKERS)
_LITERALS: tuple[bytes, ...] = (
    tuple(a for a, _ in extract.ALL_ANCHORS) + _B64
    + tuple(m[:_MARKER_PREFIX] for m in _MARKERS) + (_SECRET, _POSTMAN))
_N_ANCHORS = len(extract.ALL_ANCHORS)
_N_B64 = _N_ANCHORS + len(_B64)
_N_MARKERS = _N_B64 + len(ciphertext.MARKERS)
_SECRET_ID, _POSTMAN_ID = _N_MARKERS, _N_MARKERS + 1
_CASELESS = [True] * len(extract.ANCHORS) + [False] * (len(_LITERALS) - len(extract.ANCHORS))
# `Secret` and `postman` are asked about once (is there one; where does the first end):
# Hyperscan reports each once, so a file of `SecretSecret…` costs no callback per word
_SINGLE = [False] * (len(_LITERALS) - 2) + [True, True]
_LENS = tuple(len(lit) for lit in _LITERALS)
_db: list[Any] = []  # the compiled database, or None without the wheel; built on first use


class Found:
    """What one pass over a whole buffer found, each in its user's own terms.

    `complete` is False when the pass stopped early (a hostile file) and the users must
    search for themselves; but when it stopped because the anchors were too dense,
    `anchors_complete` stays True: `anchors` is what extract's own pass would have returned
    (it stops there too). Ciphertext markers too dense stop it as well (at ciphertext.py's cap)."""

    __slots__ = ("anchors", "b64_starts", "markers", "secret", "postman_end", "complete",
                 "anchors_complete", "markers_complete")

    def __init__(self) -> None:
        self.anchors: list[tuple[int, str]] = []  # extract.anchor_hits(buf, 0, len(buf), limit)
        self.b64_starts: list[int] = []  # starts of decode's literals (unsorted, repeats)
        self.markers: list[tuple[int, int]] = []  # ciphertext._marker_hits(buf), unsorted
        self.secret = False  # `Secret` occurs
        self.postman_end = -1  # end of the first `postman` (the head holds one if <= HEAD)
        self.complete = True
        self.anchors_complete = True
        self.markers_complete = True  # `markers` is what ciphertext.py's pass finds


def whole(buf: bytes, limit: int) -> Found | None:
    """All literals of `buf` (the whole file). The anchors stop at `limit` + 1 hits, as
    extract's own pass does; ciphertext markers at its cap."""
    if not _db:
        try:
            _db.append(literal_scan.Hyperscan(list(_LITERALS), caseless=_CASELESS, single=_SINGLE))
        except ImportError:
            _db.append(None)
    if _db[0] is None or extract.portable():
        return None
    found = Found()
    anchors, b64, markers = found.anchors, found.b64_starts, found.markers
    add, add_b64, add_marker = anchors.append, b64.append, markers.append
    lens, names, marker_of = _LENS, extract.ANCHOR_NAMES, _MARKERS
    n_anchors, n_b64, n_markers = _N_ANCHORS, _N_B64, _N_MARKERS
    marker_cap = ciphertext.MAX_HITS + len(buf) // 256
    prefixes = [0]  # marker prefixes seen

    def on_match(i: int, _from: int, to: int, _flags: int, _ctx: object) -> bool:
        # called once per hit (up to one per 16 bytes of hostile input): locals only
        if i < n_anchors:
            add((to - lens[i], names[i]))
            return len(anchors) > limit  # True stops the scan
        if i < n_b64:
            add_b64(to - lens[i])
        elif i < n_markers:
            p = to - lens[i]
            if buf.startswith(marker_of[i - n_b64], p):
                add_marker((p, i - n_b64))
            prefixes[0] += 1
            if prefixes[0] >= marker_cap:
                # Markers (or their first 16 bytes) every few bytes: a hostile file, where
                # ciphertext.py's own pass stops too. So does this one; every user then
                # searches for itself
                found.anchors_complete = False
                # ciphertext.py's pass keeps the first `cap` markers and stops: these, if
                # no prefix was a near miss
                found.markers_complete = len(markers) >= marker_cap
                return True
        elif i == _SECRET_ID:
            found.secret = True
        elif found.postman_end < 0:
            found.postman_end = to
        return False

    try:
        _db[0].scan(buf, on_match)
    except extract.hs_terminated():
        found.complete = False
        if found.anchors_complete:  # stopped by the anchors: the markers are not all in
            found.markers_complete = False
    return found
