"""The reports' indented JSON writer must write exactly what `json.dumps(obj, indent=2)` does."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.guard.tokens import opaque
from vault.guard import report
from vault.guard.model import FileError, Finding, ScanStats

_keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
                    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                                                   blacklist_categories=())))
_json = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=30)


@given(_json)
def test_same_bytes_as_json_dumps(value: object) -> None:
    assert report.dumps_indented(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize("value", [
    math.nan, math.inf, -math.inf, {math.inf: 1, -0.0: [], 1e300: {}}, {True: None, None: False, 7: 1.5},
    [[], {}, [[]], {"": ""}], ("a", ("b",)), "\x1b[31m\u2028\ud800é", 10**40, -(10**40), {"k": True},
])
def test_edge_values(value: object) -> None:
    assert report.dumps_indented(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize("value", [{1j: 1}, [object()], {"a": {1, 2}}, b"bytes"])
def test_what_json_refuses_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        json.dumps(value, indent=2)
    with pytest.raises(TypeError):
        report.dumps_indented(value)


def test_reports_are_what_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    """render_json and render_sarif, with the stdlib's writer and with ours: the same text."""
    findings = [Finding(f"/srv/proj/src/m{i % 7}.py" if i % 3 else f"docs/ü {i % 4}.md", i + 1, 3,
                        "bearer" if i % 2 else "high-entropy", "high" if i % 2 else "low",
                        opaque(8)[:4] + "…", f"{i:064x}",
                        {"key": "API_TOKEN", "scopes": ["read:x", "write:y"], "exp": 1.7e9,
                         "expired": bool(i % 4), "context": "test"} if i % 5 else {}, 10 * i, 40)
                for i in range(60)]
    stats = ScanStats(files=60, bytes=12345, binary=2)
    errors = [FileError("/srv/proj/locked", "permission denied"), FileError("naïve\x1b.txt", "gone")]
    ours = (report.render_json(findings, stats, errors, 4), report.render_sarif(findings, stats, errors))
    monkeypatch.setattr(report, "dumps_indented", lambda obj: json.dumps(obj, indent=2))
    assert ours == (report.render_json(findings, stats, errors, 4), report.render_sarif(findings, stats, errors))
