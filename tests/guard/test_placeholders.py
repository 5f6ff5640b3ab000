"""The one placeholder filter: a (value, is_placeholder) table, then the same values through
every detector that reads a value under a key (so no detector keeps a private notion)."""

from __future__ import annotations

import base64

import pytest

from tests.guard.tokens import NOW, client_secret, opaque
from vault.guard import filters
from vault.guard.placeholders import is_placeholder
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# Fixed look-alikes: random-looking tokens that merely contain a stand-in word or pattern.
LOOKALIKES = [
    "k2TodoQ8sdf9a8sdfysdfQ",  # "todo" inside random text
    "aB3yOuRx9HeReK2pL0mN",  # "your", "here" inside random text
    "Qx7xxR2mK9vLpW4nZ8tY",  # "xx" inside random text
    "realToken9xK2",
    "Zr8q2LmK9vXw3Bn7Tq",
    "c0rrect-h0rse-Battery",
    "HUNTER_TWO_X",
    "8f3Kd92LxQ0pReplAce1",  # "replace" with digits around, no word edge
    "p@ss!W0rd#Zq81",  # punctuation: reads as a real password
    "YWJjMTIzIT8kKiYoKSctPS9AQg",  # base64 of bytes that are not a stand-in
    b64("Tr0ub4dor&3-horse"),  # base64 of a real-looking password
]

TABLE: list[tuple[str, bool]] = [
    # auth0-deploy-cli keyword replacement
    ("##AUTH0_CLIENT_SECRET##", True), ("@@AUTH0_CLIENT_SECRET@@", True), ("##API_TOKEN##", True),
    # Helm / Go templates, Jinja, Postman
    ("{{ .Values.auth0.clientSecret }}", True), ("{{ x }}", True), ("{{x}}", True),
    ("{{ vault_db_password }}", True),
    # GitHub Actions, Terraform, shell
    ("${{ secrets.AUTH0_CLIENT_SECRET }}", True), ("${var.client_secret}", True),
    ("${X:-default}", True), ("${TOKEN}", True), ("$TOKEN", True), ("$(cat /run/secrets/x)", True),
    # other templating: ERB, Ruby/Octopus, Windows, build-time tokens, Python format
    ("<%= ENV['TOKEN'] %>", True), ("#{ApiToken}", True), ("%API_TOKEN%", True),
    ("__CLIENT_SECRET__", True), ("{password}", True), ("{0}", True), ("%(password)s", True),
    # stand-ins
    ("<your-token>", True), ("<paste token>", True), ("changeme", True), ("CHANGE_ME", True),
    ("REPLACE_ME", True), ("replace-me", True), ("xxxxxxxxxxxxxxxx", True), ("XXXX-XXXX-XXXX", True),
    ("***", True), ("********", True), ("TODO", True), ("todo", True), ("TBD", True),
    ("YOUR_TOKEN_HERE", True), ("your-client-secret-here", True), ("yourApiKeyHere", True),
    ("sk_test_YOUR_KEY", True), ("redacted", True), ("[REDACTED]", True), ("...", True),
    ("proxy_password", True), ("my-secret-token", True), ("secret123", True),
    ("mysecretpassword", True), ("P@55w0rd!", True), ("s3cr3t", True), ("p4ssw0rd1", True),
    ("this1234is5678my91011example1213client1415secret", True),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", True), ("abcd1234defg5678", True),
    ("abcdef12345124", True),
    # default logins of sample credential files, versions, a vendor's documented example
    ("admin", True), ("root", True), ("guest", True), ("9.1.3", True), ("1.0", True),
    ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", True), ("admin-8Kq2Zr7xLp", False), ("9.1.3.4.5.6a", False),
    # words in angle brackets and PHP tags are stand-ins; a lone `<` or `>` is a password's symbol
    ("<insert token here>", True), ("<?php echo $db_pass; ?>", True),
    ("Ab<3xyz!9Qw", False), ("k8J!d#2m<Lq9zR$4vW7pN@3xY6bT^1cF5&hG0sE;8uI>Xo", False),
    # Kubernetes Secret `data:` placeholders: base64 of a stand-in
    (b64("changeme"), True), (b64("password"), True), (b64("<your-password>"), True),
    (b64("REPLACE_ME"), True), (b64("${DB_PASSWORD}"), True), (b64("secret123"), True),
    # look-alikes that ARE secrets
    *((v, False) for v in LOOKALIKES),
]


