# ruff: noqa: UP031  (%-formatting, as in gen.py, so the builders read alike)
"""Issue #10's file types for the corpus generator (`gen.py --formats all|new`).

Each builder is `fn(g, target_bytes, plant) -> (text, relpath, labels)`: `g` is gen.py's seeded
generator, `plant` says whether this file carries planted secrets (a file without plants still
carries decoys), `relpath` may hold `{n}` (a per-type counter) so names stay unique, and each
label is `(role, kind, value, context)`: role `plant` (must be found) or `decoy` (must not be),
context `None`, `"docs"` (an example in documentation) or `"test"` (a fixture under tests/): a
finding there is acceptable at low severity. gen.py turns labels into manifest lines by finding
the value in the file (every occurrence for decoys, the first for plants; a multi-line value is
labelled on its first line).
"""

from __future__ import annotations

import base64
import json
import string

try:
    from .fake_tokens import AWS_EXAMPLE_ID, AWS_EXAMPLE_SECRET, Tokens
except ImportError:  # run as a script beside gen.py
    from fake_tokens import AWS_EXAMPLE_ID, AWS_EXAMPLE_SECRET, Tokens

HOSTS = ["github.com", "gitlab.com", "api.heroku.com", "nexus.corp.example.com", "ftp.example.org",
         "registry.example.net", "git.internal.example.com", "bitbucket.org", "artifacts.example.io"]
PLACEHOLDERS = ["changeme", "password", "admin", "REPLACE_ME", "example", "secret", "root", "test"]


class L:
    """Collects a file's labels."""

    def __init__(self, g):
        self.g = g
        self.t = Tokens(g.r)
        self.labels: list[tuple[str, str, str, str | None]] = []

    def p(self, kind: str, value: str, ctx: str | None = None) -> str:
        self.labels.append(("plant", kind, value, ctx))
        return value

    def d(self, kind: str, value: str, ctx: str | None = None) -> str:
        self.labels.append(("decoy", kind, value, ctx))
        return value

    def secret(self) -> tuple[str, str]:
        """A planted credential value: a published-format token or a password."""
        if self.g.r.random() < 0.5:
            return self.t.published()
        return "password", self.t.password()

    def user(self) -> str:
        return self.g.r.choice(["deploy", "ci", "admin", "jenkins", self.g.word(), "%s.%s" % (self.g.word(), self.g.word())])


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (
        label, "\n".join(body[i:i + 64] for i in range(0, len(body), 64)), label)


