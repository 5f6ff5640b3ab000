"""(payload, expected detector or None) tables per detector, placeholders included."""

from __future__ import annotations

import base64
import json

import pytest

from tests.guard.tokens import NOW, auth0_mgmt, client_secret, jwt, opaque
from vault.guard import detectors
from vault.guard.readers import FileScanner, ScanConfig

JWT_IO = detectors.JWT_IO_EXAMPLE
SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))


def scan(text: str | bytes) -> list:
    data = text.encode() if isinstance(text, str) else text
    return SCANNER.scan_bytes(data, "t")


def ids(text: str | bytes) -> list[str]:
    return [f.detector for f in scan(text)]


T_JWT = jwt()
T_MGMT = auth0_mgmt()
T_OPQ = opaque()
T_CS = client_secret()
PEM_BODY = base64.b64encode(bytes(range(256)) * 3).decode()
PEM_BODY = "\n".join(PEM_BODY[i:i + 64] for i in range(0, len(PEM_BODY), 64))

PM = '{"_postman_variable_scope": "environment", "values": [%s]}'
COLL = '{"info": {"schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "auth": {"type": "bearer", "bearer": [%s]}}'

CASES: list[tuple[str, str | None]] = [
    # --- jwt -----------------------------------------------------------------------
    (f"token = {T_JWT}", "jwt"),
    (f'{{"id_token": "{T_JWT}"}}', "jwt"),
    (f"curl 'https://x.example.com/cb#access_token={T_JWT}&state=1'", "jwt"),
    (f"const sampleJwt = \"{JWT_IO}\"", None),  # the public jwt.io example
    ("eyJhbGciOiJIUzI1NiJ9.notbase64json!!.x", None),
    ("data:image/png;base64,AAAAeyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", None),  # inside a blob
    ("header: eyJ", None),
    # --- auth0-management-token --------------------------------------------------------
    (f"AUTH0_MGMT_TOKEN={T_MGMT}", "auth0-management-token"),
    (f"Authorization: Bearer {auth0_mgmt(exp=NOW - 10)}", "auth0-management-token"),
    (f"x {jwt({'iss': 'https://acme.auth0.com/', 'aud': 'https://api.acme.com'})}", "jwt"),
    # --- bearer ------------------------------------------------------------------------
    (f"Authorization: Bearer {T_OPQ}", "bearer"),
    (f"curl -H 'authorization: bearer {T_OPQ}' https://api.example.com", "bearer"),
    (f'{{"key": "Authorization", "value": "Bearer {T_OPQ}"}}', "bearer"),
    (f"GET /x?h=Authorization%3A%20Bearer%20{T_OPQ}", "bearer"),
    ("Authorization: Bearer {{auth0_token}}", None),
    ("Authorization: Bearer ${TOKEN}", None),
    ("Authorization: Bearer $TOKEN", None),
    ("Authorization: Bearer YOUR_TOKEN_HERE", None),
    ("Authorization: Bearer <token>", None),
    ("The Bearer authentication scheme is described in RFC 6750.", None),
    ("Authorization: Basic " + base64.b64encode(b"admin:s3cr3t-Pa55w0rd").decode(), "bearer"),
    ("Authorization: Basic " + base64.b64encode(b"user:<password>").decode(), None),
    (f'{{"name": "authorization", "value": "Token {T_OPQ}"}}', "bearer"),
    # --- postman-variable (PM: inside an environment export) -------------------------------
    (PM % ('{"key": "mgmt", "value": "' + T_OPQ + '", "type": "secret", "enabled": true}'), "postman-variable"),
    (PM % '{"key": "auth0_token", "value": "{{auth0_token}}", "type": "secret"}', None),
    (PM % '{"key": "auth0_token", "value": "", "type": "secret"}', None),
    (PM % '{"key": "auth0_token", "value": "YOUR_TOKEN_HERE", "type": "secret"}', None),
    (PM % ('{"key": "api_token",\n "value": "' + T_OPQ + '",\n "type": "default"}'), "postman-variable"),
    (PM % '{"key": "auth0_domain", "value": "acme.eu.auth0.com", "type": "default"}', None),
    (PM % '{"key": "request_id", "value": "0b5c7a52-3f3d-4c5e-9a0a-2f1e4d3c2b1a", "type": "default"}', None),
    (COLL % ('{"key": "token", "value": "' + T_OPQ + '", "type": "string"}'), "postman-variable"),
    ('{"name": "api_token", "value": "' + T_OPQ + '"}', "high-entropy"),  # HAR/Insomnia pair
    ('{"version": 1, "environments": [{"values": [{"key": "mgmt", "value": "' + T_OPQ
     + '", "type": "secret"}]}]}', "postman-variable"),  # a Postman data dump
    (COLL.replace('"bearer", "bearer"', '"apikey", "apikey"') % (
        '{"key": "value", "value": "' + T_OPQ + '", "type": "string"},\n'
        '{"key": "key", "value": "x-api-key", "type": "string"}'), "postman-variable"),
    (COLL.replace('"bearer", "bearer"', '"apikey", "apikey"') % (
        '{"key": "key", "value": "x-api-key"}, {"key": "value", "value": "{{api_key}}"}'), None),
    # --- client-secret -------------------------------------------------------------------
    (f"AUTH0_CLIENT_SECRET={T_CS}", "client-secret"),
    (f'  client_secret: "{T_CS}"', "client-secret"),
    (f'var Hx={{clientSecret:"{T_CS}",audience:"x"}};', "client-secret"),
    (f"grant_type=client_credentials&client_id=abc&client_secret={T_CS}", "client-secret"),
    (f'"{{\\"client_secret\\": \\"{T_CS}\\"}}"', "client-secret"),  # JSON inside a JSON string
    ("client_secret: ${AUTH0_CLIENT_SECRET}", None),
    ("AUTH0_CLIENT_SECRET=your-client-secret-here", None),
    ("client_secret_expires_at: 0", None),
    # --- private-key ---------------------------------------------------------------------
    (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n", "private-key"),
    ('{"private_key": "-----BEGIN PRIVATE KEY-----\\n' + PEM_BODY.replace("\n", "\\n")
     + '\\n-----END PRIVATE KEY-----\\n"}', "private-key"),
    ("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", None),
    ("-----BEGIN PRIVATE KEY-----\n" * 50 + f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n"
     "-----END EC PRIVATE KEY-----\n", "private-key"),  # many BEGINs, one END
    ("-----BEGIN PUBLIC KEY-----\n" + PEM_BODY + "\n-----END PUBLIC KEY-----", None),
    # --- high-entropy --------------------------------------------------------------------
    (f"export API_KEY={T_OPQ}", "high-entropy"),
    (f"x-api-key: {T_OPQ}", "high-entropy"),
    (f"  api_token: {T_OPQ}", "high-entropy"),
    ("SENTRY_RELEASE=3f786850e387550fdab836ed7e6dc881de23001b", None),
    ("deploy_token_sha: 3f786850e387550fdab836ed7e6dc881de23001b", None),
    ("token_type: Bearer", None),
    ("TENANT_ID=0b5c7a52-3f3d-4c5e-9a0a-2f1e4d3c2b1a", None),
    ('"integrity": "sha512-' + base64.b64encode(bytes(64)).decode() + '"', None),
    ("refresh_token = os.environ.get('REFRESH_TOKEN')", None),
    ("token_url: https://acme.eu.auth0.com/oauth/token", None),
    ("secret_name: prod-db-credentials", None),
    # --- password ------------------------------------------------------------------------
    ('DB_PASSWORD="c0rrect-h0rse-Battery"', "password"),
    ("password = os.environ.get('DB_PASSWORD')", None),
    ("password: changeme", None),
    ("PASSWORD_MIN_LENGTH=12", None),
    ('    "passwd": "vault.cli.keys_cmds:passwd_cmd",', None),
    ("env.update(TOKENSAFE_PASSPHRASE=PASSPHRASE, X=1)", None),
    ('{"TOKENSAFE_PASSPHRASE": DEMO_PASSPHRASE}', None),
    ("password: correcthorsebatterystaple", "password"),
    ("client_secret = AUTH0_CLIENT_SECRET2", None),
    ("AUTH0_CLIENT_SECRET=AB0CD1EF2GH3IJ4KL5MN6xy", "client-secret"),
    ('client_secret = "AUTH0_CLIENT_SECRET_2_X"', "client-secret"),  # quoted: a literal
    ('DB_PASSWORD="HUNTER_TWO_X"', "password"),
    # --- docker-auth ---------------------------------------------------------------------
    ('{"auths": {"ghcr.io": {"auth": "' + base64.b64encode(b"bob:ghp_" + T_OPQ.encode()).decode()
     + '"}}}', "docker-auth"),
    ('{"auths": {"ghcr.io": {"auth": ""}}}', None),
    # --- url-credentials -----------------------------------------------------------------
    ("DATABASE_URL=postgres://app:Zr8q2LmK9vXw@db.internal:5432/app", "url-credentials"),
    (f"git clone https://deploy:{T_OPQ}@git.example.com/org/repo.git", "url-credentials"),
    ("DATABASE_URL=postgres://app:changeme@localhost:5432/app", None),
    ("REDIS_URL=redis://localhost:6379/0", None),
    ("https://user@example.com/path", None),
    ("postgres://${DB_USER}:${DB_PASS}@db:5432/app", None),
    ("mongodb+srv://<user>:<password>@cluster0.example.net/test", None),
    ("http://localhost:8080/x", None),
    # --- encodings -----------------------------------------------------------------------
    ("data:\n  token: " + base64.b64encode(T_JWT.encode()).decode(), "jwt"),
    # --- inline allow --------------------------------------------------------------------
    (f"TOKEN={T_JWT}  # tokensafe:allow", None),
]


@pytest.mark.parametrize("payload,expected", CASES, ids=[f"{i}-{e}" for i, (_, e) in enumerate(CASES)])
def test_table(payload: str, expected: str | None) -> None:
    got = ids(payload)
    if expected is None:
        assert got == [], got
    else:
        assert expected in got, got


def test_ids_are_unique_and_stable() -> None:
    # Ids are forever: baselines and SARIF rules name them. Add, never rename.
    got = [d.id for d in detectors.REGISTRY]
    assert len(set(got)) == len(got)
    old = ["auth0-management-token", "jwt", "private-key", "provider-token", "bearer", "docker-auth",
           "postman-variable", "client-secret", "password", "high-entropy", "vault-known",
           "url-credentials"]
    assert [i for i in got if i in old] == old  # every old id kept, in its order
    assert set(got) - set(old) == {  # issue #10: published formats and credential files
        "github-token", "gitlab-token", "slack-token", "stripe-key", "aws-access-key-id",
        "google-api-key", "npm-token", "pypi-token", "sendgrid-key", "openai-key", "anthropic-key",
        "postman-api-key", "aws-secret-key", "putty-private-key", "credential-file"}


def test_severity_rules() -> None:
    sev = {f.detector: f.severity for f in scan(f"a={auth0_mgmt('read:users delete:users')}")}
    assert sev == {"auth0-management-token": "critical"}
    assert [f.severity for f in scan(f"a={auth0_mgmt('read:users')}")] == ["high"]
    assert [f.severity for f in scan(f"a={auth0_mgmt(exp=NOW - 1)}")] == ["low"]
    assert [f.severity for f in scan(f"a={jwt({'exp': int(NOW) - 5})}")] == ["low"]


def test_finding_facts_and_no_value() -> None:
    text = f'{{\n\t"key": "auth0_token",\n\t"value": "{T_MGMT}",\n\t"type": "secret"\n}}'
    data = b'{"_postman_variable_scope": "environment", "values": [' + text.encode() + b"]}"
    [f] = SCANNER.scan_bytes(data, "env.json")
    assert (f.line, f.detector) == (3, "auth0-management-token")
    assert f.facts["key"] == "auth0_token" and f.facts["scope"] == "environment"
    assert f.facts["type"] == "secret" and "delete:users" in f.facts["scopes"]
    assert f.preview.startswith("eyJ") and f.preview.endswith(f"({len(T_MGMT)})")
    assert T_MGMT not in repr(f) and T_MGMT not in str(f.to_json())


def test_line_and_column_are_one_based() -> None:
    [f] = scan(f"a\nbb\n  Authorization: Bearer {T_OPQ}\n")
    assert (f.line, f.column) == (3, len("  Authorization: Bearer ") + 1)


def test_unicode_column_counts_characters() -> None:
    [f] = scan(f"é€ token={T_OPQ}")
    assert f.column == len("é€ token=") + 1


def test_vault_known_flags_values_without_other_evidence() -> None:
    import hashlib
    import hmac

    vkey = b"v" * 32
    value = "plain-but-known-" + opaque(12)
    fp = hmac.new(vkey, value.encode(), hashlib.sha256).hexdigest()
    sc = FileScanner(ScanConfig(b"k" * 32, vkey, frozenset({fp}), now=NOW, deep=True))
    [f] = sc.scan_bytes(f"notes: {value} end".encode())
    assert f.detector == "vault-known" and f.facts["in_vault"] is True
    # Without --deep, only values under a key (any key) are checked against the vault.
    shallow = FileScanner(ScanConfig(b"k" * 32, vkey, frozenset({fp}), now=NOW))
    assert shallow.scan_bytes(f"notes: {value} end".encode()) == []
    [k] = shallow.scan_bytes(f"secret_name: {value}".encode())  # not a secret-like key
    assert (k.detector, k.facts["key"], k.facts["in_vault"]) == ("vault-known", "secret_name", True)
    [g] = sc.scan_bytes(f"TOKEN={T_JWT}".encode())
    assert g.detector == "jwt" and g.facts["in_vault"] is False


def test_short_kv_values_are_dropped_only_where_no_detector_reports_them() -> None:
    """extract drops `kv` values shorter than any detector that may claim them reports
    (`token: $`, `password === x`): the same length as the detectors', and never with the
    vault's fingerprints loaded, where a short value may still be a vault value."""
    import hashlib
    import hmac

    from vault.guard import extract

    assert extract.KV_SHORTEST == detectors._chain("kv", False, False)[0] > 0
    assert all(detectors._chain("kv", jwt, vendor)[0] == 0 for jwt, vendor in ((True, False), (False, True)))
    short = "x9$Q" + "z" * (extract.KV_SHORTEST - 5)  # one character short
    cands = FileScanner(ScanConfig(b"k" * 32)).cfg.extractor(None, False).extract(
        f"password = {short}z\npassword = {short}\n".encode(), 0, 64)
    assert [c.value for c in cands] == [short + "z"]
    assert ids(f"password = {short}z") == ["password"]
    vkey = b"v" * 32
    fp = hmac.new(vkey, short.encode(), hashlib.sha256).hexdigest()
    known = FileScanner(ScanConfig(b"k" * 32, vkey, frozenset({fp}), now=NOW))
    [f] = known.scan_bytes(f"password = {short}".encode())
    assert f.facts["in_vault"] is True


def test_postman_export_in_any_key_order() -> None:
    doc = {"_postman_variable_scope": "globals", "values": [
        {"enabled": True, "key": "mgmt ключ", "type": "secret", "value": T_OPQ},
        {"enabled": True, "key": "plain", "type": "default", "value": "hello"}]}
    data = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).encode()
    [f] = SCANNER.scan_bytes(data, "globals.json")
    assert (f.detector, f.facts["key"], f.facts["scope"]) == ("postman-variable", "mgmt ключ", "globals")
    assert data[f.offset:f.offset + f.length] == T_OPQ.encode()


