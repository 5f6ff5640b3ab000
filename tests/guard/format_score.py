"""Per-format recall and false positives on the labelled corpus (`gen.py --formats all`).

Shared by bench/bench_formats.py and its tests. A hit is `(path, line, detector, severity)`;
severity None means a tool that ranks nothing (peers). The rules:
- a hit on a planted (file, line) finds every plant on that line;
- a hit at severity `info` (or any rank outside low..critical) is an "encrypted / noted" report,
  not a finding: counted apart, never a false positive;
- a hit on a line labelled with a context (`docs`, `test`) at low severity is the expected
  outcome (#10 item 3: report low, name the context): counted apart;
- every other hit is a false positive, attributed to the decoy kind labelled on its line, or
  `unlabelled`.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

FINDING_SEVERITIES = ("low", "medium", "high", "critical")


@dataclass
class Row:
    files: int = 0
    bytes: int = 0
    plants: int = 0
    found: int = 0
    false_positives: int = 0
    fp_by_severity: Counter = field(default_factory=Counter)
    fp_by_cause: Counter = field(default_factory=Counter)  # (decoy kind or "unlabelled", detector)
    context_low: int = 0
    info: int = 0
    missed: Counter = field(default_factory=Counter)  # plant kind -> count

    @property
    def recall(self) -> float:
        return self.found / self.plants if self.plants else 1.0

    @property
    def fp_per_10mb(self) -> float:
        return self.false_positives / (self.bytes / 1e7) if self.bytes else 0.0

    def add(self, o: Row) -> None:
        for k in ("files", "bytes", "plants", "found", "false_positives", "context_low", "info"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        self.fp_by_severity.update(o.fp_by_severity)
        self.fp_by_cause.update(o.fp_by_cause)
        self.missed.update(o.missed)


def rel_path(p: str, root: Path) -> str:
    return os.path.normpath(os.path.relpath(p, root) if os.path.isabs(p) else p)


def score_formats(manifest: dict, index: dict[str, str], root: Path,
                  hits: list[tuple[str, int, str, str | None]]) -> dict[str, Row]:
    """Rows per file type (in `index` order of first appearance), from one tool's hits."""
    rows: dict[str, Row] = defaultdict(Row)
    for f, t in index.items():
        rows[t].files += 1
        rows[t].bytes += (root / f).stat().st_size
    plants_at: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for p in manifest["plants"]:
        plants_at[(p["file"], p["line"])].append(p)
        rows[p["ftype"]].plants += 1
    decoy_at: dict[tuple[str, int], dict] = {}
    for d in manifest["decoys"]:
        decoy_at.setdefault((d["file"], d["line"]), d)
    found: set[int] = set()
    for path, line, detector, sev in hits:
        f = rel_path(path, root)
        row = rows[index.get(f, "?")]
        if sev is not None and sev not in FINDING_SEVERITIES:
            row.info += 1
            continue
        if (f, line) in plants_at:
            found.update(id(p) for p in plants_at[(f, line)])
            continue
        d = decoy_at.get((f, line))
        if d is not None and d.get("context") and sev == "low":
            row.context_low += 1
            continue
        row.false_positives += 1
        row.fp_by_severity[sev or "-"] += 1
        row.fp_by_cause[(d["kind"] if d else "unlabelled", detector)] += 1
    for p in manifest["plants"]:
        if id(p) in found:
            rows[p["ftype"]].found += 1
        else:
            rows[p["ftype"]].missed[p["kind"]] += 1
    return dict(rows)


def total(rows: dict[str, Row]) -> Row:
    t = Row()
    for r in rows.values():
        t.add(r)
    return t
