"""Issue #10 recall: `NAME_KEY` environment variables, `*_pass` fields, Kubernetes `data:`
values after Helm template lines, short client secrets and dotted passwords; each with the
look-alikes that must stay quiet (names, hashes, placeholders, code, public keys)."""

from __future__ import annotations

import base64

import pytest

from tests.guard.test_detectors import ids, scan
from vault.guard import extract, filters

# Password-manager style values (mixed classes, symbols), as people paste them.
PW = "MrU-fHO7ZN0FdXG8Se!1^"
PW_DOTS = "V8aFATZtq.hKzQo.gfJ2ja4_"  # the shape of a dotted name, but no part is a word
PW_LETTERS = "SnqbnIkumlzh4_"


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def secret_doc(*lines: str) -> str:
    return "\n".join(["apiVersion: v1", "kind: Secret", "metadata:", "  name: app", "type: Opaque",
                      "data:", *lines]) + "\n"


CASES: list[tuple[str, str | None]] = [
    # --- `NAME_KEY=` in .env files and CI settings (high-entropy) -------------------------
    (f"STRIPE_KEY={PW}", "high-entropy"),
    ("MAPBOX_KEY=Krwd_HIW16Di~pSDHw94_\n", "high-entropy"),
    (f'{{"SENDGRID_KEY": "{PW}"}}', "high-entropy"),
    (f"export ALGOLIA_ADMIN_KEY='{PW}'", "high-entropy"),
    (f"SORT_KEY={PW}", None),  # an index into data, not a credential
    (f"STRIPE_PUBLISHABLE_KEY={PW}", None),  # meant to ship
    ("DOTENV_PUBLIC_KEY=0245f1b3c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0", None),
    ('CACHE_KEY = "user_profile_v2"', None),  # a name
    ("INTEGRITY_KEY=3f786850e387550fdab836ed7e6dc881de23001b", None),  # a digest's length
    ("STRIPE_KEY=YOUR_STRIPE_KEY", None),
    ("STRIPE_KEY=${STRIPE_KEY}", None),
    ("STRIPE_KEY=changeme", None),
    ("STRIPE_KEY=short1", None),
    (f'stripe_key = "{PW}"', None),  # snake case in code: `sort_key`, `cache_key`, … are data
    ("const ENCRYPTION_KEY_ENV = process.env.ENCRYPTION_KEY_NAME;", None),
    # --- `*_pass` fields (password) ------------------------------------------------------
    (f'ADMIN_PASS = "{PW}"', "password"),
    (f'var ADMIN_PASS="{PW}";', "password"),
    (f'static const char *ADMIN_PASS = "{PW}";', "password"),
    (f'private static final String SMTP_PASS = "{PW}";', "password"),
    (f'ADMIN_PASS = "{PW_LETTERS}"', "password"),
    (f"db_pass: {PW}", "password"),
    (f"DB_PASS={PW}\n", "password"),
    (f'first_pass = "{PW}"', None),  # a stage, not a credential
    (f'RENDER_PASS = "{PW}"', None),
    ('DB_PASS = "shadow-map-pass"', None),  # words joined: a name
    ("ADMIN_PASS = get_admin_pass()", None),
    ("ADMIN_PASS = os.environ['ADMIN_PASS']", None),
    ('ADMIN_PASS = "admin"', None),
    ("DB_PASS=${DB_PASS}", None),
    ('DB_PASS = "<your-password>"', None),
    ('tests_passed = "q8Zr2Lm5Xc7V"', None),  # `_pass` inside a longer word
    ("bypass = 'q8Zr2Lm5Xc7V!'", None),
    # --- bare `pass` and camelCase `…Pass`: nodemailer's `auth: { user, pass }`, `dbPass` ---
    (f'auth: {{ user: "me@example.com", pass: "{PW}" }},', "password"),
    (f'const cfg = {{ dbPass: "{PW}" }};', "password"),
    (f'{{"adminPass": "{PW}"}}', "password"),
    (f"$smtpPass = '{PW}';", "password"),
    (f"smtp.pass={PW}", "password"),
    ('auth: { user: "me", pass: process.env.SMTP_PASS },', None),
    ('"pass": 123456,', None), ("pass: true", None), ('{"pass": "passed"}', None),
    (f'firstPass = "{PW}"', None),  # a stage, not a credential
    (f"compass: '{PW}'", None), ("    pass  # nothing to do", None),
    ("pass = 'hunter2'", None),  # the Internet's example password
    # --- corpus seeds 2-4: random passwords that read as names or cursors ---------------
    ("API_KEY=FGuRYmvkmw.ylt_nwy7_", "high-entropy"),  # a dot, but no dotted path of names
    ("STRIPE_KEY=A~IudnJglmzsc!T9_", "high-entropy"),  # symbols: no identifier
    ('password = "S7CZdeL9.ubg10_"', "password"),
    ("page_api_token: Okko^3sS2~xl5xO9u10+", "high-entropy"),  # an API token, not a page cursor
    ("nextPageToken: Okko^3sS2~xl5xO9u10+", None),
    ("API_KEY=settings.STRIPE_API_KEY", None), ("password = config.db.password", None),
    # --- dotted values: a password with dots is still one, a dotted path of names is not ---
    (f'"api_token_unencrypted": "{PW_DOTS}",', "high-entropy"),
    (f'db_password = "{PW_DOTS}"', "password"),
    ('db_password = "os.environ.get()"', None),
    ("token = base64.b64encode(digest)", None),
    ("private_key = ed25519.Ed25519PrivateKey.from_private_bytes(secret)", None),
    ('"SubjectFromWebIdentityToken": "amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A"', None),
    # --- Kubernetes Secret `data:` --------------------------------------------------------
    (secret_doc(f"  client-secret: {b64('Wo1^pWn91jrO0^')}"), "client-secret"),  # 14 characters
    (secret_doc(f"  client-secret: {b64('changeme-now')}"), None),
    (secret_doc(f"  client-secret: {b64('development')}"), None),
    # Helm: template values and directives between the entries do not end the block
    (secret_doc("  dbPassword: {{ .Values.dbPassword | b64enc | quote }}",
                "  {{- if .Values.extra }}",
                "  extraToken: {{ required \"x\" .Values.extraToken | b64enc }}",
                "{{- end }}",
                f"  apiToken: {b64('ByvE~Tl~olU~_0~')}"), "high-entropy"),
    (secret_doc("  dbPassword: {{ .Values.dbPassword | b64enc | quote }}",
                f"  apiToken: {b64('{{ .Values.apiToken }}')}"), None),
    # a line at the block's own indentation ends it: what follows is not Secret data
    (secret_doc("  dbPassword: {{ .Values.dbPassword | b64enc | quote }}", "stringData:",
                f"  host: {b64('db.example.internal')}"), None),
]


