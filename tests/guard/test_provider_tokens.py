"""Tokens whose format is published (vault/guard/providers.py): one id per format, with
(payload, expected detector) tables of positives and look-alikes.

Every token here is built at runtime from a repeated fake pattern or tests/guard/tokens.py's
checksum helper: none is real.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, crc_token, wrong_checksum
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))

BODY = "A1b2" * 7 + "Zq"  # 30 base62
GHP = crc_token("ghp_", BODY)
GHO, GHU, GHS, GHR = (crc_token("gh" + k + "_", "Z9y8" * 7 + "Xw") for k in "ousr")
GHP_BAD = wrong_checksum(GHP)  # a ghp_ shape whose CRC32 does not match: mistyped or made up
GH_PAT = "github_pat_" + "11AB2cd3Ef4" * 2 + "_" + ("Gh5iJ6kL7m" * 6)[:59]
GLPAT = "glpat-" + "a1B2-" * 4  # 20 of [A-Za-z0-9_-]
GLPAT_ROUTABLE = "glpat-" + "Qm9vYmFy_x1-Y2" * 3 + ".01" + "0z1abc2"  # payload . version crc
XOXB = "xoxb-" + "1234567890" + "-" + "9876543210123" + "-" + "Ab1Cd2" * 4
XOXP = "xoxp-" + "1234567890-1234567890-1234567890-" + "0a1b2c3d" * 4
SK_LIVE = "sk_live_" + "A1b2" * 6  # 24 alnum
RK_LIVE = "rk_live_" + "Q9w8" * 8
SK_TEST = "sk_test_" + "A1b2" * 6
NPM = crc_token("npm_", "a1B2" * 7 + "c3")
NPM_BAD = wrong_checksum(NPM)
AKIA = "AKIA" + "Q3E7" * 4
ASIA = "ASIA" + "Z2X4" * 4
AWS_SECRET = "wJa1rXUtnFEMI/K7MDENG/bPxRfiCY" + "Zz9Kq2Lm4X"  # 40, made up
GOOGLE = "AIza" + "Sy" + "B1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R"[:33]
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJGQ2ZWY4YzA3LTk1ZjAtNDE0NS04" * 3
SENDGRID = "SG." + "aB1cD2eF3gH4iJ5kL6mN7o" + "." + ("pQ8rS9tU0vW1xY2zA3bC4dE5fG6hI7jK8lM9nO0pQ1r")[:43]
OPENAI = "sk-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn" + "T3BlbkFJ" + "Op7Qr8St9Uv0Wx1Yz2Ab"
OPENAI_PROJ = "sk-proj-" + "x1Y2_z3-" * 9 + "T3BlbkFJ" + "Q4r5S6t7" * 9
ANTHROPIC = "sk-ant-api03-" + ("Ab1_Cd2-Ef3" * 9)[:93] + "AA"
POSTMAN = "PMAK-" + "0123456789abcdef01234567" + "-" + "89abcdef0123456789abcdef0123456789"

# (payload, expected detector or None)
CASES: list[tuple[str, str | None]] = [
    # --- bare, under no secret-like key ------------------------------------------------
    (f"x {GHP} y", "github-token"),
    *((f"echo {t}", "github-token") for t in (GHO, GHU, GHS, GHR)),
    (f"git push https://github.com/o/r.git  # {GH_PAT}", "github-token"),
    (f"remote: {GLPAT}", "gitlab-token"),
    (f"GITLAB={GLPAT_ROUTABLE}\n", "gitlab-token"),
    (f'slack = "{XOXB}"', "slack-token"),
    (f"curl -d token={XOXP} https://slack.com/api/auth.test", "slack-token"),
    (f"stripe.api_key = '{SK_LIVE}'", "stripe-key"),
    (f"{RK_LIVE}\n", "stripe-key"),
    (f'{{"npmrc": "//registry.npmjs.org/:_authToken={NPM}"}}', "npm-token"),
    (f"aws_access_key_id = {AKIA}", "aws-access-key-id"),
    (f"{ASIA},other", "aws-access-key-id"),
    (f"const key = '{GOOGLE}';", "google-api-key"),
    (f"password = {PYPI}", "pypi-token"),
    (f"SENDGRID={SENDGRID}", "sendgrid-key"),
    (f"client = OpenAI(api_key='{OPENAI}')", "openai-key"),
    (f"OPENAI_API_KEY={OPENAI_PROJ}", "openai-key"),
    (f"x-api-key: {ANTHROPIC}", "anthropic-key"),
    (f"postman api key {POSTMAN}", "postman-api-key"),
    (f'"line one\\n{GHP}"', "github-token"),  # after a JSON \n escape
    (f"url?t=%22{GHP}%22", "github-token"),  # after %XX
    (f"Authorization: Bearer {GHP}", "github-token"),
    # --- under a secret-like key: still the format's id ----------------------------------
    (f"GITHUB_TOKEN={GHP}", "github-token"),
    (f'{{"key": "NPM_TOKEN", "value": "{NPM}"}}', "npm-token"),
    # --- the checksum decides: a wrong one is not a GitHub/npm token (provider-token, low) --
    (f"x {GHP_BAD} y", None),  # wrong checksum: claimed by provider-token, not reported
    (f"GITHUB_TOKEN={GHP_BAD}", None),
    (f"echo {NPM_BAD}", None),
    ("ghp_" + "A1b2" * 9, None),  # the shape, by hand
    # --- placeholders, templates, documentation ------------------------------------------
    ("ghp_" + "X" * 36, None),
    ("ghp_your_token_here", None),
    ("GITHUB_TOKEN=ghp_your_token_here", None),
    ("sk_live_...", None),
    ("STRIPE_KEY=sk_live_...", None),
    ("AKIAIOSFODNN7EXAMPLE", None),  # AWS's documented example key id
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", None),
    ("token: ghp_{{github_token}}", None),
    ("token: ${GITHUB_TOKEN}", None),
    ("xoxb-your-bot-token", None),
    ("xoxb-000000000000-000000000000-" + "x" * 24, None),
    ("npm_" + "0" * 36, None),
    ("glpat-xxxxxxxxxxxxxxxxxxxx", None),
    ("sk-proj-" + "x" * 40 + "T3BlbkFJ" + "x" * 40, None),
    ("AIza" + "X" * 35, None),
    ("PMAK-" + "0" * 24 + "-" + "0" * 34, None),
    # --- embedded in longer identifiers ---------------------------------------------------
    (f"my{GHP}", None),
    (f"foo_{GHP}", None),
    (f"X{AKIA}", None),
    (f"task{SK_LIVE}", None),
    (f"a_{NPM}", None),
    (f"desk{OPENAI}", None),
    # --- wrong shapes --------------------------------------------------------------------
    (GHP + "Z", None),  # 41 characters: not a GitHub token
    (GHP[:-1], None),  # 39
    ("ghx_" + "A1b2" * 9, None),
    ("github_pat_" + ("11AB2cd3_" * 10)[:82], None),  # not 22_59
    ("pk_live_" + "A1b2" * 6, None),  # publishable: meant to be public
    ("pk_test_" + "A1b2" * 6, None),
    ("sk_live_" + "A1b2" * 5 + "A1b", None),  # 23: too short
    ("npm_install_" + "a1B2" * 9, None),
    (AKIA.lower(), None),  # key ids are upper case
    ("AKIA" + "Q3E7" * 3, None),  # 12: too short
    ("xoxb-" + "Ab1Cd2" * 4, None),  # no digit groups
    ("sk-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn" * 2 + "Op7Q", None),  # sk- without OpenAI's marker
    ("SG." + "aB1cD2eF3gH4", None),
    ("PMAK-" + "0123456789abcdef01234567", None),
    ("Visit Asia and Malaysia, AKIA-style names, npm_modules", None),
    # --- inline allow --------------------------------------------------------------------
    (f"{GHP}  # tokensafe:allow", None),
]


def scan(text: str | bytes) -> list:
    data = text.encode() if isinstance(text, str) else text
    return SCANNER.scan_bytes(data, "t")


@pytest.mark.parametrize("payload,expected", CASES, ids=[f"{i}-{e}" for i, (_, e) in enumerate(CASES)])
def test_table(payload: str, expected: str | None) -> None:
    got = [f.detector for f in scan(payload)]
    if expected:
        assert got == [expected], got
    else:
        assert not any(d.endswith(("-token", "-key", "-key-id")) for d in got), got


@pytest.mark.parametrize("token,detector,provider,severity", [
    (GHP, "github-token", "github", "high"), (GHO, "github-token", "github", "high"),
    (GH_PAT, "github-token", "github", "high"), (GLPAT, "gitlab-token", "gitlab", "high"),
    (GLPAT_ROUTABLE, "gitlab-token", "gitlab", "high"),
    (XOXB, "slack-token", "slack", "high"), (XOXP, "slack-token", "slack", "high"),
    (SK_LIVE, "stripe-key", "stripe", "high"), (RK_LIVE, "stripe-key", "stripe", "high"),
    (SK_TEST, "stripe-key", "stripe", "low"), (NPM, "npm-token", "npm", "high"),
    (AKIA, "aws-access-key-id", "aws", "high"), (ASIA, "aws-access-key-id", "aws", "high"),
    (GOOGLE, "google-api-key", "google", "medium"), (PYPI, "pypi-token", "pypi", "high"),
    (SENDGRID, "sendgrid-key", "sendgrid", "high"), (OPENAI, "openai-key", "openai", "high"),
    (OPENAI_PROJ, "openai-key", "openai", "high"), (ANTHROPIC, "anthropic-key", "anthropic", "high"),
    (POSTMAN, "postman-api-key", "postman", "high"),
])
def test_provider_fact_severity_and_no_value(token: str, detector: str, provider: str,
                                             severity: str) -> None:
    data = f"first line\n  {token}\n".encode()
    [f] = SCANNER.scan_bytes(data, "notes.txt")
    assert (f.detector, f.severity, f.facts["provider"]) == (detector, severity, provider)
    assert (f.line, f.column) == (2, 3)
    assert data[f.offset:f.offset + f.length] == token.encode()
    assert token not in repr(f) and token not in json.dumps(f.to_json())


def test_checksum_is_checked_for_every_position() -> None:
    """Any one changed character of a checksummed token breaks it (CRC32 catches them all)."""
    for i in range(4, len(GHP)):
        ch = GHP[i]
        bad = GHP[:i] + ("b" if ch != "b" else "c") + GHP[i + 1:]
        assert scan(f" {bad} ") == [], i  # claimed by provider-token, which reports nothing
    assert scan(f" {GHP_BAD} ") == [] and scan(f"token={NPM_BAD}") == []
    assert scan(f" {GHP} ") != []  # the same place with a good checksum is found


def test_aws_key_id_with_its_secret_nearby() -> None:
    text = f"export AWS_ACCESS_KEY_ID={AKIA}\nexport AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
    got = {(f.detector, f.severity, f.line) for f in scan(text)}
    assert got == {("aws-access-key-id", "high", 1), ("aws-secret-key", "critical", 2)}
    [kid] = [f for f in scan(text) if f.detector == "aws-access-key-id"]
    assert kid.facts["secret_nearby"] is True
    # a 40-character value far from any key id is not an AWS secret by itself
    far = f"{AKIA}\n" + "x" * 400 + f"\nvalue {AWS_SECRET}\n"
    assert [f.detector for f in scan(far)] == ["aws-access-key-id"]
    assert [f.detector for f in scan(f"just {AWS_SECRET} here")] == []
    # AWS's documentation pair (awscli's examples hold it dozens of times): nothing
    doc = ('"AccessKeyId": "AKIAIOSFODNN7EXAMPLE",\n"SecretAccessKey": '
           '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",\n')
    for text in (doc, doc.replace("AKIA", "ASIA")):
        assert not [f for f in scan(text) if f.detector.startswith("aws-")]
    assert [f.detector for f in scan(f"{AKIA}\nsignature={'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}")] == [
        "aws-access-key-id"]


def test_key_is_kept_as_a_fact() -> None:
    [f] = scan(f"export GITHUB_TOKEN={GHP}\n")
    assert f.detector == "github-token" and f.facts == {"provider": "github", "key": "GITHUB_TOKEN"}


def test_binary_files_are_searched_for_vendor_tokens() -> None:
    blob = b"\x00\x01LevelDB\x00" + GHP.encode() + b"\x00" + base64.b64encode(bytes(64))
    [f] = SCANNER.scan_bytes(blob, "Local Storage/000003.log")
    assert (f.detector, f.facts["provider"]) == ("github-token", "github")


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
        assert [f.detector for f in res.findings] == ["github-token"], cut


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
    assert got == {("settings.py", 2, "slack-token", "high", "slack"),
                   (".bash_history", 2, "github-token", "high", "github")}
    for token in (XOXB, GHP):
        assert token.encode() not in r.stdout and token.encode() not in r.stderr
        session.assert_no_leak(token)
    r = session("audit", str(root))  # the text report
    assert r.returncode == 1 and b"github-token" in r.stdout and b"slack-token" in r.stdout
    assert GHP.encode() not in r.stdout + r.stderr and XOXB.encode() not in r.stdout + r.stderr


@pytest.mark.e2e
def test_audit_end_to_end_every_format(session, tmp_path: Path) -> None:
    """One file per published format through the installed command: its id, its provider, and
    no token bytes in the text or JSON report."""
    tokens = {"github-token": GHP, "gitlab-token": GLPAT_ROUTABLE, "slack-token": XOXP,
              "stripe-key": RK_LIVE, "aws-access-key-id": AKIA, "google-api-key": GOOGLE,
              "npm-token": NPM, "pypi-token": PYPI, "sendgrid-key": SENDGRID, "openai-key": OPENAI_PROJ,
              "anthropic-key": ANTHROPIC, "postman-api-key": POSTMAN, "provider-token": GHP_BAD}
    root = tmp_path / "proj"
    root.mkdir()
    for det, tok in tokens.items():
        (root / f"{det}.env").write_text(f"# config\nVALUE={tok}\n")
    r = session("audit", "--json", str(root))
    assert r.returncode == 1, r.stderr
    got = {(Path(f["path"]).stem, f["detector"], f["line"]) for f in json.loads(r.stdout)["findings"]}
    assert got == {(det, det, 2) for det in tokens if det != "provider-token"}  # a bad checksum: nothing
    text = session("audit", str(root))
    for tok in tokens.values():
        assert tok.encode() not in r.stdout + r.stderr + text.stdout + text.stderr
        session.assert_no_leak(tok)