def fake_rsa_key(g) -> str:
    """PKCS#1 shape (SEQUENCE, version 0, 2048-bit modulus header) with random content."""
    return pem("RSA PRIVATE KEY", b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00" + g.r.randbytes(1180))


def fake_cert(g) -> str:
    return pem("CERTIFICATE", b"\x30\x82\x03\x1d\x30\x82\x02\x05\xa0\x03\x02\x01\x02\x02\x14" + g.r.randbytes(780))


def real_key(g, fmt: str) -> str:
    """A valid private key made from seeded bytes (deterministic), in a chosen PEM encoding."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    if fmt == "ec":
        k = ec.derive_private_key(g.r.getrandbits(255) + 1, ec.SECP256R1())
        return k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode().strip()
    seed = g.r.randbytes(32)
    k = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    if fmt != "openssh":
        return k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode().strip()
    # openssh-key-v1 by hand: cryptography draws its check integers from os.urandom (not seedable)
    pub = k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)

    def st(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b
    blob = st(b"ssh-ed25519") + st(pub)
    check = g.r.randbytes(4)
    prv = check + check + blob + st(seed + pub) + st(("%s@%s" % (g.word(), g.word())).encode())
    prv += bytes(range(1, 1 + (-len(prv)) % 8))
    der = b"openssh-key-v1\x00" + st(b"none") + st(b"none") + st(b"") + (1).to_bytes(4, "big") + st(blob) + st(prv)
    body = base64.b64encode(der).decode()
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----" % (
        "\n".join(body[i:i + 70] for i in range(0, len(body), 70)))


def any_key(g) -> str:
    return g.r.choice([fake_rsa_key, lambda g: real_key(g, "ec"), lambda g: real_key(g, "openssh"),
                       lambda g: real_key(g, "pkcs8")])(g)


def ppk(g) -> str:
    """PuTTY-User-Key-File-3 for an ed25519 key (unencrypted)."""
    pub = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + g.r.randbytes(32)
    prv = b"\x00\x00\x00\x20" + g.r.randbytes(32)
    pb = b64(pub)
    return ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-%d\nPublic-Lines: 2\n%s\n%s\n"
            "Private-Lines: 1\n%s\nPrivate-MAC: %s" % (20240000 + g.r.randint(101, 1231), pb[:64], pb[64:], b64(prv),
                                                     g.hexs(64)))


def sa_jwt(g) -> str:
    """A Kubernetes service-account token (RS256, random signature)."""
    ns, name = g.word(), g.word() + "-sa"
    hdr = {"alg": "RS256", "kid": g.b64url(32)}
    pl = {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": ns,
          "kubernetes.io/serviceaccount/secret.name": "%s-token-%s" % (name, g.chars(string.ascii_lowercase + string.digits, 5)),
          "kubernetes.io/serviceaccount/service-account.name": name,
          "kubernetes.io/serviceaccount/service-account.uid": g.uuid(), "sub": "system:serviceaccount:%s:%s" % (ns, name)}
    return "%s.%s.%s" % (g._seg(hdr), g._seg(pl), g.b64url(256))


def fill(target: int, out: list[str], more) -> None:
    while sum(len(x) + 1 for x in out) < target:
        out.extend(more())


# ---- credential files (item 5) --------------------------------------------------------------

def netrc(g, target, plant):
    lb = L(g)
    out = []
    n_pl = g.r.randint(1, 2) if plant else 0
    for _ in range(n_pl):
        _, v = lb.secret()
        host = g.r.choice(HOSTS)
        if g.r.random() < 0.5:
            out += ["machine %s" % host, "  login %s" % lb.user(), "  password %s" % lb.p("netrc_password", v)]
        else:
            out.append("machine %s login %s password %s" % (host, lb.user(), lb.p("netrc_password", v)))

    def more():
        r = g.r.random()
        if r < 0.3:
            return ["default login anonymous password %s" % lb.d("anonymous_email", "%s@example.com" % g.word())]
        if r < 0.5:
            return ["machine %s.example.com login %s %s" % (g.word(), lb.user(), lb.d(
                "placeholder", "password " + g.r.choice(PLACEHOLDERS)))]
        if r < 0.7:
            return ["machine %s.example.com" % g.word(), "  login %s" % lb.user()]  # password asked for
        return ["", "macdef init", "  cd /pub/%s" % g.word(), "  binary", ""]
    fill(target, out, more)
    return "\n".join(out) + "\n", g.r.choice(["home/u{n}/.netrc", "home/u{n}/_netrc"]), lb.labels


def npmrc(g, target, plant):
    lb = L(g)
    out = ["registry=https://registry.npmjs.org/"]
    if plant:
        c = g.r.randrange(4)
        if c == 0:
            out.append("//registry.npmjs.org/:_authToken=%s" % lb.p("npm_token", lb.t.npm()))
        elif c == 1:
            out.append("//npm.pkg.github.com/:_authToken=%s" % lb.p("github_token", lb.t.github()))
        elif c == 2:
            out.append("//nexus.corp.example.com/repository/npm-group/:_auth=%s" % lb.p(
                "npmrc_auth", b64("%s:%s" % (lb.user(), lb.t.password()))))
        else:
            out += ["//artifacts.example.io/api/npm/npm/:username=%s" % lb.user(),
                    "//artifacts.example.io/api/npm/npm/:_password=%s" % lb.p("npmrc_password", b64(lb.t.password())),
                    "//artifacts.example.io/api/npm/npm/:email=%s@example.com" % g.word()]

    def more():
        r = g.r.random()
        if r < 0.35:
            return ["//%s/:_authToken=%s" % (g.r.choice(["registry.npmjs.org", "npm.pkg.github.com",
                                                        "%s.jfrog.io/artifactory/api/npm/npm" % g.word(),
                                                        "gitlab.example.com/api/v4/projects/%d/packages/npm"
                                                        % g.r.randint(10, 9999)]),
                                        lb.d("env_template", g.r.choice(["${NPM_TOKEN}", "${NODE_AUTH_TOKEN}",
                                                                         "${NPM_AUTH_TOKEN}"])))]
        if r < 0.6:
            return ["@%s:registry=https://npm.pkg.github.com/" % g.word()]
        return [g.r.choice(["always-auth=true", "save-exact=true", "engine-strict=true", "fund=false",
                            "audit-level=high", "legacy-peer-deps=true", "strict-ssl=true",
                            "# %s" % g.sentence()])]
    fill(target, out, more)
    return "\n".join(out) + "\n", "web{n}/.npmrc", lb.labels


def pypirc(g, target, plant):
    lb = L(g)
    sections = [["[pypi]", "username = __token__",
                 "password = %s" % (lb.p("pypi_token", lb.t.pypi()) if plant and g.r.random() < 0.7 else
                                    lb.d("placeholder", g.r.choice(["<your PyPI token>", "pypi-<token>",
                                                                    "YOUR_TOKEN_HERE"])))]]
    names = ["pypi"]
    if g.r.random() < 0.6:
        names.append("testpypi")
        sections.append(["[testpypi]", "repository = https://test.pypi.org/legacy/", "username = __token__",
                         "password = %s" % (lb.p("pypi_token", lb.t.pypi("test.pypi.org")) if plant and g.r.random() < 0.5
                                            else lb.d("placeholder", "<your TestPyPI token>"))])
    while sum(len(x) for s in sections for x in s) < target - 80:
        nm = g.word() + str(len(names))
        names.append(nm)
        if plant and len(names) == 3:
            pw = lb.p("pypirc_password", lb.t.password())
        else:
            pw = lb.d("env_template", "%(" + "%s_PASSWORD)s" % nm.upper()) if g.r.random() < 0.3 else None
        sec = ["[%s]" % nm, "repository = https://%s.example.com/repository/pypi-internal/" % g.word(),
               "username = %s" % lb.user()]
        if pw:
            sec.append("password = %s" % pw)
        sections.append(sec)
    head = ["[distutils]", "index-servers ="] + ["    " + n for n in names]
    return "\n\n".join("\n".join(s) for s in [head] + sections) + "\n", "home/u{n}/.pypirc", lb.labels


def git_credentials(g, target, plant):
    lb = L(g)
    if g.r.random() < 0.5:  # the store helper's file: one URL per line, all real
        out = []
        kinds = [("x-access-token", lambda: lb.t.github("ghs_")), ("oauth2", lb.t.gitlab), (lb.user(), lb.t.github),
                 (lb.user(), lb.t.github_pat), (lb.user(), lambda: lb.t.password(url=True))]
        for _ in range(g.r.randint(1, 3) if plant else 0):
            u, f = g.r.choice(kinds)
            out.append("https://%s:%s@%s" % (u, lb.p("url_credential", f()), g.r.choice(HOSTS)))
        out.append("https://%s@%s" % (lb.user(), g.r.choice(HOSTS)))  # user only: the helper prompts
        return "\n".join(out) + "\n", "home/u{n}/.git-credentials", lb.labels
    out = ["[user]", "\tname = %s %s" % (g.word().title(), g.word().title()), "\temail = %s@example.com" % g.word(),
           "\tsigningkey = %s" % lb.d("gpg_key_id", g.hexs(16).upper()), "[credential]", "\thelper = store",
           "[url \"git@github.com:\"]", "\tinsteadOf = https://github.com/"]
    if plant:
        out += ["[http \"https://git.internal.example.com\"]",
                "\textraHeader = Authorization: Bearer %s" % lb.p("gitconfig_header", lb.t.gitlab())]

    def more():
        return [g.r.choice(["[alias]", "[core]", "[pull]", "[init]"]),
                "\t%s = %s" % (g.word(), g.r.choice(["true", "false", g.word(), "log --oneline --graph"]))]
    fill(target, out, more)
    return "\n".join(out) + "\n", "home/u{n}/.gitconfig", lb.labels


def docker_config(g, target, plant):
    lb = L(g)
    auths = {}
    if plant:
        for host, pw in g.r.sample([("https://index.docker.io/v1/", lb.t.password()), ("ghcr.io", lb.t.github()),
                                    ("registry.gitlab.com", lb.t.gitlab()), ("quay.io", lb.t.password())],
                                   g.r.randint(1, 2)):
            auths[host] = {"auth": lb.p("docker_auth", b64("%s:%s" % (lb.user(), pw)))}
        if g.r.random() < 0.3:
            auths["%s.azurecr.io" % g.word()] = {"auth": "", "identitytoken": lb.p("docker_identitytoken", sa_jwt(g))}
    tutorial = g.r.random() < 0.2  # a tutorial's local registry, logged in with a placeholder
    while len(json.dumps(auths)) < target - 200:
        if not tutorial or "localhost:5000" in auths or g.r.random() < 0.5:
            auths["%s%d.registry.example.com" % (g.word(), len(auths))] = {}  # credentials in the store
        else:
            auths["localhost:5000"] = {"auth": lb.d("placeholder_b64", b64("%s:%s" % (
                g.r.choice(["user", "admin", "testuser"]), g.r.choice(PLACEHOLDERS))))}
    doc = {"auths": auths, "credsStore": g.r.choice(["desktop", "osxkeychain", "pass"]),
           "credHelpers": {"%d.dkr.ecr.us-east-1.amazonaws.com" % g.r.randint(10 ** 11, 10 ** 12 - 1): "ecr-login",
                           "gcr.io": "gcloud"},
           "HttpHeaders": {"User-Agent": "Docker-Client/24.0.%d (linux)" % g.r.randint(0, 9)}}
    return json.dumps(doc, indent="\t") + "\n", "home/u{n}/.docker/config.json", lb.labels


def aws_credentials(g, target, plant):
    lb = L(g)
    if not plant and g.r.random() < 0.5:  # ~/.aws/config: profiles, roles, SSO; no secret
        out = ["[default]", "region = %s" % g.r.choice(["eu-west-1", "us-east-1", "ap-southeast-2"]), "output = json"]

        def more():
            acct = "%012d" % g.r.randint(10 ** 11, 10 ** 12 - 1)
            return ["", "[profile %s]" % g.word(), "role_arn = arn:aws:iam::%s:role/%s" % (acct, g.ident(2, "pascal")),
                    "source_profile = default", "sso_start_url = https://d-%s.awsapps.com/start" % g.hexs(10),
                    "sso_account_id = %s" % acct, "region = eu-central-1"]
        fill(target, out, more)
        return "\n".join(out) + "\n", "home/u{n}/.aws/config", lb.labels
    out = []
    if plant:
        for i in range(g.r.randint(1, 2)):
            sts = g.r.random() < 0.3
            out += ["[%s]" % ("default" if i == 0 else g.word()),
                    "aws_access_key_id = %s" % lb.p("aws_key_id", lb.t.aws_id("ASIA" if sts else "AKIA")),
                    "aws_secret_access_key = %s" % lb.p("aws_secret_key", lb.t.aws_secret())]
            if sts:
                out.append("aws_session_token = %s" % lb.p("aws_session_token", lb.t.aws_session()))
            out.append("")
    if g.r.random() < 0.15:  # the documentation's example pair, copied from a tutorial
        out += ["[example]", "aws_access_key_id = %s" % lb.d("aws_docs_example", AWS_EXAMPLE_ID),
                "aws_secret_access_key = %s" % lb.d("aws_docs_example", AWS_EXAMPLE_SECRET), ""]

    def more():
        return ["[%s]" % g.word(), "credential_process = /usr/local/bin/aws-vault exec %s --json" % g.word(),
                "region = us-west-2", ""]
    fill(target, out, more)
    return "\n".join(out) + "\n", "home/u{n}/.aws/credentials", lb.labels


def kubeconfig(g, target, plant):
    lb = L(g)
    clusters, users, contexts = [], [], []
    n = 0
    while n == 0 or sum(map(len, clusters + users)) < target - 400:
        name = "%s-%s" % (g.word(), g.r.choice(["prod", "staging", "dev"]))
        clusters += ["- cluster:", "    certificate-authority-data: %s" % lb.d("ca_cert_b64", b64(fake_cert(g))),
                     "    server: https://%s.%s.example.com:6443" % (g.word(), g.r.choice(["eks", "gke", "k8s"])),
                     "  name: %s" % name]
        if plant and n == 0:
            if g.r.random() < 0.5:
                users += ["- name: %s-admin" % name, "  user:", "    token: %s" % lb.p("kube_token", sa_jwt(g))]
            else:
                users += ["- name: %s-admin" % name, "  user:",
                          "    client-certificate-data: %s" % lb.d("client_cert_b64", b64(fake_cert(g))),
                          "    client-key-data: %s" % lb.p("kube_client_key", b64(any_key(g)))]
        else:
            users += ["- name: %s-admin" % name, "  user:", "    exec:",
                      "      apiVersion: client.authentication.k8s.io/v1beta1", "      command: aws",
                      "      args: [\"eks\", \"get-token\", \"--cluster-name\", \"%s\"]" % name]
        contexts += ["- context:", "    cluster: %s" % name, "    user: %s-admin" % name, "  name: %s" % name]
        n += 1
    out = ["apiVersion: v1", "clusters:"] + clusters + ["contexts:"] + contexts + [
        "current-context: %s" % contexts[-1].split(": ")[1], "kind: Config", "preferences: {}", "users:"] + users
    return "\n".join(out) + "\n", g.r.choice(["home/u{n}/.kube/config", "deploy{n}/kubeconfig.yaml"]), lb.labels


def pgpass(g, target, plant):
    lb = L(g)
    out = [lb.d("doc_header", "# hostname:port:database:username:password")]
    if plant:
        for _ in range(g.r.randint(1, 2)):
            out.append("%s.%s.rds.amazonaws.com:5432:%s:%s:%s" % (g.word(), g.hexs(12), g.word(), lb.user(),
                                                               lb.p("pgpass_password", lb.t.password())))

    def more():
        return [lb.d("placeholder", "localhost:%d:%s:%s:%s" % (g.r.choice([5432, 5433]), g.r.choice(["*", g.word()]),
                                                                g.word(), g.r.choice(PLACEHOLDERS)))]
    fill(target, out, more)
    return "\n".join(out) + "\n", "home/u{n}/.pgpass", lb.labels


def maven_settings(g, target, plant):
    lb = L(g)
    servers = []

    def server(pw_xml):
        return ["    <server>", "      <id>%s-%s</id>" % (g.word(), g.r.choice(["releases", "snapshots"])),
                "      <username>%s</username>" % lb.user()] + pw_xml + ["    </server>"]
    if plant:
        servers += server(["      <password>%s</password>" % lb.p("maven_password", lb.t.password())])
        if g.r.random() < 0.3:
            servers += server(["      <privateKey>${user.home}/.ssh/id_rsa</privateKey>",
                               "      <passphrase>%s</passphrase>" % lb.p("maven_passphrase", lb.t.password())])
    while sum(len(x) for x in servers) < target - 600:
        r = g.r.random()
        if r < 0.4:  # mvn --encrypt-password output: ciphertext on purpose
            servers += server(["      <password>%s</password>" % lb.d("maven_encrypted", "{%s=}" % g.b64(24)[:-2])])
        elif r < 0.8:
            servers += server(["      <password>%s</password>" % lb.d("env_template", "${env.%s_PASSWORD}" % g.word().upper())])
        else:
            servers += server([])
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"',
           '          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
           '          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">',
           "  <localRepository>${user.home}/.m2/repository</localRepository>", "  <servers>"] + servers + [
           "  </servers>", "  <mirrors>", "    <mirror>", "      <id>central-proxy</id>", "      <mirrorOf>central</mirrorOf>",
           "      <url>https://nexus.corp.example.com/repository/maven-public/</url>", "    </mirror>", "  </mirrors>",
           "</settings>"]
    return "\n".join(out) + "\n", "home/u{n}/.m2/settings.xml", lb.labels


def gradle_properties(g, target, plant):
    lb = L(g)
    out = ["org.gradle.jvmargs=-Xmx%dm -Dfile.encoding=UTF-8" % g.r.choice([2048, 4096]), "org.gradle.parallel=true",
           "android.useAndroidX=true", "kotlin.code.style=official",
           "signing.keyId=%s" % lb.d("gpg_key_id", g.hexs(8).upper()),
           "signing.secretKeyRingFile=/home/%s/.gnupg/secring.gpg" % g.word()]
    if plant:
        key = g.r.choice(["signing.password", "ossrhPassword", "mavenCentralPassword", "artifactory_password",
                          "systemProp.https.proxyPassword"])
        out.insert(g.r.randint(1, len(out)), "%s=%s" % (key, lb.p("gradle_password", lb.t.password())))

    def more():
        r = g.r.random()
        if r < 0.04:
            return [lb.d("placeholder", "%sPassword=%s" % (g.word(), g.r.choice(PLACEHOLDERS)))]
        return ["%s.%s=%s" % (g.word(), g.ident(1, "camel"), g.r.choice(["true", "false", str(g.r.randint(1, 64)),
                                                                           "%d.%d.%d" % (g.r.randint(0, 9), g.r.randint(0, 20), g.r.randint(0, 9))]))]
    fill(target, out, more)
    return "\n".join(out) + "\n", "android{n}/gradle.properties", lb.labels


# ---- Kubernetes and encrypted-on-purpose files (items 1, 2) ----------------------------------

def _filler_manifest(g):
    name = g.word() + "-" + g.word()
    return ["---", "apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: %s" % name,
            "  labels:", "    app: %s" % name, "spec:", "  replicas: %d" % g.r.randint(1, 5), "  selector:",
            "    matchLabels:", "      app: %s" % name, "  template:", "    spec:", "      containers:",
            "        - name: %s" % name, "          image: ghcr.io/%s/%s@sha256:%s" % (g.word(), name, g.hexs(64)),
            "          envFrom:", "            - secretRef:", "                name: %s-secret" % name,
            "          ports:", "            - containerPort: %d" % g.r.choice([80, 8080, 3000])]


def k8s_secret(g, target, plant):
    lb = L(g)
    out = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: %s-secret" % g.word(),
           "  namespace: %s" % g.word(), "type: Opaque", "data:"]
    if plant:
        kind, v = lb.secret()
        out.append("  %s: %s" % (g.r.choice(["api-token", "password", "client-secret", "API_KEY"]),
                                 lb.p("k8s_data_b64", b64(v))))
    out += ["  %s: %s" % (g.r.choice(["DB_PASSWORD", "password", "admin-password"]),
                          lb.d("placeholder_b64", b64(g.r.choice(PLACEHOLDERS)))),
            "  DB_HOST: %s" % lb.d("plain_b64", b64("%s.%s.svc.cluster.local" % (g.word(), g.word()))),
            "  DB_USER: %s" % lb.d("plain_b64", b64(g.word()))]
    if plant and g.r.random() < 0.5:
        out += ["stringData:", "  %s: %s" % (g.r.choice(["token", "webhook-secret"]), lb.p("k8s_string_data", lb.secret()[1]))]
    if g.r.random() < 0.3:
        out += ["---", "apiVersion: v1", "kind: Secret", "metadata:", "  name: %s-tls" % g.word(),
                "type: kubernetes.io/tls", "data:", "  tls.crt: %s" % lb.d("tls_cert_b64", b64(fake_cert(g))),
                "  tls.key: %s" % (lb.p("k8s_tls_key", b64(any_key(g))) if plant else "\"\"")]
    fill(target, out, lambda: _filler_manifest(g))
    return "\n".join(out) + "\n", "deploy{n}/k8s/%s-secret.yaml" % g.word(), lb.labels


def sealed_value(g) -> str:
    """kubeseal's output: 2-byte length, RSA-OAEP(4096) session key, AES-GCM body; base64."""
    return b64(b"\x02\x00" + g.r.randbytes(512 + g.r.randint(20, 90)))


def sealed_secret(g, target, plant):
    lb = L(g)
    name = g.word() + "-secret"
    out = ["apiVersion: bitnami.com/v1alpha1", "kind: SealedSecret", "metadata:", "  creationTimestamp: null",
           "  name: %s" % name, "  namespace: %s" % g.word(), "spec:", "  encryptedData:"]
    for _ in range(g.r.randint(1, 6)):
        out.append("    %s: %s" % (g.r.choice(["password", "api-token", "client-secret", "DB_URL", g.word()]),
                                   lb.d("sealed_ciphertext", sealed_value(g))))
    out += ["  template:", "    metadata:", "      name: %s" % name, "    type: Opaque"]
    if plant:  # the unsealed original committed beside it: a real leak
        out += ["---", "apiVersion: v1", "kind: Secret", "metadata:", "  name: %s" % name, "stringData:",
                "  password: %s" % lb.p("k8s_string_data", lb.secret()[1])]
    fill(target, out, lambda: _filler_manifest(g))
    return "\n".join(out) + "\n", "deploy{n}/sealed/%s.yaml" % name, lb.labels


def sops_enc(g, typ: str = "str", n: int | None = None) -> str:
    n = n or g.r.randint(6, 60)
    return "ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]" % (g.b64(n), g.b64(32), g.b64(16), typ)


def sops(g, target, plant):
    lb = L(g)
    flavour = g.r.choice(["yaml", "yaml", "json", "dotenv"])
    keys = []
    while sum(len(k) + 100 for k, _ in keys) < target - 900:
        keys.append((g.ident(2), lb.d("sops_enc", sops_enc(g))))
    plain = ("api_token_unencrypted", lb.p("sops_plaintext", lb.secret()[1])) if plant else None
    age_rcpt = lb.d("age_recipient", "age1" + g.chars(string.ascii_lowercase + string.digits, 58))
    armor = [lb.d("age_armor", g.b64(48)[:64]) for _ in range(4)]
    mac = lb.d("sops_enc", sops_enc(g, "str", 32))
    lm = g.iso()[:19] + "Z"
    if flavour == "dotenv":
        out = ["%s=%s" % (k.upper(), v) for k, v in keys]
        if plain:
            out.append("API_TOKEN_UNENCRYPTED=%s" % plain[1])
        out += ["sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\n%s\\n-----END AGE ENCRYPTED FILE-----\\n"
                % "\\n".join(armor), "sops_age__list_0__map_recipient=%s" % age_rcpt, "sops_lastmodified=%s" % lm,
                "sops_mac=%s" % mac, "sops_unencrypted_suffix=_unencrypted", "sops_version=3.8.1"]
        return "\n".join(out) + "\n", "secrets{n}/%s.enc.env" % g.word(), lb.labels
    doc = dict(keys)
    if plain:
        doc[plain[0]] = plain[1]
    doc["sops"] = {"kms": None, "gcp_kms": None, "azure_kv": None, "hc_vault": None,
                   "age": [{"recipient": age_rcpt, "enc": "-----BEGIN AGE ENCRYPTED FILE-----\n%s\n"
                            "-----END AGE ENCRYPTED FILE-----\n" % "\n".join(armor)}],
                   "lastmodified": lm, "mac": mac, "pgp": None, "unencrypted_suffix": "_unencrypted", "version": "3.8.1"}
    if flavour == "json":
        return json.dumps(doc, indent="\t") + "\n", "secrets{n}/%s.enc.json" % g.word(), lb.labels
    out = []
    for k, v in doc.items():
        if k != "sops":
            out.append("%s: %s" % (k, v))
    out += ["sops:", "    kms: []", "    age:", "        - recipient: %s" % age_rcpt, "          enc: |",
            "            -----BEGIN AGE ENCRYPTED FILE-----"] + ["            " + a for a in armor] + [
        "            -----END AGE ENCRYPTED FILE-----", "    lastmodified: \"%s\"" % lm, "    mac: %s" % mac,
        "    pgp: []", "    unencrypted_suffix: _unencrypted", "    version: 3.8.1"]
    return "\n".join(out) + "\n", "secrets{n}/%s.enc.yaml" % g.word(), lb.labels


def _vault_lines(g, lb, nbytes: int, indent: str = "") -> list[str]:
    hx = g.hexs(64) + "\n" + g.hexs(64) + "\n" + g.r.randbytes(max(16, nbytes // 2)).hex()
    body = hx.encode().hex()
    return [indent + lb.d("ansible_vault_body", body[i:i + 80]) for i in range(0, len(body), 80)]


def ansible_vault(g, target, plant):
    lb = L(g)
    if not plant and g.r.random() < 0.5:  # a whole file encrypted with ansible-vault
        out = [lb.d("ansible_vault_header", "$ANSIBLE_VAULT;1.1;AES256")] + _vault_lines(g, lb, target // 4)
        return "\n".join(out) + "\n", "ansible{n}/group_vars/%s/vault.yml" % g.word(), lb.labels
    out = ["---"]
    while sum(len(x) + 1 for x in out) < target:
        r = g.r.random()
        name = g.ident(2)
        if r < 0.3:
            out += ["%s: !vault |" % name, "          " + lb.d("ansible_vault_header", "$ANSIBLE_VAULT;1.1;AES256")]
            out += _vault_lines(g, lb, g.r.randint(20, 80), "          ")
        elif r < 0.55:
            out.append("%s_password: \"%s\"" % (g.word(), lb.d("jinja_template", "{{ vault_%s }}" % name)))
        else:
            out.append("%s: %s" % (name, g.r.choice([g.word(), str(g.r.randint(1, 9999)), "true",
                                                     "/opt/%s/%s" % (g.word(), g.word())])))
    if plant:
        out.insert(g.r.randint(1, len(out)), "%s_api_token: %s" % (g.word(), lb.p("ansible_plaintext", lb.secret()[1])))
    return "\n".join(out) + "\n", "ansible{n}/group_vars/%s/vars.yml" % g.word(), lb.labels


def dotenvx(g, target, plant):
    lb = L(g)
    if plant and g.r.random() < 0.3:  # .env.keys: the private key; never meant to be committed
        out = ["#/------------------!DOTENV_PRIVATE_KEYS!-------------------/",
               "#/ private decryption keys. DO NOT commit to source control /",
               "#/     [how it works](https://dotenvx.com/encryption)       /",
               "#/----------------------------------------------------------/", "", "# .env",
               "DOTENV_PRIVATE_KEY=%s" % lb.p("dotenvx_private_key", g.hexs(64))]
        return "\n".join(out) + "\n", "app{n}/.env.keys", lb.labels
    out = ["#/-------------------[DOTENV_PUBLIC_KEY]--------------------/",
           "#/            public-key encryption for .env files          /",
           "#/       [how it works](https://dotenvx.com/encryption)     /",
           "#/----------------------------------------------------------/",
           "DOTENV_PUBLIC_KEY=\"%s\"" % lb.d("dotenvx_public_key", g.r.choice(["02", "03"]) + g.hexs(64)), "", "# .env"]

    def more():
        if g.r.random() < 0.6:
            return ["%s=\"encrypted:%s\"" % (g.ident(2).upper(), lb.d("dotenvx_encrypted", "encrypted:" + b64(
                b"\x04" + g.r.randbytes(64 + 16 + 16 + g.r.randint(8, 60))))[len("encrypted:"):])]
        return ["%s=%s" % (g.ident(2).upper(), g.r.choice([g.word(), str(g.r.randint(1, 9999)), "true"]))]
    fill(target, out, more)
    if plant:
        out.insert(g.r.randint(7, len(out)), "%s=%s" % (g.r.choice(["STRIPE_KEY", "GITHUB_TOKEN", "API_KEY"]),
                                                        lb.p("dotenvx_plaintext", lb.secret()[1])))
    return "\n".join(out) + "\n", "app{n}/.env.production", lb.labels


# ---- templates and placeholders (item 4) -----------------------------------------------------

def auth0_deploy(g, target, plant):
    lb = L(g)
    if g.r.random() < 0.4:
        cfg = {"AUTH0_DOMAIN": g.domain(), "AUTH0_CLIENT_ID": lb.d("auth0_client_id", g.client_id()),
               "AUTH0_CLIENT_SECRET": lb.p("auth0_client_secret", g.client_secret64()) if plant else
               lb.d("auth0_keyword", "##AUTH0_CLIENT_SECRET##"),
               "AUTH0_KEYWORD_REPLACE_MAPPINGS": {"AUTH0_TENANT_NAME": g.word(),
                                                  "ALLOWED_ORIGINS": ["https://%s.example.com" % g.word()]},
               "AUTH0_ALLOW_DELETE": False, "AUTH0_EXCLUDED_RULES": [g.ident(2) for _ in range(g.r.randint(0, 3))]}
        return json.dumps(cfg, indent=2) + "\n", "auth0-{n}/config.json", lb.labels
    out = ["tenant:", "  friendly_name: '##AUTH0_TENANT_NAME##'", "  support_email: support@example.com",
           "clients:"]
    lb.d("auth0_keyword", "##AUTH0_TENANT_NAME##")
    while sum(len(x) + 1 for x in out) < target:
        nm = g.ident(2, "pascal")
        kw = "##%s_CLIENT_SECRET##" % nm.upper()
        out += ["  - name: %s" % nm, "    app_type: %s" % g.r.choice(["spa", "regular_web", "non_interactive"]),
                "    allowed_origins: %s" % lb.d("auth0_array_keyword", "@@ALLOWED_ORIGINS@@"),
                "    callbacks:", "      - https://%s.example.com/callback" % g.word(),
                "    client_secret: '%s'" % lb.d("auth0_keyword", kw)]
        if g.r.random() < 0.3:
            out += ["connections:", "  - name: google-oauth2", "    strategy: google-oauth2", "    options:",
                    "      client_id: '%s'" % lb.d("auth0_keyword", "##GOOGLE_CLIENT_ID##"),
                    "      client_secret: '%s'" % lb.d("auth0_keyword", "##GOOGLE_CLIENT_SECRET##")]
        if g.r.random() < 0.2:
            out += ["emailProvider:", "  name: sendgrid", "  credentials:",
                    "    api_key: '%s'" % lb.d("auth0_keyword", "##SENDGRID_API_KEY##")]
    if plant:  # one client's real secret pasted over its keyword
        out.append("  - name: %s" % g.ident(2, "pascal"))
        out.append("    client_secret: '%s'" % lb.p("auth0_client_secret", g.client_secret64()))
    return "\n".join(out) + "\n", "auth0-{n}/tenant.yaml", lb.labels


def helm_template(g, target, plant):
    lb = L(g)
    out = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: {{ include \"%s.fullname\" . }}" % g.word(),
           "  labels:", "    {{- include \"%s.labels\" . | nindent 4 }}" % g.word(), "type: Opaque", "data:"]
    while sum(len(x) + 1 for x in out) < target:
        k = g.ident(1, "camel") + g.r.choice(["Password", "Token", "Secret", "ApiKey"])
        out.append("  %s: %s" % (k, lb.d("helm_template", g.r.choice([
            "{{ .Values.%s | b64enc | quote }}" % k, "{{ required \"%s is required\" .Values.%s | b64enc }}" % (k, k),
            "{{ .Values.auth.%s | default (randAlphaNum 32) | b64enc | quote }}" % k]))))
    if plant:  # a value pasted into the template instead of values.yaml
        out.append("  %s: %s" % (g.r.choice(["apiToken", "adminPassword"]), lb.p("k8s_data_b64", b64(lb.secret()[1]))))
    return "\n".join(out) + "\n", "charts{n}/%s/templates/secret.yaml" % g.word(), lb.labels


def gh_actions(g, target, plant):
    lb = L(g)
    out = ["name: %s" % g.r.choice(["CI", "Release", "Deploy"]), "on:", "  push:", "    branches: [main]", "jobs:"]
    while sum(len(x) + 1 for x in out) < target:
        job = g.word()
        s1 = g.r.choice(["NPM_TOKEN", "DOCKERHUB_TOKEN", "PYPI_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"])
        out += ["  %s:" % job, "    runs-on: ubuntu-latest", "    env:",
                "      %s: %s" % (s1, lb.d("gha_expression", "${{ secrets.%s }}" % s1)),
                "    steps:", "      - uses: actions/checkout@v4",
                "      - uses: docker/login-action@v3", "        with:", "          username: ${{ vars.DOCKER_USER }}",
                "          password: %s" % lb.d("gha_expression", "${{ secrets.%s_PASSWORD }}" % job.upper()),
                "      - run: npm ci && npm test", "        env:",
                "          NODE_AUTH_TOKEN: %s" % lb.d("gha_expression", "${{ steps.%s.outputs.token }}" % job)]
    if plant:
        out.insert(8, "      %s: %s" % (g.r.choice(["GH_TOKEN", "SLACK_TOKEN", "API_KEY"]),
                                         lb.p("gha_hardcoded", lb.t.published()[1])))
    return "\n".join(out) + "\n", "repo{n}/.github/workflows/%s.yml" % g.word(), lb.labels


def terraform(g, target, plant):
    lb = L(g)
    out = ['terraform {', '  required_providers {', '    aws = { source = "hashicorp/aws", version = "~> 5.0" }',
           '  }', '}', '']
    while sum(len(x) + 1 for x in out) < target:
        nm = g.ident(2)
        r = g.r.random()
        if r < 0.5:
            out += ['resource "aws_db_instance" "%s" {' % nm, '  identifier = "%s"' % nm.replace("_", "-"),
                    '  username   = "%s"' % g.word(),
                    '  password   = %s' % lb.d("tf_expression", g.r.choice(["var.%s_password" % nm,
                                                                            '"${var.%s_password}"' % nm,
                                                                            "random_password.%s.result" % nm,
                                                                            'data.aws_secretsmanager_secret_version.%s.secret_string' % nm])),
                    '}', '']
        else:
            out += ['variable "%s_token" {' % nm, '  type      = string', '  sensitive = true',
                    lb.d("placeholder", '  default   = "%s"' % g.r.choice(["", "changeme", "REPLACE_ME"])), '}', '']
    if plant:
        out += ['provider "github" {', '  token = "%s"' % lb.p("tf_hardcoded", lb.t.github()), '}']
    return "\n".join(out) + "\n", "infra{n}/%s.tf" % g.word(), lb.labels


# ---- code and context (item 3) ---------------------------------------------------------------

CODE_DECOYS = {
    "py": ["password = get_password(user)", "password = os.environ[\"%s_PASSWORD\"]", "self.password = password",
           "token = f\"{prefix}{suffix}\"", "password = kwargs.get(\"password\")", "api_key = settings.%s_API_KEY",
           "secret = base64.b64decode(secret_b64)", "password = getpass.getpass(\"Password: \")"],
    "c": ["c->password = g_strdup(password);", "conn->passwd = strdup(pw);", "cfg->token = xstrdup(argv[i]);",
          "password = getenv(\"%s_PASSWORD\");", "opts->secret = config_get_string(cfg, \"secret\");"],
    "java": ["String password = System.getenv(\"%s_PASSWORD\");", "this.password = password;",
             "String token = request.getHeader(\"Authorization\");", "char[] password = console.readPassword();"],
    "go": ["Password: os.Getenv(\"%s_PASSWORD\"),", "token := r.Header.Get(\"Authorization\")",
           "cfg.Password = viper.GetString(\"db.password\")"],
    "min.js": ["w.password=encodeURIComponent(e)", "n.token=t.accessToken", "r.password=o.value",
               "e.secret=a(n.clientSecret)", "t.apiKey=process.env.%s_API_KEY"],
}
CODE_NEUTRAL = {"py": "count = len(%s)", "c": "n = strlen(%s);", "java": "int n = %s.size();",
                "go": "n := len(%s)", "min.js": "n.count=o.%s.length"}
CODE_PLANTS = {
    "py": '%s = "%s"', "c": 'static const char *%s = "%s";', "java": 'private static final String %s = "%s";',
    "go": '%s := "%s"', "min.js": 'var %s="%s";',
}


def code_creds(g, target, plant):
    lb = L(g)
    lang = g.r.choice(list(CODE_DECOYS))
    out = []
    while sum(len(x) + 1 for x in out) < target:
        if g.r.random() < 0.5:
            d = g.r.choice(CODE_DECOYS[lang])
            if "%s" in d:
                d = d % g.word().upper()
            lb.d("code_expression", d)
        else:
            d = CODE_NEUTRAL[lang] % g.word()
        if lang == "min.js":
            out.append("function %s(e,t){var n={},w={},o=e;%s;return %s(n,w)}" % (g.ident(1), d, g.ident(1)))
        elif lang == "py":
            out += ["def %s(user, **kwargs):" % g.ident(2), '    """%s"""' % g.sentence(), "    " + d,
                    "    return %s(user, %s)" % (g.ident(2), d.split(" = ")[0].split(".")[-1]), ""]
        else:
            out += ["    /* %s */" % g.sentence(), "    " + d, "    %s(%s);" % (g.ident(2, "camel"), g.word())]
    if plant:
        name = g.r.choice(["DB_PASSWORD", "password", "API_TOKEN", "apiKey", "ADMIN_PASS"])
        kind, v = lb.secret()
        line = CODE_PLANTS[lang] % (name, lb.p("hardcoded_" + ("password" if kind == "password" else "token"), v))
        out.insert(g.r.randint(0, len(out)), line)
    return "\n".join(out) + "\n", "src{n}/%s.%s" % (g.ident(2), lang), lb.labels


# Keys and values that only code writes so (PHP variables and `define`, subscripts, quoted
# pairs in calls): `%(k)s` is the key, `%(v)s` the value, `%(q)s` the quote.
CONFIG_PLANTS = {
    "php": ["define( %(q)s%(k)s%(q)s, %(q)s%(v)s%(q)s );", "$%(kl)s = %(q)s%(v)s%(q)s;",
            "$config[%(q)s%(kl)s%(q)s] = %(q)s%(v)s%(q)s;", "    %(q)s%(kl)s%(q)s => %(q)s%(v)s%(q)s,"],
    "py": ["os.environ[%(q)s%(k)s%(q)s] = %(q)s%(v)s%(q)s", "app.config[%(q)s%(k)s%(q)s] = %(q)s%(v)s%(q)s",
           "os.environ.setdefault(%(q)s%(k)s%(q)s, %(q)s%(v)s%(q)s)"],
    "js": ["process.env[%(q)s%(k)s%(q)s] = %(q)s%(v)s%(q)s;", "headers[%(q)s%(kh)s%(q)s] = %(q)s%(v)s%(q)s;",
           "  auth: { user: %(q)sdeploy@example.com%(q)s, pass: %(q)s%(v)s%(q)s },",
           "const cfg = { dbPass: %(q)s%(v)s%(q)s };"],
    "java": ["props.setProperty(\"%(kd)s\", \"%(v)s\");", "System.setProperty(\"%(kd)s\", \"%(v)s\");"],
    "go": ["os.Setenv(\"%(k)s\", \"%(v)s\")"],
    "rb": ["ENV[%(q)s%(k)s%(q)s] = %(q)s%(v)s%(q)s", "config.%(kl)s = %(q)s%(v)s%(q)s"],
}
# The same shapes holding code, labels, field lists and placeholders: never a finding
CONFIG_DECOYS = {
    "php": ["define( 'DB_PASSWORD', getenv('DB_PASSWORD') );", "define( 'AUTH_KEY', 'put your unique phrase here' );",
            "define( 'DB_PASSWORD', 'password_here' );", "$db_pass = $_ENV['DB_PASS'];",
            "$config['api_token'] = env('API_TOKEN');", "$labels['password'] = 'Password';",
            "$rules = ['password', 'password_confirmation', 'api_token'];", "if ($token == $expected) {",
            "echo \"$api_token: refreshed\";"],
    "py": ["os.environ[\"API_TOKEN\"] = token", "os.environ.setdefault(\"DB_PASSWORD\", \"changeme\")",
           "SENSITIVE = (\"password\", \"api_secret\", \"client_secret\")", "t(\"password\", \"Password\")",
           "labels[\"password\"] = \"Enter your password\"", "d[\"secret_key\"] = settings.SECRET_KEY",
           "parser.add_argument(\"--token\", \"-t\")"],
    "js": ["headers['x-api-key'] = apiKey;", "process.env['GITHUB_TOKEN'] = token;",
           "i18n.set('password', 'Mot de passe');", "const FIELDS = ['password', 'passwordConfirm'];",
           "  auth: { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS },",
           "const stats = { pass: 1204, fail: 3, firstPass: 'depth-prepass' };"],
    "java": ["props.setProperty(\"db.password\", password);", "labels.put(\"password\", \"Password\");"],
    "go": ["os.Setenv(\"API_TOKEN\", tok)", "flag.String(\"token\", \"\", \"API token\")"],
    "rb": ["ENV['API_TOKEN'] = token", "config.password = ENV.fetch('DB_PASSWORD')"],
}
CONFIG_NEUTRAL = {"php": "$n = count($%s);", "py": "count = len(%s)", "js": "const n = %s.length;",
                  "java": "int n = %s.size();", "go": "n := len(%s)", "rb": "n = %s.size"}
CONFIG_KEYS = ["DB_PASSWORD", "API_TOKEN", "SECRET_KEY", "AUTH_KEY", "SMTP_PASSWORD", "STRIPE_SECRET"]


def code_config(g, target, plant):
    """PHP, Python, JS, Java, Go and Ruby settings files: `wp-config.php`, `settings.py`."""
    lb = L(g)
    lang = g.r.choice(list(CONFIG_PLANTS))
    q = "'" if lang in ("php", "rb") or g.r.random() < 0.5 else '"'
    out = ["<?php"] if lang == "php" else []
    while sum(len(x) + 1 for x in out) < target:
        if g.r.random() < 0.4:
            d = g.r.choice(CONFIG_DECOYS[lang])
            out.append(d)
            lb.d("config_code", d)
        else:
            out.append(CONFIG_NEUTRAL[lang] % g.word())
    if plant:
        for _ in range(g.r.randint(1, 2)):
            k = g.r.choice(CONFIG_KEYS)
            kind, v = lb.secret()
            if kind == "password" and not k.endswith(("PASSWORD", "PASS")):
                k = "DB_PASSWORD"
            kl = k.lower()
            shapes = [x for x in CONFIG_PLANTS[lang] if kind == "password" or "pass:" not in x and "Pass:" not in x]
            line = g.r.choice(shapes) % {
                "k": k, "kl": kl, "kd": kl.replace("_", "."), "kh": "x-" + kl.replace("_", "-"), "q": q,
                "v": lb.p("config_" + ("password" if kind == "password" else "token"), v)}
            out.insert(g.r.randint(1 if lang == "php" else 0, len(out)), line)
    name = {"php": "wp-config.php", "py": "settings.py", "js": "config.js", "java": "Config.java",
            "go": "config.go", "rb": "config.rb"}[lang]
    return "\n".join(out) + "\n", "app{n}/%s" % name, lb.labels


DOC_EXAMPLES = [
    "postgresql://user:password@localhost:5432/mydb", "https://admin:secret@example.com/api",
    "mongodb://myUser:myPassword@db0.example.com:27017/?authSource=admin", "redis://:p4ssw0rd@localhost:6379/0",
    "amqp://guest:guest@localhost:5672/", "curl -H \"Authorization: Bearer YOUR_TOKEN\" https://api.example.com/v1/me",
    ("Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
     "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
     "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"),
    "export GITHUB_TOKEN=<your-token>", "api_key = \"sk-...\"  # your OpenAI key",
]


def docs(g, target, plant):
    lb = L(g)
    md = g.r.random() < 0.6
    out = []
    while sum(len(x) + 1 for x in out) < target:
        ex = (lb.d("docs_example", g.r.choice(DOC_EXAMPLES), "docs") if g.r.random() < 0.5 else
              "%s %s --%s" % (g.word(), g.word(), g.word()))
        if md:
            out += ["## %s" % g.sentence(3)[:-1].title(), "", g.sentence(), g.sentence(), "", "```", ex, "```", ""]
        else:
            out += ["def %s(url):" % g.ident(2), '    """%s' % g.sentence(), "", "    Example::", "",
                    "        >>> %s(\"%s\")" % (g.ident(1), ex.replace('"', "'")), '    """',
                    "    return _%s(url)" % g.word(), ""]
            if lb.labels and lb.labels[-1][2] == ex:
                lb.labels[-1] = ("decoy", "docs_example", ex.replace('"', "'"), "docs")
    if plant:  # a real token pasted into a README is still a leak
        k, v = lb.t.published()
        out.insert(g.r.randint(0, len(out)), "    export %s=%s" % (g.r.choice(["GITHUB_TOKEN", "API_KEY"]), lb.p(k, v, "docs")))
    return "\n".join(out) + "\n", ("docs{n}/README.md" if md else "lib{n}/%s.py" % g.ident(2)), lb.labels


def keys(g, target, plant):
    lb = L(g)
    if plant:
        c = g.r.randrange(3)
        if c == 0:
            return lb.p("private_key", ppk(g)) + "\n", "home/u{n}/.ssh/%s.ppk" % g.word(), lb.labels
        k = any_key(g)
        return lb.p("private_key", k) + "\n", g.r.choice(["home/u{n}/.ssh/id_%s" % g.word(), "deploy{n}/certs/server.key",
                                                         "deploy{n}/%s.pem" % g.word()]), lb.labels
    c = g.r.randrange(4)
    if c == 0:  # a key made for a test suite, under tests/: low, with its context named
        return (lb.d("test_private_key", any_key(g), "test") + "\n",
                g.r.choice(["pkg{n}/tests/fixtures/%s_key.pem" % g.word(), "pkg{n}/test/data/id_rsa"]), lb.labels)
    if c == 1:
        out = [lb.d("certificate", fake_cert(g)) for _ in range(g.r.randint(1, 3))]
        return "\n".join(out) + "\n", "deploy{n}/certs/%s.crt" % g.word(), lb.labels
    out = []
    fill(target, out, lambda: ["ssh-%s %s %s@%s" % ("ed25519", lb.d("ssh_public_key", b64(
        b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + g.r.randbytes(32))), g.word(), g.word())])
    return "\n".join(out) + "\n", "home/u{n}/.ssh/authorized_keys", lb.labels


def token_env(g, target, plant):
    """Shell start-up files and .envrc: where published-format tokens get pasted (item 6)."""
    lb = L(g)
    out = ["# ~/.%s" % g.r.choice(["bashrc", "zshrc", "envrc"]), "export PATH=\"$HOME/.local/bin:$PATH\"",
           "export EDITOR=vim"]
    while sum(len(x) + 1 for x in out) < target:
        r = g.r.random()
        if r < 0.45:
            out.append("export %s=${%s:-%s}" % (g.word().upper(), g.word().upper(), lb.d("shell_default", g.r.choice(
                ["changeme", "localhost", "dev-secret", "http://localhost:8080"]))))
        elif r < 0.6:
            out.append("alias %s='%s'" % (g.word(), g.r.choice(["ls -la", "git status", "kubectl get pods"])))
        else:
            out.append("export %s_%s=%s" % (g.word().upper(), g.word().upper(), g.r.choice([g.word(), str(g.r.randint(1, 99999))])))
    for _ in range(g.r.randint(0, 2)):  # a look-alike or two: a doc example, a wrong checksum
        k, v = lb.t.lookalike()
        out.insert(g.r.randint(1, len(out)), "export %s_TOKEN=\"%s\"" % (g.word().upper(), lb.d(k, v)))
    if plant:
        for _ in range(g.r.randint(1, 3)):
            k, v = lb.t.published()
            out.insert(g.r.randint(1, len(out)), "export %s=%s" % (k.upper(), lb.p(k, v)))
    return "\n".join(out) + "\n", g.r.choice(["home/u{n}/.bashrc", "home/u{n}/.zshrc", "repo{n}/.envrc"]), lb.labels


# type: (builder, share of bytes, mean size, size spread, chance a file carries plants)
# Shares add to 0.25 (gen.py's own types add to 1.0): at 40 MB, ~8 MB of these files.
TYPES = {
    "netrc": (netrc, 0.004, 300, 0.5, 0.6),
    "npmrc": (npmrc, 0.004, 350, 0.5, 0.6),
    "pypirc": (pypirc, 0.004, 500, 0.5, 0.6),
    "git_credentials": (git_credentials, 0.004, 400, 0.5, 0.6),
    "docker_config": (docker_config, 0.006, 800, 0.5, 0.6),
    "aws_credentials": (aws_credentials, 0.006, 600, 0.5, 0.6),
    "kubeconfig": (kubeconfig, 0.02, 6000, 0.6, 0.5),
    "pgpass": (pgpass, 0.003, 250, 0.5, 0.6),
    "maven_settings": (maven_settings, 0.01, 2500, 0.5, 0.5),
    "gradle_properties": (gradle_properties, 0.006, 700, 0.5, 0.5),
    "k8s_secret": (k8s_secret, 0.02, 4000, 0.6, 0.5),
    "sealed_secret": (sealed_secret, 0.02, 5000, 0.6, 0.25),
    "sops": (sops, 0.015, 3000, 0.6, 0.3),
    "ansible_vault": (ansible_vault, 0.015, 4000, 0.6, 0.3),
    "dotenvx": (dotenvx, 0.008, 1500, 0.5, 0.3),
    "auth0_deploy": (auth0_deploy, 0.01, 3000, 0.6, 0.3),
    "helm_template": (helm_template, 0.008, 1200, 0.5, 0.3),
    "gh_actions": (gh_actions, 0.01, 2500, 0.5, 0.3),
    "terraform": (terraform, 0.01, 3000, 0.6, 0.3),
    "code_creds": (code_creds, 0.02, 6000, 0.7, 0.3),
    "code_config": (code_config, 0.01, 2500, 0.6, 0.5),
    "docs": (docs, 0.015, 5000, 0.7, 0.25),
    "keys": (keys, 0.01, 1500, 0.4, 0.4),
    "token_env": (token_env, 0.012, 2000, 0.6, 0.6),
}