@pytest.mark.parametrize("value,placeholder", [
    ("YOUR_TOKEN_HERE", True), ("your-client-secret-here", True), ("yourApiKeyHere", True),
    ("<paste token>", True), ("changeme", True), ("sk_test_YOUR_KEY", True), ("{{x}}", True),
    ("${TOKEN}", True), ("$TOKEN", True), ("xxxxxxxxxxxx", True), ("********", True),
    # stand-in words inside a random token are chance, not a placeholder
    ("k2TodoQ8sdf9a8sdfysdfQ", False), ("aB3yOuRx9HeReK2pL0mN", False), ("realToken9xK2", False),
])
def test_placeholders(value: str, placeholder: bool) -> None:
    from vault.guard.filters import is_placeholder

    assert is_placeholder(value) is placeholder


def test_portable_anchor_search_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes.find fallback (no hyperscan wheel) finds exactly what hyperscan finds."""
    fast = [ids(p) for p, _ in CASES]
    monkeypatch.setenv("TOKENSAFE_GUARD_PORTABLE", "1")
    assert [ids(p) for p, _ in CASES] == fast


def test_reprs_hold_no_value_and_no_key() -> None:
    from vault.guard.model import Candidate
    from vault.guard.scrub import Var

    cfg = ScanConfig(b"K" * 32, b"V" * 32, frozenset({"ab" * 32}))
    for obj in (Candidate(T_OPQ, 0, 1, "kv"), Var("k", T_OPQ, 0, 1), cfg):
        text = repr(obj)
        assert T_OPQ not in text and "KKKK" not in text and "VVVV" not in text, text