def test_helm_secret_value_after_template_lines_is_judged_decoded() -> None:
    doc = secret_doc("  dbPassword: {{ .Values.dbPassword | b64enc | quote }}", "  {{- if .Values.extra }}",
                     "{{- end }}", f"  apiToken: {b64('YhKYqjFBPHdQw0+')}")  # no digit in its base64
    got = [(f.detector, f.facts, f.line) for f in scan(doc)]
    assert got == [("high-entropy", {"key": "data.apiToken", "encoding": "base64"}, 10)], got


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_recall_table(payload: str, expected: str | None) -> None:
    got = ids(payload)
    if expected is None:
        assert got == [], got
    else:
        assert expected in got, got


def test_key_kinds() -> None:
    kind = filters.secret_key_kind
    assert kind("STRIPE_KEY") == kind("data.MAPBOX_KEY") == "env-key"
    assert kind("stripe_key") is kind("SORT_KEY") is kind("PUBLIC_KEY") is kind("KEY") is None
    assert kind("API_KEY") == kind("ACCESS_KEY") == "secret"  # unchanged: named outright
    assert kind("ADMIN_PASS") == kind("smtp-pass") == kind("dbPass") == kind("pass") == "pass"
    assert kind("first_pass") is kind("bypass") is kind("tests_passed") is kind("compass") is None
    assert kind("nextPageToken") is kind("sync_token") is kind("ContinuationToken") is None
    assert kind("page_api_token") == kind("next_auth_token") == "secret"


@pytest.mark.parametrize("anchor", [b"_pass", b"_key"])
def test_new_anchors_are_kv_anchors(anchor: bytes) -> None:
    assert (anchor, "kv") in extract.ANCHORS
    buf = b"x" + anchor.upper() + b"=1"
    assert (1, "kv") in extract._find_hits(buf, 0, len(buf))


@pytest.mark.parametrize(("key", "words"), [
    ("nextPageToken", ["next", "page", "token"]), ("DB_PASSWORD", ["db", "password"]),
    ("APIToken", ["apitoken"]), ("HTTPServer", ["httpserver"]), ("a1B2", ["a1", "b2"]),
    ("1A", ["1", "a"]), ("api-key.v2", ["api", "key", "v2"]), ("__", []), ("", []),
    ("clé_secrète", ["cl", "secr", "te"]), ("x--Y", ["x", "y"]),
])
def test_key_words(key: str, words: list[str]) -> None:
    """Words of a key: cut at anything not an ASCII letter or digit, and before a capital that
    follows a small letter or a digit (the split `secret_key_kind` reads)."""
    from vault.guard.filters import key_words

    assert key_words(key) == words
