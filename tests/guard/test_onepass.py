"""One literal pass per whole file (vault/guard/onepass.py) finds exactly what each user's
own pass finds: the anchors, decode's base64 forms, ciphertext markers, `Secret`, `postman`."""

from __future__ import annotations

import base64

import pytest

from vault.guard import ciphertext, decode, extract, onepass
from vault.guard.readers import HEAD, FileScanner, ScanConfig

pytest.importorskip("hyperscan")

SAMPLES = [
    b"",
    b"plain text, nothing to see",
    b'{"key": "api_token", "value": "x", "_postman_variable_scope": "environment"}',
    b"apiVersion: v1\nkind: Secret\ndata:\n  password: " + base64.b64encode(b"password=hunter2hunter2") + b"\n",
    b"GITHUB=ghp_" + b"a" * 36 + b" AKIAIOSFODNN7EXAMPLE xoxb-1-2 Bearer abcdefgh://u:p@h\n",
    b"pw: ENC[AES256_GCM,data:abc=,iv:abc=,tag:abc=,type:str]\nx: encrypted:" + b"A" * 50 + b"\n",
    b"-----BEGIN PGP MESSAGE-----\nhQ\n-----END PGP MESSAGE-----\n-----BEGIN PGP MAIL\n"
    b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",  # and a near miss
    b"x" * HEAD + b" postman \"_postman_variable_scope\": \"globals\"",  # past the head
    b"eyJ" * 20000,  # denser than the anchor budget: the pass stops early
    bytes(range(256)) * 40,
    b"ENC[AES256_GCM,data:" * 30000,  # markers past ciphertext.py's cap: the pass stops
    b"-----BEGIN AGE Ex" * 30000,  # marker prefixes only, as dense
    b"kind: SealedSecret " * 20000,  # `Secret` reported once however often it occurs
]


def _anchor_limit(buf: bytes) -> int:
    return extract.ANCHOR_BUDGET_BASE + len(buf) // extract.HIT_DENSITY


@pytest.mark.parametrize("buf", SAMPLES)
def test_one_pass_finds_what_each_pass_finds(buf: bytes) -> None:
    limit = _anchor_limit(buf)
    got = onepass.whole(buf, limit)
    assert got is not None
    if got.markers_complete:
        assert sorted(got.markers) == ciphertext._marker_hits(buf)
    if not got.anchors_complete:  # stopped for dense markers: every user searches itself
        assert not got.complete and len(got.markers) <= len(ciphertext._marker_hits(buf))
        return
    assert sorted(got.anchors) == sorted(extract.anchor_hits(buf, 0, len(buf), limit))
    if not got.complete:
        assert len(got.anchors) > limit  # stopped because the anchors were too dense
        return
    assert sorted(set(got.b64_starts)) == sorted({m[1] for m in decode._find(buf)})
    assert sorted(got.markers) == ciphertext._marker_hits(buf)
    assert got.secret == (b"Secret" in buf)
    assert (0 <= got.postman_end <= HEAD) == (b"postman" in buf[:HEAD])


def test_dense_anchors_stop_the_pass() -> None:
    buf = b"eyJ" * 20000
    got = onepass.whole(buf, _anchor_limit(buf))
    assert got is not None and not got.complete and got.anchors_complete
    assert not got.markers_complete


def test_dense_markers_stop_the_pass_and_every_user_searches_itself() -> None:
    buf = b"ENC[AES256_GCM,data:" * 30000
    got = onepass.whole(buf, _anchor_limit(buf))
    assert got is not None and not got.complete and not got.anchors_complete
    assert got.markers_complete  # the first markers up to the cap, as ciphertext.py keeps
    near = b"-----BEGIN AGE Ex" * 30000
    got = onepass.whole(near, _anchor_limit(near))
    assert got is not None and not got.anchors_complete and not got.markers_complete


def test_secret_is_reported_once() -> None:
    calls: list[int] = []
    onepass.whole(b"x", 10)  # the database is built on first use
    db = onepass._db[0]
    real = db.scan

    def counting(data: bytes, on_match):  # type: ignore[no-untyped-def]
        def count(i: int, *rest: object) -> object:
            calls.append(i)
            return on_match(i, *rest)
        return real(data, count)

    db.scan = counting
    try:
        got = onepass.whole(b"SecretSecret postman postman " * 1000, 10**6)
    finally:
        del db.scan
    assert got is not None and got.secret and got.postman_end == len(b"SecretSecret postman")
    assert calls.count(onepass._SECRET_ID) == 1 and calls.count(onepass._POSTMAN_ID) == 1


@pytest.mark.parametrize("buf", SAMPLES)
def test_findings_as_with_separate_passes(buf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ScanConfig(b"k" * 32, now=1.7e9)

    def scan() -> list[tuple]:
        s = FileScanner(cfg)
        found = s.scan_bytes(buf, "config.yaml")
        return [(f.line, f.column, f.detector, f.severity, f.fingerprint, sorted(f.facts.items()))
                for f in found] + [(e.line, e.kind, e.key) for e in s.encrypted] + [s.unexamined]

    together = scan()
    monkeypatch.setattr(onepass, "whole", lambda buf, limit: None)
    assert together == scan()
