"""Score guard findings against the labelled corpus of tests/corpus/gen.py (shared by test and bench)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# In the repository, so the test always runs: a fresh clone needs nothing beside it.
GEN = Path(__file__).resolve().parents[1] / "corpus" / "gen.py"


def generate(out: Path, size_mb: float, seed: int = 1, plant_rate: float = 0.005) -> dict:
    if not (out / "manifest.json").exists():
        subprocess.run([sys.executable, str(GEN), str(out), "--size-mb", str(size_mb),
                        "--seed", str(seed), "--plant-rate", str(plant_rate)],
                       check=True, capture_output=True)
    return json.loads((out / "manifest.json").read_text())


@dataclass
class Score:
    plants: int
    found: int
    false_positives: int
    missed: list[dict]
    fps: list[tuple[str, int, str]]

    @property
    def recall(self) -> float:
        return self.found / self.plants if self.plants else 1.0


def score(manifest: dict, root: Path, hits: list[tuple[str, int, str]]) -> Score:
    """hits: (path, line, detector). A hit on a planted (file, line) is true, else false."""
    def rel(p: str) -> str:
        return os.path.relpath(p, root) if os.path.isabs(p) else os.path.normpath(p)
    hit_lines = {(rel(p), line) for p, line, _ in hits}
    plant_lines = {(p["file"], p["line"]) for p in manifest["plants"]}
    missed = [p for p in manifest["plants"] if (p["file"], p["line"]) not in hit_lines]
    fps = [(rel(p), line, d) for p, line, d in hits if (rel(p), line) not in plant_lines]
    return Score(len(manifest["plants"]), len(manifest["plants"]) - len(missed), len(fps), missed, fps)
