"""Credential-file grammars (vault/guard/credfiles.py): the file's name picks the grammar, a
finding names the field and the host it unlocks. Every value here is made up.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, crc_token
from vault.guard import credfiles
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
PW = "Zq9xLm2pQw7"  # a made-up password
TOK = "tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6"
NPM = crc_token("npm_", "a1B2" * 7 + "c3")
B64_AUTH = base64.b64encode(f"bob:{PW}".encode()).decode()
B64_PW = base64.b64encode(PW.encode()).decode()
KEY_PEM = ("-----BEGIN EC PRIVATE KEY-----\n" + base64.b64encode(bytes(range(120))).decode()
           + "\n-----END EC PRIVATE KEY-----\n")
KUBE = f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
    server: https://k8s.example.com:6443
  name: prod
- cluster:
    server: https://staging.example.com
  name: staging
contexts:
- context:
    cluster: prod
    user: admin
  name: prod-admin
- context:
    cluster: staging
    user: ci
  name: staging-ci
current-context: prod-admin
users:
- name: admin
  user:
    client-key-data: {base64.b64encode(KEY_PEM.encode()).decode()}
    password: "{PW}"
- name: ci
  user:
    token: {TOK}
    exec:
      env:
      - name: FOO
        value: bar
"""

# (file path, content, {(detector, field, host)})
CASES: list[tuple[str, str, set[tuple[str, str, str | None]]]] = [
    # .netrc: one line, many lines, default, comments, macdef bodies, placeholders
    (".netrc", f"machine api.example.com login bob password {PW}\n",
     {("credential-file", "password", "api.example.com")}),
    ("home/.netrc", f"# mine\nmachine a.example.org\n  login alice\n  password {PW}\n\n"
     f"machine b.example.org login x password {TOK} account acct{PW}\n"
     f"default login anonymous password {PW}x\n",
     {("credential-file", "password", "a.example.org"), ("credential-file", "password", "b.example.org"),
      ("credential-file", "account", "b.example.org"), ("credential-file", "password", "default")}),
    ("_netrc", f"machine h.example\nlogin u\npassword {PW}\nmacdef init\npassword notParsed99\n\n",
     {("credential-file", "password", "h.example")}),
    (".netrc", "machine github.com login someone password x-oauth-basic\n", set()),
    (".netrc", "machine h.example login u password ${NETRC_PASSWORD}\n", set()),
    (".netrc", "machine h.example login u password changeme\n", set()),
    # .npmrc: _authToken per registry, _auth (base64 user:pass), _password (base64)
    (".npmrc", f"//registry.npmjs.org/:_authToken={TOK}\n",
     {("credential-file", "_authToken", "registry.npmjs.org")}),
    ("proj/.npmrc", f"registry=https://npm.corp.example/\n_auth={B64_AUTH}\nalways-auth=true\n",
     {("credential-file", "_auth", "npm.corp.example")}),
    (".npmrc", f"//npm.pkg.github.com/:username=bob\n//npm.pkg.github.com/:_password={B64_PW}\n",
     {("credential-file", "_password", "npm.pkg.github.com")}),
    (".npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n", {("npm-token", "_authToken", "registry.npmjs.org")}),
    (".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", set()),
    (".npmrc", "_auth=not base64 at all!\n", set()),
    # .pypirc: password per index section, host from repository or the index name
    (".pypirc", f"[distutils]\nindex-servers =\n  pypi\n  corp\n[pypi]\nusername = __token__\n"
     f"password = {PW}\n[corp]\nrepository = https://pkgs.corp.example/simple/\npassword: {TOK}\n",
     {("credential-file", "password", "upload.pypi.org"), ("credential-file", "password", "pkgs.corp.example")}),
    (".pypirc", "[pypi]\nusername = __token__\npassword = <your-pypi-token>\n", set()),
    # .git-credentials and any https://user:token@host URL
    (".git-credentials", f"https://bob:{TOK}@github.example.com\nhttps://x:{PW}@gitlab.example.org/group\n",
     {("credential-file", "password", "github.example.com"), ("credential-file", "password", "gitlab.example.org")}),
    # docker config.json: auths.*.auth base64 user:password, identitytoken
    (".docker/config.json", json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": B64_AUTH},
                                                  "ghcr.io": {"identitytoken": TOK},
                                                  "quay.io": {}}, "credsStore": "desktop"}, indent=2),
     {("docker-auth", "auth", "index.docker.io"), ("credential-file", "identitytoken", "ghcr.io")}),
    ("config.json", json.dumps({"auths": {"r.example": {"auth": base64.b64encode(b"nouser").decode()}}}), set()),
    ("config.json", json.dumps({"name": "not docker", "auth": "none"}), set()),
    # AWS credentials / config
    (".aws/credentials", f"[default]\naws_access_key_id = AKIAQ3E7Q3E7Q3E7Q3E7\n"
     f"aws_secret_access_key = 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\n"
     f"[profile ci]\naws_session_token = {TOK}\n",
     {("aws-access-key-id", None, None), ("credential-file", "aws_secret_access_key", "aws"),
      ("credential-file", "aws_session_token", "aws")}),
    (".aws/config", "[default]\nregion = eu-west-1\noutput = json\n", set()),
    # kubeconfig: user token / client-key-data / password, host from context -> cluster
    (".kube/config", KUBE, {("credential-file", "client-key-data", "k8s.example.com"),
                            ("credential-file", "password", "k8s.example.com"),
                            ("credential-file", "token", "staging.example.com")}),
    ("deploy/prod.kubeconfig", KUBE.replace(f"token: {TOK}", "token: {{ .Values.token }}"),
     {("credential-file", "client-key-data", "k8s.example.com"),
      ("credential-file", "password", "k8s.example.com")}),
    # .pgpass
    (".pgpass", f"# host:port:db:user:password\ndb.example.com:5432:app:app:{PW}\n*:*:*:postgres:pw\\:{TOK}\n",
     {("credential-file", "password", "db.example.com:5432"), ("credential-file", "password", "*")}),
    (".pgpass", "db.example.com:5432:app:app\n", set()),
    # Maven settings.xml: <server><password>, not the encrypted {…} form, not ${env.X}
    ("settings.xml", f"<settings><servers>\n<server>\n  <id>nexus</id>\n  <username>u</username>\n"
     f"  <password>{PW}</password>\n</server>\n<server><id>enc</id><password>{{COQLCE6DU6GtcS5P=}}</password></server>\n"
     "<server><id>env</id><password>${env.DEPLOY_PW}</password></server></servers></settings>\n",
     {("credential-file", "password", "nexus")}),
    # gradle.properties: *Password=, *Token=, *Key=
    ("gradle.properties", f"org.gradle.jvmargs=-Xmx2g\nsigning.password={PW}\nmavenCentralToken={TOK}\n"
     "signing.keyId=ABCDEF12\nsigningPublicKey=abc\ncacheKey=123456\nuseToken=true\n",
     {("credential-file", "signing.password", None), ("credential-file", "mavenCentralToken", None)}),
    # no grammar for an ordinary name: `password x` in prose is nothing
    ("notes.txt", f"machine api.example.com login bob password {PW}\n", set()),
]


