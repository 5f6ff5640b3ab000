"""Renderers for findings: grouped text, one JSON document, SARIF 2.1.0. Never a value."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from vault.guard import detectors
from vault.guard.model import SEVERITY_RANK, FileError, Finding, ScanStats

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
COLOURS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "cyan"}
SEVERITY_HELP = {
    "critical": "live and powerful: a private key, or an Auth0 Management token with write/delete scopes",
    "high": "a live credential: JWT, bearer token, client secret, secret Postman variable",
    "medium": "a likely secret: random value in a secret field, a password",
    "low": "an expired token, or a finding in a test folder, documentation or docstring "
           "(context=…): rotate anyway if it was ever shared",
}


def sort_key(f: Finding) -> tuple[int, str, int, int]:
    return (-SEVERITY_RANK[f.severity], f.path, f.line, f.column)


def describe_facts(facts: dict[str, Any]) -> str:
    parts = []
    for k in ("key", "field", "host", "profile", "scope", "type", "scheme", "encoding", "checksum",
              "iss", "aud"):
        if k in facts:
            v = facts[k]
            parts.append(f"{k}={','.join(v) if isinstance(v, list) else v}")
    scopes = facts.get("scopes")
    if scopes:
        shown = " ".join(scopes[:4]) + (f" (+{len(scopes) - 4})" if len(scopes) > 4 else "")
        parts.append(f"scopes={shown}")
    if "exp" in facts:
        parts.append(f"exp={facts['exp']}" + (" (expired)" if facts.get("expired") else ""))
    if facts.get("in_vault"):
        parts.append("in vault")
    if "commit" in facts:  # audit --git
        parts.append(f"commit={facts['commit'][:12]}")
        if facts.get("in_worktree") is not None:
            parts.append("still in work tree" if facts["in_worktree"] else "removed from work tree")
    if "context" in facts:
        parts.append(f"context={facts['context']}")  # why the severity is low (situation.py)
    return "  ".join(parts)


def render_text(findings: list[Finding], stats: ScanStats, errors: list[FileError],
                style: Callable[..., str] | None = None, encrypted: Sequence[Any] = ()) -> str:
    style = style or (lambda s, **_: s)
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.path, []).append(f)
    order = sorted(by_file, key=lambda p: (min(SEVERITY_RANK[f.severity] * -1 for f in by_file[p]), p))
    lines = []
    for path in order:
        lines.append(style(path, bold=True))
        for f in sorted(by_file[path], key=sort_key):
            sev = style(f"{f.severity.upper():8}", fg=COLOURS[f.severity], bold=True)
            lines.append(f"  {sev} {f.line}:{f.column}  {f.detector}  {f.preview}  "
                         f"{describe_facts(f.facts)}".rstrip())
        lines.append("")
    lines.extend(_encrypted_text(encrypted))
    counts = {s: sum(1 for f in findings if f.severity == s) for s in reversed(SEVERITY_RANK)}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    mb = stats.bytes / 1e6
    lines.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
                 f"{f' ({summary})' if summary else ''} in {len(by_file)} file"
                 f"{'s' if len(by_file) != 1 else ''}; scanned {stats.files} file"
                 f"{'s' if stats.files != 1 else ''}, {mb:.1f} MB"
                 f" in {stats.seconds:.2f} s"
                 + (f", {stats.binary} binary" if stats.binary else "")
                 + (f", {stats.special} special skipped" if stats.special else "")
                 + (f", {stats.too_large} over the size cap" if stats.too_large else "")
                 + (f", {len(errors)} unreadable" if errors else ""))
    return "\n".join(lines) + "\n"


def _encrypted_text(encrypted: Sequence[Any]) -> list[str]:
    """The "encrypted (not a leak)" part: information, never a finding, never the exit status."""
    if not encrypted:
        return []
    out = [f"encrypted (not a leak): {len(encrypted)} value{'s' if len(encrypted) != 1 else ''} "
           "or file" + ("s" if len(encrypted) != 1 else "")]
    out.extend(f"  {e.path}:{e.line}  {e.kind}" + (f"  key={e.key}" if e.key else "")
               for e in encrypted)
    return [*out, ""]


def render_json(findings: list[Finding], stats: ScanStats, errors: list[FileError],
                suppressed: int = 0, encrypted: Sequence[Any] = ()) -> str:
    doc = {
        "tool": "tokensafe", "version": _version(),
        "findings": [f.to_json() for f in sorted(findings, key=sort_key)],
        "errors": [e.to_json() for e in errors],
        "encrypted": [e.to_json() for e in encrypted],  # ciphertext meant to be committed
        "stats": {**stats.to_json(), "suppressed": suppressed, "encrypted": len(encrypted)},
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: str) -> str:
    """A relative URI when the file is under the current folder, else a file:// URI."""
    from pathlib import Path  # SARIF only: pathlib and urllib are ~5 ms of an audit's start-up
    from urllib.parse import quote

    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(p.as_posix(), safe="/")


def render_sarif(findings: list[Finding], stats: ScanStats, errors: list[FileError]) -> str:
    rules = [{
        "id": d.id, "name": d.title.replace(" ", ""),
        "shortDescription": {"text": d.title}, "fullDescription": {"text": d.description},
        "defaultConfiguration": {"level": SARIF_LEVEL[d.default_severity]},
        "help": {"text": "Move the value into the vault (`tokensafe import --scrub`) and rotate it "
                         "if the file was ever shared."},
        "properties": {"security-severity": SECURITY_SEVERITY[d.default_severity],
                       "tags": ["security", "secret"]},
    } for d in detectors.REGISTRY]
    index = {r["id"]: i for i, r in enumerate(rules)}
    uris: dict[str, str] = {}  # a file's findings share its URI (Path work is ~7 µs a call)
    results = []
    for f in sorted(findings, key=sort_key):
        uri = uris.get(f.path)
        if uri is None:
            uri = uris[f.path] = _uri(f.path)
        det = detectors.BY_ID[f.detector]
        facts = describe_facts(f.facts)
        results.append({
            "ruleId": f.detector, "ruleIndex": index[f.detector],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f"{det.title} ({f.preview})" + (f": {facts}" if facts else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": f.line, "startColumn": f.column},
            }}],
            "partialFingerprints": {"tokensafe/hmac-sha256/v1": f.fingerprint},
            "properties": {"severity": f.severity, "preview": f.preview, "facts": f.facts,
                           "security-severity": SECURITY_SEVERITY[f.severity]},
        })
    run = {
        "tool": {"driver": {"name": "tokensafe", "version": _version(),
                            "informationUri": "https://github.com/tokensafe/tokensafe",
                            "rules": rules}},
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": f"cannot read: {e.reason}"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path)}}}]}
                for e in errors],
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _version() -> str:
    # The package's own constant: importlib.metadata costs ~25 ms of every audit's start-up.
    from vault import __version__

    return __version__
