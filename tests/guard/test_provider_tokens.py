"""provider-token: vendor-prefixed tokens wherever they stand, with (payload, should_flag) tables.

Every token here is built at runtime from a repeated fake pattern: none is real.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.guard.tokens import NOW
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))

GHP = "ghp_" + "A1b2" * 9  # 36 base62
GHO, GHU, GHS, GHR = ("gh" + k + "_" + "Z9y8" * 9 for k in "ousr")
GH_PAT = "github_pat_" + ("11AB2cd3_" * 10)[:82]
GLPAT = "glpat-" + "a1B2-" * 4  # 20 of [A-Za-z0-9_-]
XOXB = "xoxb-" + "1234567890" + "-" + "9876543210123" + "-" + "Ab1Cd2" * 4
XOXP = "xoxp-" + "1234567890-1234567890-1234567890-" + "0a1b2c3d" * 4
SK_LIVE = "sk_live_" + "A1b2" * 6  # 24 alnum
RK_LIVE = "rk_live_" + "Q9w8" * 8
SK_TEST = "sk_test_" + "A1b2" * 6
NPM = "npm_" + "a1B2" * 9
AKIA = "AKIA" + "Q3E7" * 4
ASIA = "ASIA" + "Z2X4" * 4

# (payload, should_flag)
CASES: list[tuple[str, bool]] = [
    # --- bare, under no secret-like key ------------------------------------------------
    (f"x {GHP} y", True),
    *((f"echo {t}", True) for t in (GHO, GHU, GHS, GHR)),
    (f"git push https://github.com/o/r.git  # {GH_PAT}", True),
    (f"remote: {GLPAT}", True),
    (f'slack = "{XOXB}"', True),
    (f"curl -d token={XOXP} https://slack.com/api/auth.test", True),
    (f"stripe.api_key = '{SK_LIVE}'", True),
    (f"{RK_LIVE}\n", True),
    (f'{{"npmrc": "//registry.npmjs.org/:_authToken={NPM}"}}', True),
    (f"aws_access_key_id = {AKIA}", True),
    (f"{ASIA},other", True),
    (f'"line one\\n{GHP}"', True),  # after a JSON \n escape
    (f"url?t=%22{GHP}%22", True),  # after %XX
    (f"Authorization: Bearer {GHP}", True),
    # --- under a secret-like key: still provider-token -----------------------------------
    (f"GITHUB_TOKEN={GHP}", True),
    (f'{{"key": "NPM_TOKEN", "value": "{NPM}"}}', True),
    # --- placeholders, templates, documentation ------------------------------------------
    ("ghp_" + "X" * 36, False),
    ("ghp_your_token_here", False),
    ("GITHUB_TOKEN=ghp_your_token_here", False),
    ("sk_live_...", False),
    ("STRIPE_KEY=sk_live_...", False),
    ("AKIAIOSFODNN7EXAMPLE", False),  # AWS's documented example key id
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", False),
    ("token: ghp_{{github_token}}", False),
    ("token: ${GITHUB_TOKEN}", False),
    ("xoxb-your-bot-token", False),
    ("xoxb-000000000000-000000000000-" + "x" * 24, False),
    ("npm_" + "0" * 36, False),
    ("glpat-xxxxxxxxxxxxxxxxxxxx", False),
    # --- embedded in longer identifiers ---------------------------------------------------
    (f"my{GHP}", False),
    (f"foo_{GHP}", False),
    (f"X{AKIA}", False),
    (f"task{SK_LIVE}", False),
    (f"a_{NPM}", False),
    # --- wrong shapes --------------------------------------------------------------------
    (GHP + "Z", False),  # 37 characters: not a GitHub token
    (GHP[:-1], False),  # 35
    ("ghx_" + "A1b2" * 9, False),
    ("pk_live_" + "A1b2" * 6, False),  # publishable: meant to be public
    ("pk_test_" + "A1b2" * 6, False),
    ("sk_live_" + "A1b2" * 5 + "A1b", False),  # 23: too short
    ("npm_install_" + "a1B2" * 9, False),
    (AKIA.lower(), False),  # key ids are upper case
    ("AKIA" + "Q3E7" * 3, False),  # 12: too short
    ("xoxb-" + "Ab1Cd2" * 4, False),  # no digit groups
    ("Visit Asia and Malaysia, AKIA-style names, npm_modules", False),
    # --- inline allow --------------------------------------------------------------------
    (f"{GHP}  # tokensafe:allow", False),
]


def scan(text: str | bytes) -> list:
    data = text.encode() if isinstance(text, str) else text
    return SCANNER.scan_bytes(data, "t")


@pytest.mark.parametrize("payload,should_flag", CASES, ids=[f"{i}-{f}" for i, (_, f) in enumerate(CASES)])
def test_table(payload: str, should_flag: bool) -> None:
    got = [f.detector for f in scan(payload)]
    if should_flag:
        assert got == ["provider-token"], got
    else:
        assert "provider-token" not in got, got


@pytest.mark.parametrize("token,provider,severity", [
    (GHP, "github", "high"), (GHO, "github", "high"), (GH_PAT, "github", "high"),
    (GLPAT, "gitlab", "high"), (XOXB, "slack", "high"), (XOXP, "slack", "high"),
    (SK_LIVE, "stripe", "high"), (RK_LIVE, "stripe", "high"), (SK_TEST, "stripe", "low"),
    (NPM, "npm", "high"), (AKIA, "aws", "high"), (ASIA, "aws", "high"),
])
def test_provider_fact_severity_and_no_value(token: str, provider: str, severity: str) -> None:
    data = f"first line\n  {token}\n".encode()
    [f] = SCANNER.scan_bytes(data, "notes.txt")
    assert (f.detector, f.severity, f.facts) == ("provider-token", severity, {"provider": provider})
    assert (f.line, f.column) == (2, 3)
    assert data[f.offset:f.offset + f.length] == token.encode()
    assert token not in repr(f) and token not in json.dumps(f.to_json())


def test_key_is_kept_as_a_fact() -> None:
    [f] = scan(f"export GITHUB_TOKEN={GHP}\n")
    assert f.detector == "provider-token" and f.facts == {"provider": "github", "key": "GITHUB_TOKEN"}


def test_binary_files_are_searched_for_vendor_tokens() -> None:
    blob = b"\x00\x01LevelDB\x00" + GHP.encode() + b"\x00" + base64.b64encode(bytes(64))
    [f] = SCANNER.scan_bytes(blob, "Local Storage/000003.log")
    assert (f.detector, f.facts["provider"]) == ("provider-token", "github")


def test_portable_anchor_search_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback without hyperscan finds exactly what hyperscan finds."""
    fast = [[f.detector for f in scan(p)] for p, _ in CASES]
    monkeypatch.setenv("TOKENSAFE_GUARD_PORTABLE", "1")
    assert [[f.detector for f in scan(p)] for p, _ in CASES] == fast