@pytest.mark.parametrize("value,expected", TABLE, ids=[f"{i}" for i in range(len(TABLE))])
def test_table(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected
    assert filters.is_placeholder(value) is expected  # one filter, one answer


def test_random_tokens_are_never_placeholders() -> None:
    # 2,000 random tokens of each shape: no stand-in rule may fire on chance
    for _ in range(2000):
        for v in (opaque(24), opaque(40), client_secret(),
                  base64.b64encode(opaque(30).encode()).decode()):
            assert not is_placeholder(v), v


# Every detector that reads a value under a key consults the same filter.
PLACEHOLDER_VALUES = ["##AUTH0_CLIENT_SECRET##", "@@AUTH0_CLIENT_SECRET@@", "${{ secrets.X }}",
                      "REPLACE_ME", "<your-token>", b64("changeme")]
LINES = ["AUTH0_CLIENT_SECRET={}", "DB_PASSWORD={}", "API_TOKEN={}", "api_key: '{}'",
         '{{"key": "client_secret", "value": "{}"}}']


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("value", PLACEHOLDER_VALUES)
def test_every_detector_skips_placeholders(line: str, value: str) -> None:
    assert SCANNER.scan_bytes(line.format(value).encode(), "config.env") == []


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("value", LOOKALIKES[:5])
def test_lookalikes_are_still_found(line: str, value: str) -> None:
    value = value + "Zq81Kx"  # long enough for every detector
    assert SCANNER.scan_bytes(line.format(value).encode(), "config.env") != []


def test_auth0_deploy_cli_config_file() -> None:
    """auth0-deploy-cli's config: every secret is a `##KEY##` or `@@KEY@@` marker."""
    text = ('{\n  "AUTH0_DOMAIN": "##AUTH0_DOMAIN##",\n  "AUTH0_CLIENT_SECRET": "##AUTH0_CLIENT_SECRET##",\n'
            '  "AUTH0_KEYWORD_REPLACE_MAPPINGS": {"SECRET": "@@SMTP_PASSWORD@@", "API_TOKEN": "##API_TOKEN##"}\n}\n')
    assert SCANNER.scan_bytes(text.encode(), "config.json") == []


def test_kubernetes_secret_placeholder_data() -> None:
    text = ("apiVersion: v1\nkind: Secret\ndata:\n"
            f"  password: {b64('changeme')}\n  api_token: {b64('<your-token>')}\n"
            f"  client_secret: {b64('REPLACE_ME')}\n")
    assert SCANNER.scan_bytes(text.encode(), "secret.yaml") == []


def test_a_random_token_ending_in_a_stand_in_word_is_not_a_placeholder() -> None:
    """Found by the random test above in CI: a token whose last letters spell `paste`."""
    assert not is_placeholder("LhjGZhB0qSw2clEoRS73Y1w1KLCL7zgCbrkpasTE")
    assert not is_placeholder("q8Zr2Lm5Xc7Vb9Nk3PwTodo")
    assert is_placeholder("YOUR_TOKEN_HERE") and is_placeholder("yourApiKeyHere")


@pytest.mark.parametrize("pw,found", [("test", False), ("root", False), ("changeme", False),
                                      ("Zq8#mP2vL9xKw", True)])
def test_a_docker_auth_placeholder_is_no_finding_of_any_detector(pw: str, found: bool) -> None:
    """`"auth": base64("user:test")` in a sample config.json: neither the grammar, nor
    docker-auth, nor the generic high-entropy detector reports it; a real password is high."""
    import json

    from vault.guard.readers import FileScanner, ScanConfig

    doc = json.dumps({"auths": {"r.example.com": {"auth": b64("admin:" + pw)}}}, indent=1).encode()
    got = FileScanner(ScanConfig(b"k" * 32)).scan_bytes(doc, "config.json")
    assert [(f.detector, f.severity) for f in got] == ([("docker-auth", "high")] if found else [])