def found(path: str, text: str) -> set[tuple[str, str | None, str | None]]:
    return {(f.detector, f.facts.get("field"), f.facts.get("host"))
            for f in SCANNER.scan_bytes(text.encode(), path)}


@pytest.mark.parametrize("path,text,expected", CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_grammars(path: str, text: str, expected: set) -> None:
    assert found(path, text) == expected


def test_value_spans_are_exact_and_never_reported() -> None:
    """The finding's offset/length cover the value's bytes (scrub relies on it); no value in
    repr or JSON."""
    for path, text, _ in CASES:
        data = text.encode()
        for f in SCANNER.scan_bytes(data, path):
            raw = data[f.offset:f.offset + f.length].decode()
            assert raw in (PW, TOK, PW + "x", "acct" + PW, B64_AUTH, B64_PW, NPM, "pw\\:" + TOK,
                           "wJa1rXUtnFEMI/K7MDENG/bPxRfiCYZz9Kq2Lm4X", "AKIAQ3E7Q3E7Q3E7Q3E7",
                           base64.b64encode(KEY_PEM.encode()).decode()), (path, f.detector, raw)
            assert raw not in json.dumps(f.to_json()) and raw not in repr(f)


def test_one_finding_where_the_anchored_scan_sees_the_same_value() -> None:
    """`aws_secret_access_key =` and a URL's userinfo are found by the anchored scan too:
    one finding, with the grammar's facts."""
    text = "https://bob:" + TOK + "@github.example.com\n"
    assert [f.detector for f in SCANNER.scan_bytes(text.encode(), "notes.txt")] == ["url-credentials"]
    [f] = SCANNER.scan_bytes(text.encode(), ".git-credentials")
    assert (f.detector, f.facts["field"], f.facts["host"]) == ("credential-file", "password", "github.example.com")
    text = f"[default]\naws_secret_access_key = {TOK}\n"
    [f] = SCANNER.scan_bytes(text.encode(), ".aws/credentials")
    assert (f.detector, f.severity, f.facts["profile"]) == ("credential-file", "critical", "default")


def test_a_token_inside_a_grammar_value_is_one_finding() -> None:
    """The anchored scan sees a GitHub token starting inside the password: the grammar's
    finding covers it, so the value is reported once."""
    ghp = crc_token("ghp_", "A1b2" * 7 + "Zq")
    assert [f.detector for f in SCANNER.scan_bytes(f"x pre-{ghp}\n".encode(), "notes.txt")] == ["github-token"]
    [f] = SCANNER.scan_bytes(f"machine h.example login u password pre-{ghp}\n".encode(), ".netrc")
    assert (f.detector, f.facts["host"]) == ("credential-file", "h.example")


def test_a_hostile_file_gives_at_most_the_cap() -> None:
    many = "".join(f"machine h{i}.example login u password {PW}{i}\n" for i in range(600))
    assert len(credfiles.netrc(many.encode())) == credfiles.MAX_CANDIDATES
    assert len(credfiles.pgpass("".join(f"h{i}:1:d:u:{PW}\n" for i in range(600)).encode())) == 512


def test_grammar_is_picked_by_name_and_shape() -> None:
    g = credfiles.grammar_for
    assert g("/home/u/.netrc", b"") is credfiles.netrc and g("C:/Users/u/_netrc", b"") is credfiles.netrc
    assert g("/home/u/.docker/config.json", b'{"auths": {}}') is credfiles.docker_config
    assert g("/srv/app/config.json", b'{"port": 1}') is None
    assert g("/home/u/.aws/config", b"") is credfiles.aws
    assert g("/backup/credentials", b"[x]\naws_secret_access_key=1") is credfiles.aws
    assert g("/backup/credentials", b"user=1") is None
    assert g("/home/u/.kube/config", b"") is credfiles.kubeconfig
    assert g("/x/cluster.yaml", b"apiVersion: v1\nkind: Config\nusers:\n") is credfiles.kubeconfig
    assert g("/x/app.yaml", b"kind: Deployment\n") is None
    assert g("/x/README.md", b"") is None


def test_big_or_binary_files_get_no_grammar() -> None:
    line = f"machine h.example login u password {PW}\n".encode()
    assert credfiles.candidates(".netrc", line)
    assert not credfiles.candidates(".netrc", line + b"#" * credfiles.MAX_BYTES)
    assert not credfiles.candidates(".netrc", b"\x00" + line)


def test_streamed_file_gets_its_grammar(tmp_path: Path) -> None:
    """scan_path (the streaming reader that audit uses) runs the grammar as scan_bytes does."""
    d = tmp_path / ".kube"
    d.mkdir()
    (d / "config").write_text(KUBE)
    res = SCANNER.scan_path(str(d / "config"))
    assert {(f.facts["field"], f.facts["host"]) for f in res.findings} == {
        ("client-key-data", "k8s.example.com"), ("password", "k8s.example.com"), ("token", "staging.example.com")}


@pytest.mark.e2e
def test_audit_end_to_end_names_field_and_host(session, tmp_path: Path) -> None:
    root = tmp_path / "home"
    files = {".netrc": CASES[0][1], ".npmrc": f"registry=https://npm.corp.example/\n_auth={B64_AUTH}\n",
             ".pypirc": CASES[12][1], ".git-credentials": CASES[14][1],
             ".docker/config.json": CASES[15][1], ".aws/credentials": CASES[18][1],
             ".kube/config": KUBE, ".pgpass": CASES[22][1], ".m2/settings.xml": CASES[24][1],
             "gradle.properties": CASES[25][1]}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    r = session("audit", "--json", str(root))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    got = {(str(Path(f["path"]).relative_to(root)), f["detector"], f["facts"].get("field"),
            f["facts"].get("host")) for f in doc["findings"]}
    assert (".netrc", "credential-file", "password", "api.example.com") in got
    assert (".npmrc", "credential-file", "_auth", "npm.corp.example") in got
    assert (".pypirc", "credential-file", "password", "pkgs.corp.example") in got
    assert (".git-credentials", "credential-file", "password", "gitlab.example.org") in got
    assert (".docker/config.json", "docker-auth", "auth", "index.docker.io") in got
    assert (".aws/credentials", "credential-file", "aws_secret_access_key", "aws") in got
    assert (".kube/config", "credential-file", "token", "staging.example.com") in got
    assert (".pgpass", "credential-file", "password", "db.example.com:5432") in got
    assert (".m2/settings.xml", "credential-file", "password", "nexus") in got
    assert ("gradle.properties", "credential-file", "mavenCentralToken", None) in got
    assert len(got) == 19, sorted(got)
    text = session("audit", str(root))
    assert text.returncode == 1
    assert b"field=password  host=api.example.com" in text.stdout
    for secret in (PW, TOK, B64_AUTH, "wJa1rXUtnFEMI/K7MDENG/bPxRfiCYZz9Kq2Lm4X"):
        for out in (r.stdout, r.stderr, text.stdout, text.stderr):
            assert secret.encode() not in out
        session.assert_no_leak(secret)
