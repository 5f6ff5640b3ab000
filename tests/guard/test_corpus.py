"""Recall and false positives on a small labelled corpus (figures, not timings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.guard.corpus import generate, score
from vault.guard.engine import scan
from vault.guard.readers import ScanConfig


@pytest.mark.parametrize("seed,rate", [(1, 0.05), (7, 0.03)])
def test_recall_and_false_positives(tmp_path: Path, seed: int, rate: float) -> None:
    manifest = generate(tmp_path / "c", 5, seed=seed, plant_rate=rate)
    root = tmp_path / "c" / "corpus"
    res = scan([str(root)], ScanConfig(b"k" * 32), workers=1)
    s = score(manifest, root, [(f.path, f.line, f.detector) for f in res.findings])
    print(f"seed {seed}: recall {s.found}/{s.plants}, {s.false_positives} false positives "
          f"in {manifest['bytes'] / 1e6:.1f} MB")
    assert s.recall >= 0.99, s.missed
    assert s.false_positives <= max(1, manifest["bytes"] / 10e6), s.fps
    assert not res.errors
