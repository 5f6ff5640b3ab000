"""Code is not a secret; context (test folder, documentation, docstring) lowers severity
and names itself in the finding, except for a live Auth0 Management token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, auth0_mgmt, client_secret, crc_token, opaque
from vault.guard import codevalue, situation
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
PW = "Zr8q2LmK9vXw3Bn7Tq"  # a real-looking password
PEM = ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(["MIIEowIBAAKCAQEAw" + opaque(47)] * 6)
       + "\n-----END RSA PRIVATE KEY-----\n")


def found(text: str, path: str = "app.cfg") -> list[tuple[str, str]]:
    return [(f.detector, f.severity) for f in SCANNER.scan_bytes(text.encode(), path)]


# (source line, file name, is a finding) -- code that names where a secret comes from
CODE: list[tuple[str, str, bool]] = [
    ("password = get_password(user, host)", "db.py", False),
    ("const password = getPassword(key, alg);", "pbes2kw.js", False),
    ("w.password=encodeURIComponent(decodeURIComponent(w.password))", "index.js", False),
    ("i.password=t.slice(s+1),x=1", "bundle.min.js", False),
    ("c->password = g_strdup(value);", "conn.c", False),
    ("self->password = conn->password;", "conn.c", False),
    ("token = os.environ[\"API_TOKEN\"]", "settings.py", False),
    ("api_token = config['api_token']", "settings.py", False),
    ("password = prefix + suffix", "x.py", False),
    ("var pw = (lm_password!=null)?lm_password:create_LM_hashed_password_v1(password);", "ntlm.js", False),
    ("exports.create_NT_hashed_password = create_NT_hashed_password_v1;", "ntlm.js", False),
    ("password:t.password||n.password", "min.js", False),
    ("password: FilterOrBool = False,", "dialogs.py", False),
    ("    password: SecretStr", "types.py", False),
    ("username, password = proxy_auth", "socks.py", False),
    ("passwd: HTTPPasswordMgr", "request.pyi", False),
    ('FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"', "models.py", False),
    ('"IAMUserChangePassword": "arn:aws:iam::aws:policy/IAMUserChangePassword",', "policies.json", False),
    # an ARN's resource type is not a key, in JSON, IAM policies or escaped CLI arguments
    ('"ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestSecret-a1b2c3",', "x.json", False),
    ('"Resource":"arn:*:secretsmanager:*:*:secret:eks-local.cluster.x-k8s.io/*",', "policies.py", False),
    ('--v "{\\"ARN\\": \\"arn:aws:secretsmanager:us-west-2:1:secret:greengrass-TwilioAuthToken-ntSlp6\\"}"',
     "create.rst", False),
    (f"secret:{PW}4", "conf.yaml", True),  # a key after a colon, in no ARN, is still read
    (f"scope:secret:{PW}4", "conf.yaml", True),
    (f'"arn:aws:iam::1:role/x" secret:{PW}4', "notes.txt", True),  # the ARN is another word
    ("Authorization: 'AWS4-HMAC-SHA256 Credential=ABCDEF/20121226/us-east-1/sqs/aws4_request'",
     "aws4.js", False),  # a signing scheme's name, not a credential
    (f"Authorization: AWS4x{PW}", "call.sh", True),
    # literals stay findings, quoted or in config files
    (f'password = "{PW}"', "db.py", True),
    (f"DB_PASSWORD={PW}", ".env", True),
    (f"password: {PW}", "values.yaml", True),
    (f"client_secret = '{client_secret()}'", "settings.py", True),
    (f"token = {opaque()}", "app.ini", True),
    (f"token = {opaque()};", "notes.conf", True),  # a random token before `;` is not a name
    # keys and values that only code writes so: PHP variables and `define`, subscripts, quoted
    # pairs in calls; literals are findings, names, words and expressions are not
    (f"define( 'DB_PASSWORD', '{PW}' );", "wp-config.php", True),
    ("define( 'AUTH_KEY', 'k8J!d#2m(Lq9zR$4vW7pN@3xY6bT^1cF5&hG0sE;8uI]Xo' );", "wp-config.php", True),
    (f"$db_pass = '{PW}';", "config.php", True),
    (f"$config['api_token'] = '{opaque()}';", "config.php", True),
    (f'os.environ["API_TOKEN"] = "{opaque()}"', "settings.py", True),
    (f"app.config['SECRET_KEY'] = '{opaque()}'", "app.py", True),
    (f'os.environ.setdefault("DB_PASSWORD", "{PW}")', "settings.py", True),
    (f'headers["x-api-key"] = "{opaque()}";', "client.js", True),
    (f'props.setProperty("db.password", "{PW}");', "Main.java", True),
    (f'os.Setenv("API_TOKEN", "{opaque()}")', "main.go", True),
    (f"ENV['API_TOKEN'] = '{opaque()}'", "config.rb", True),
    (f"    export API_KEY={crc_token('ghp_', 'EYpSRpZJVuiqcTwUaKGJVmJdBWJYVe')}", "lib.py", True),  # not a name
    ("define( 'DB_PASSWORD', getenv('DB_PASSWORD') );", "wp-config.php", False),
    ("define( 'AUTH_KEY', 'put your unique phrase here' );", "wp-config.php", False),
    ("$db_pass = $_ENV['DB_PASS'];", "config.php", False),
    ("$config['api_token'] = env('API_TOKEN');", "config.php", False),
    ("$labels['password'] = 'Password';", "lang.php", False),
    ('echo "$api_token: refreshed";', "cron.php", False),
    (f"if [ $TOKEN = {PW} ]; then", "check.sh", False),  # a shell test, not an assignment
    ('os.environ["API_TOKEN"] = token', "settings.py", False),
    ('SENSITIVE = ("password", "api_secret", "client_secret")', "filters.py", False),
    ('t("password", "Password")', "forms.py", False),
    ("i18n.set('password', 'Mot de passe');", "i18n.js", False),
    ('labels["password"] = "Enter your password"', "forms.py", False),
    (f'cfg[password] = "{PW}"', "x.py", False),  # the key is a variable
    (f'f(token", "{PW}")', "x.py", False),  # a key a call pair does not quote
    ('"type": "apikey", "apikey": []', "c.json", False),
]


@pytest.mark.parametrize("line,path,expected", CODE, ids=[f"{i}" for i in range(len(CODE))])
def test_code_is_not_a_secret(line: str, path: str, expected: bool) -> None:
    assert bool(found(line, path)) is expected, found(line, path)


RANDOM = "GhtxsG98dvLUC6AWONKrk2LCOff9hTGI6Kdw3yZf"  # fixed: parametrize ids must agree across workers


@pytest.mark.parametrize("value,follows,expected", [
    ("get_password", "(u", True), ("encodeURIComponent", "(d", True), ("os.environ", "[\"", True),
    ("conn-", ">p", True), ("prefix", "+ ", True), ("t.password||n.password", "", True),
    ("a.b??c", "", True), ("getPassword", "", False), (PW, "(", False), (RANDOM, ";", False),
    ("Xy7!p@ss+w0rd", "", False),
    ("WnE4I21QMnZMOXhLdw==", "", False), ("a==b", "", True),  # base64 padding is not `==`
])
def test_is_expression_table(value: str, follows: str, expected: bool) -> None:
    assert codevalue.is_expression(value, follows) is expected


@pytest.mark.parametrize("path,context", [
    ("repo/tests/keys.py", "test folder"), ("repo/test/unit/sig.test.js", "test folder"),
    ("a/fixtures/creds.json", "test folder"), ("pkg/testdata/x.env", "test folder"),
    ("src/test_auth.py", "test file"), ("pkg/auth_test.go", "test file"),
    ("web/login.spec.ts", "test file"), ("README.md", "documentation"),
    ("docs/setup.yaml", "documentation"), ("awscli/examples/iam/create.rst", "documentation"),
    ("pkg-1.0.dist-info/METADATA", "documentation"), ("botocore/data/sts/examples-1.json", "example"),
    ("repo/examples/app.env", "example"), ("repo/.env", None), ("notes.txt", None),
    ("src/testament.py", None), ("contest/app.env", None),
    ("site-packages/moto/moto_proxy/ca.key", "dependency"),
    ("app/.venv/lib/python3.11/site-packages/pkg/README.md", "dependency"),  # named first
    ("usr/lib/python3/dist-packages/x/k.pem", "dependency"),
    ("newman/node_modules/node-oauth1/test/sig.test.js", "dependency"),
    ("repo/vendor/github.com/x/y/key.go", "dependency"), ("src/vendors/k.env", None),
    ("src/my_node_modules_notes/k.env", None),
])
def test_path_context(path: str, context: str | None) -> None:
    assert situation.path_context(path) == context


def test_context_lowers_severity_and_names_itself() -> None:
    key = PEM
    assert found(key, "srv/id_rsa") == [("private-key", "critical")]
    [f] = SCANNER.scan_bytes(key.encode(), "repo/test/keys/id_rsa")
    assert (f.severity, f.facts["context"]) == ("low", "test folder")
    readme = "Use it like this:\n\n    Authorization: Bearer " + opaque() + "\n"
    [f] = SCANNER.scan_bytes(readme.encode(), "README.md")
    assert (f.detector, f.severity, f.facts["context"]) == ("bearer", "low", "documentation")
    assert found(readme, "call.sh") == [("bearer", "high")]


def test_dependency_folder_lowers_and_names_itself() -> None:
    """A private key in an installed package (moto ships its proxy's CA key) is someone
    else's published test material: low, context named; the same key in your src/ stays
    critical, and a live Auth0 Management token stays critical in a dependency too."""
    [f] = SCANNER.scan_bytes(PEM.encode(), "site-packages/moto/moto_proxy/ca.key")
    assert (f.detector, f.severity, f.facts["context"]) == ("private-key", "low", "dependency")
    [f] = SCANNER.scan_bytes(PEM.encode(), "repo/node_modules/pkg/lib/ca.key")
    assert (f.severity, f.facts["context"]) == ("low", "dependency")
    assert found(PEM, "repo/src/ca.key") == [("private-key", "critical")]
    live = auth0_mgmt("read:users delete:users")
    [f] = SCANNER.scan_bytes(f"AUTH0_MGMT_TOKEN={live}\n".encode(), "repo/node_modules/x/env.sh")
    assert (f.severity, f.facts["context"]) == ("critical", "dependency")


def test_docstring_and_comment_context() -> None:
    url = f"postgres://app:{PW}@db.internal:5432/app"
    doc = f'def connect():\n    """Connect.\n\n    >>> connect("{url}")\n    """\n    return 1\n'
    [f] = SCANNER.scan_bytes(doc.encode(), "db.py")
    assert (f.severity, f.facts["context"]) == ("low", "docstring")
    code = f'def connect():\n    """Connect."""\n    return connect_to("{url}")\n'
    [f] = SCANNER.scan_bytes(code.encode(), "db.py")
    assert f.severity == "high" and "context" not in f.facts
    js = f"// e.g. {url}\nconnect(process.env.DB_URL)\n"
    [f] = SCANNER.scan_bytes(js.encode(), "db.js")
    assert (f.severity, f.facts["context"]) == ("low", "comment")
    # a commented-out secret in a config file is a disabled setting: still a leak
    assert found(f"# DATABASE_URL={url}\n", "app.env") == [("url-credentials", "high")]


def test_live_auth0_management_token_is_never_lowered() -> None:
    live = auth0_mgmt("read:users delete:users")
    for path in ("repo/tests/postman/env.json", "README.md", "fixtures/x.json", "test_api.py"):
        [f] = SCANNER.scan_bytes(f"AUTH0_MGMT_TOKEN={live}\n".encode(), path)
        assert (f.detector, f.severity) == ("auth0-management-token", "critical"), path
        assert f.facts.get("context")  # the context is still named
    expired = auth0_mgmt(exp=NOW - 60)
    [f] = SCANNER.scan_bytes(f"AUTH0_MGMT_TOKEN={expired}\n".encode(), "tests/env.json")
    assert f.severity == "low"


def test_in_vault_values_are_never_lowered() -> None:
    import hashlib
    import hmac

    vkey = b"v" * 32
    tok = opaque()
    fp = hmac.new(vkey, tok.encode(), hashlib.sha256).hexdigest()
    sc = FileScanner(ScanConfig(b"k" * 32, vkey, frozenset({fp}), now=NOW))
    [f] = sc.scan_bytes(f"API_TOKEN={tok}\n".encode(), "tests/conf.env")
    assert f.facts["in_vault"] is True and f.severity != "low"


def test_end_to_end_context_in_text_and_json(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "id_rsa").write_text(PEM)
    live = auth0_mgmt("read:users delete:users")
    (tmp_path / "tests" / "postman_env.json").write_text(
        json.dumps({"_postman_variable_scope": "environment",
                    "values": [{"key": "mgmt", "value": live, "type": "secret"}]}))
    env = {**os.environ, "TOKENSAFE_GUARD_KEY": str(tmp_path / "gk"), "HOME": str(tmp_path)}
    cmd = [sys.executable, "-c", "from vault.cli import main; main()", "audit"]
    r = subprocess.run([*cmd, "--json", str(tmp_path / "tests")], capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr
    got = {Path(f["path"]).name: (f["severity"], f["facts"].get("context"))
           for f in json.loads(r.stdout)["findings"]}
    assert got == {"id_rsa": ("low", "test folder"), "postman_env.json": ("critical", "test folder")}
    assert live not in r.stdout + r.stderr
    r = subprocess.run([*cmd, str(tmp_path / "tests")], capture_output=True, text=True, env=env)
    assert "context=test folder" in r.stdout and live not in r.stdout + r.stderr
    # --fail-on medium: the lowered key alone no longer fails the run
    (tmp_path / "tests" / "postman_env.json").unlink()
    r = subprocess.run([*cmd, "--fail-on", "medium", str(tmp_path / "tests")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("path,roots,want", [
    ("/home/u/tests/app/config.env", ("/home/u/tests/app",), "app/config.env"),
    ("/home/u/tests/app/tests/k.env", ("/home/u/tests/app",), "app/tests/k.env"),
    ("tests/k.env", ("tests",), "tests/k.env"),
    ("./src/k.env", (".",), "src/k.env"),
    ("src/tests/k.env", ("src", "src/tests"), "tests/k.env"),  # the longest root
    ("/etc/k.env", ("/",), "etc/k.env"),
    ("blob.env", ("/somewhere",), "blob.env"),  # under no root: as given
])
def test_context_is_read_below_the_named_root(path: str, roots: tuple[str, ...], want: str) -> None:
    from vault.guard import situation

    assert situation.below_root(path, roots) == want


def test_a_project_inside_a_tests_folder_is_not_a_test(tmp_path) -> None:
    """The installed command: `audit ~/tests/app` reports app's keys at their own severity,
    and `audit ~/tests/app/tests` (a test folder named) lowers them."""
    import json as _json
    import subprocess

    app = tmp_path / "tests" / "app"
    (app / "tests").mkdir(parents=True)
    line = f"client_secret = '{client_secret()}'\n"
    (app / "settings.py").write_text(line)
    (app / "tests" / "settings.py").write_text(line)
    doc = _json.loads(subprocess.run(["tokensafe", "audit", "--json", str(app)], capture_output=True,
                                     text=True, timeout=120).stdout)
    sev = {Path(f["path"]).parent.name: (f["severity"], f["facts"].get("context")) for f in doc["findings"]}
    assert sev["app"][1] is None and sev["app"][0] != "low", sev
    assert sev["tests"] == ("low", "test folder"), sev
    doc = _json.loads(subprocess.run(["tokensafe", "audit", "--json", str(app / "tests")],
                                     capture_output=True, text=True, timeout=120).stdout)
    assert [(f["severity"], f["facts"].get("context")) for f in doc["findings"]] == [("low", "test folder")]
