"""The labelled corpus itself: deterministic, labels true to the files, every #10 format present,
checksummed tokens valid and look-alikes not; and the per-format bench end to end."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.corpus.fake_tokens import base62, crc_valid
from tests.corpus.formats import TYPES as NEW_TYPES
from tests.guard.format_score import score_formats, total

REPO = Path(__file__).resolve().parents[2]
GEN = REPO / "tests" / "corpus" / "gen.py"


def gen(out: Path, *args: str) -> tuple[dict, dict, Path]:
    subprocess.run([sys.executable, str(GEN), str(out), *args], check=True, capture_output=True)
    return (json.loads((out / "manifest.json").read_text()), json.loads((out / "index.json").read_text()),
            out / "corpus")


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for f in sorted(files):
            p = Path(dirpath) / f
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture(scope="module")
def new_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    return gen(tmp_path_factory.mktemp("new"), "--size-mb", "2", "--seed", "3", "--formats", "new")


def test_deterministic(tmp_path: Path) -> None:
    a = gen(tmp_path / "a", "--size-mb", "1.5", "--seed", "5", "--formats", "all")
    b = gen(tmp_path / "b", "--size-mb", "1.5", "--seed", "5", "--formats", "all")
    assert tree_digest(a[2]) == tree_digest(b[2])
    assert a[0]["plants"] == b[0]["plants"] and a[1] == b[1]
    # gen.py's own decoys come out in set order (varies with hash seeding): compare as multisets
    assert Counter(json.dumps(d, sort_keys=True) for d in a[0]["decoys"]) == \
        Counter(json.dumps(d, sort_keys=True) for d in b[0]["decoys"])
    c = gen(tmp_path / "c", "--size-mb", "1.5", "--seed", "6", "--formats", "all")
    assert tree_digest(c[2]) != tree_digest(a[2])


def test_default_output_is_as_received(tmp_path: Path) -> None:
    """Without --formats the generator writes what it did before #10 (the README's figures)."""
    m, index, root = gen(tmp_path / "d", "--size-mb", "1", "--seed", "1")
    assert not set(index.values()) & set(NEW_TYPES)
    assert tree_digest(root) == "2550faf85f054c78b81b0ee0d81d961ebe21e8887e89ea054c20ca6218752fde"


def _line_spans(data: bytes) -> list[tuple[int, int]]:
    starts = [0] + [i + 1 for i, c in enumerate(data) if c == 0x0A]
    return list(zip(starts, starts[1:] + [len(data) + 1], strict=True))


def test_labels_match_files(new_corpus: tuple[dict, dict, Path]) -> None:
    m, index, root = new_corpus
    assert m["files"] == len(index) and m["bytes"] == sum((root / f).stat().st_size for f in index)
    cache: dict[str, tuple[bytes, list[tuple[int, int]]]] = {}
    for role in ("plants", "decoys"):
        for e in m[role]:
            if e["file"] not in cache:
                data = (root / e["file"]).read_bytes()
                cache[e["file"]] = (data, _line_spans(data))
            data, spans = cache[e["file"]]
            start, end = spans[e["line"] - 1]
            assert data.find(e["value"].encode(), start) in range(start, end), (role, e["file"], e["line"])
            assert index[e["file"]] == e["ftype"]
            assert e.get("context") in (None, "docs", "test")
    plant_lines = {(p["file"], p["line"]) for p in m["plants"]}
    clash = [d for d in m["decoys"] if (d["file"], d["line"]) in plant_lines]
    assert not clash, clash[:3]  # a line is either a plant or a decoy, so scoring is unambiguous


def test_every_format_has_plants_and_decoys(new_corpus: tuple[dict, dict, Path]) -> None:
    m, index, _ = new_corpus
    assert set(index.values()) == set(NEW_TYPES)
    with_plants = {p["ftype"] for p in m["plants"]}
    with_decoys = {d["ftype"] for d in m["decoys"]}
    assert with_plants == set(NEW_TYPES), set(NEW_TYPES) - with_plants
    assert with_decoys == set(NEW_TYPES), set(NEW_TYPES) - with_decoys
    contexts = Counter(d.get("context") for d in m["decoys"])
    assert contexts["docs"] and contexts["test"]


def test_checksummed_tokens(new_corpus: tuple[dict, dict, Path]) -> None:
    m, _, _ = new_corpus
    prefixes = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_")
    good = [p["value"] for p in m["plants"] if p["value"].startswith(prefixes)]
    bad = [d["value"] for d in m["decoys"] if d["kind"] in ("github_bad_checksum", "npm_bad_checksum")]
    assert len(good) > 20 and bad
    assert all(crc_valid(v, v[:4]) for v in good)
    assert not any(crc_valid(v, v[:4]) for v in bad)
    assert base62(0) == "000000" and base62(61) == "00000z" and base62(62) == "000010"


def test_scoring_rules(new_corpus: tuple[dict, dict, Path]) -> None:
    m, index, root = new_corpus
    p = m["plants"][0]
    docs = next(d for d in m["decoys"] if d.get("context") == "docs")
    other = next(d for d in m["decoys"] if not d.get("context"))
    hits = [(str(root / p["file"]), p["line"], "x", "high"),             # found
            (docs["file"], docs["line"], "x", "low"),                   # context, low: fine
            (docs["file"], docs["line"], "x", "high"),                  # context, high: false positive
            (other["file"], other["line"], "x", "info"),                # "encrypted" note: not a finding
            (other["file"], other["line"], "x", "medium")]              # false positive
    rows = score_formats(m, index, root, hits)
    t = total(rows)
    assert (t.found, t.context_low, t.info, t.false_positives) == (
        sum(1 for q in m["plants"] if (q["file"], q["line"]) == (p["file"], p["line"])), 1, 1, 2)
    assert t.plants == len(m["plants"]) and t.files == len(index)
    assert rows[docs["ftype"]].fp_by_severity["high"] >= 1
    assert rows[other["ftype"]].fp_by_cause[(other["kind"], "x")] >= 1


@pytest.mark.e2e
def test_bench_formats_end_to_end(tmp_path: Path) -> None:
    """The bench runs the installed tokensafe on a small corpus and prints one row per format."""
    r = subprocess.run([sys.executable, str(REPO / "bench" / "bench_formats.py"), "--size-mb", "1",
                        "--formats", "new", "--workdir", str(tmp_path / "w"), "--show", "0"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = {ln.split()[0]: ln.split() for ln in r.stdout.splitlines() if ln.split()}
    assert set(NEW_TYPES) <= set(rows), set(NEW_TYPES) - set(rows)
    m = json.loads((tmp_path / "w" / "c" / "manifest.json").read_text())
    assert int(rows["TOTAL"][3]) == len(m["plants"])
    # the audit's JSON never carries a planted value, so neither does the bench's output
    assert not any(p["value"] in r.stdout for p in m["plants"])


def test_builders_on_tiny_and_big_files() -> None:
    """Each builder copes with a tiny size and finishes a large one (a builder that stops
    growing would hang gen.py)."""
    code = f"import sys; sys.path[:0] = [{str(GEN.parent)!r}]\n" + (
            "from gen import G\nfrom formats import TYPES\n"
            "for t, spec in TYPES.items():\n"
            "    for plant in (False, True):\n"
            "        for size in (10, 60000):\n"
            "            text, rel, labels = spec[0](G(11), size, plant)\n"
            "            assert '{n}' in rel, rel\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