@pytest.mark.parametrize("portable", ["0", "1"])
def test_token_across_a_chunk_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       portable: str) -> None:
    from vault.guard.readers import CHUNK, HEAD

    monkeypatch.setenv("TOKENSAFE_GUARD_PORTABLE", portable)

    for cut in (HEAD + CHUNK - 16 * 1024 - 2, HEAD + CHUNK - 2):  # straddles an own_end
        p = tmp_path / f"big{cut}.txt"
        p.write_bytes(b"." * cut + b" " + GHP.encode() + b" \n" + b"." * 1000)
        res = SCANNER.scan_path(str(p))
        assert [f.detector for f in res.findings] == ["provider-token"], cut


@pytest.mark.e2e
def test_audit_end_to_end_reports_without_the_value(session, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "settings.py").write_text(f'DEBUG = True\nslack = "{XOXB}"\n')
    (root / ".bash_history").write_text(f"ls\ngh auth login --with-token <<< {GHP}\nexit\n")
    (root / "README.md").write_text("Set GITHUB_TOKEN=ghp_your_token_here and AKIAIOSFODNN7EXAMPLE.\n")
    r = session("audit", "--json", str(root))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    got = {(Path(f["path"]).name, f["line"], f["detector"], f["severity"], f["facts"]["provider"])
           for f in doc["findings"]}
    assert got == {("settings.py", 2, "provider-token", "high", "slack"),
                   (".bash_history", 2, "provider-token", "high", "github")}
    for token in (XOXB, GHP):
        assert token.encode() not in r.stdout and token.encode() not in r.stderr
        session.assert_no_leak(token)
    r = session("audit", str(root))  # the text report
    assert r.returncode == 1 and b"provider-token" in r.stdout
    assert GHP.encode() not in r.stdout + r.stderr and XOXB.encode() not in r.stdout + r.stderr
