"""Credential-file grammars: files whose name says where the secrets are and what they unlock.

`.netrc`, `.npmrc`, `.pypirc`, `.git-credentials`, docker `config.json`, AWS `credentials`/
`config`, kubeconfig, `.pgpass`, Maven `settings.xml`, `gradle.properties`. Each parser is a
single pass over lines or tokens with bounded patterns (linear time on any input) and gives
candidates of source `cred` whose facts name the field and, where the file says it, the host.
They run beside the anchored scan (readers.FileScanner), which still sees everything else;
candidates at the same offset are merged there, the grammar's context winning.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable

from vault.guard import filters
from vault.guard.model import Candidate

MAX_BYTES = 1024 * 1024  # credential files are small; a bigger one gets the anchored scan only
MAX_CANDIDATES = 512  # per file: a hostile file cannot make the classifier the bottleneck
_LINE = re.compile(rb"[^\r\n]{0,65536}")  # one line (a longer one is read in pieces)
_INI_SECTION = re.compile(rb"[ \t]{0,64}+\[(?P<s>[^\]\r\n]{1,256}+)\][ \t]{0,64}+$")
# Values that are protocol words, not secrets (`.netrc` of GitHub OAuth: `password x-oauth-basic`)
_NOT_SECRETS = frozenset({"x-oauth-basic", "x-oauth-token", "oauth2", "x-access-token"})

Grammar = Callable[[bytes], list[Candidate]]


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _cand(value: bytes, start: int, field: str, host: str | None, grammar: str,
          encoding: str | None = None, extra: dict[str, str] | None = None) -> Candidate | None:
    v = _s(value).strip()
    if not v or v.lower() in _NOT_SECRETS:
        return None
    facts: dict[str, str] = {"field": field, "file": grammar}
    if host:
        facts["host"] = host
    if extra:
        facts.update(extra)
    return Candidate(v, start, start + len(value), "cred", key=field, encoding=encoding,
                     facts=facts)


def _lines(data: bytes):
    """(start offset, line bytes) of every line."""
    for m in _LINE.finditer(data):
        if m.end() > m.start():
            yield m.start(), m.group()


def _strip_quotes(v: bytes, start: int) -> tuple[bytes, int]:
    if len(v) >= 2 and v[:1] == v[-1:] and v[:1] in (b'"', b"'"):
        return v[1:-1], start + 1
    return v, start


def _ini(data: bytes, on_value: Callable[[str | None, str, bytes, int], None],
         seps: bytes = b"=:", out: list[Candidate] | None = None) -> None:
    """INI files (`.npmrc`, `.pypirc`, AWS, gradle): on_value(section, key, value, offset).
    The key ends at the first separator in `seps` (npm keys hold `:`, so it splits on `=`)."""
    section: str | None = None
    for at, line in _lines(data):
        if out is not None and len(out) >= MAX_CANDIDATES:
            return  # a hostile file: enough found
        head = line.lstrip()
        if not head or head[:1] in (b"#", b";"):
            continue
        s = _INI_SECTION.match(line)
        if s:
            section = _s(s.group("s")).strip()
            continue
        cut = min((i for i in (line.find(bytes([c])) for c in seps) if i > 0), default=-1)
        if cut < 0:
            continue
        key = line[:cut].strip()
        rest = line[cut + 1:]
        v = rest.strip()
        if not key or not v:
            continue
        vs = at + cut + 1 + (len(rest) - len(rest.lstrip()))
        v, vs = _strip_quotes(v, vs)
        on_value(section, _s(key), v, vs)


# -- .netrc / _netrc -------------------------------------------------------------------------
_NETRC_TOKEN = re.compile(rb"\S{1,4096}+")


def netrc(data: bytes) -> list[Candidate]:
    """`machine H login U password P [account A]` in any layout; `default`; `macdef` bodies
    (up to a blank line) skipped."""
    out: list[Candidate] = []
    host: str | None = None
    want: str | None = None  # the keyword whose value comes next
    skip_to = 0  # the end of a comment or a macro body: the next token is searched from there
    search = _NETRC_TOKEN.search
    while (m := search(data, skip_to)) is not None:
        skip_to = m.end()
        if len(out) >= MAX_CANDIDATES:
            break
        tok = m.group()
        if tok[:1] == b"#" and want is None:
            nl = data.find(b"\n", m.start())
            skip_to = len(data) if nl < 0 else nl
            continue
        if want is not None:
            if want == "machine":
                host = _s(tok)
            elif want in ("password", "account"):
                c = _cand(tok, m.start(), want, host, "netrc")
                if c:
                    out.append(c)
            elif want == "macdef":
                blank = data.find(b"\n\n", m.end())
                skip_to = len(data) if blank < 0 else blank
            want = None
            continue
        word = tok.lower()
        if word == b"default":
            host = "default"
        elif word in (b"machine", b"login", b"password", b"account", b"macdef"):
            want = _s(word)
    return out


# -- .npmrc ----------------------------------------------------------------------------------
def npmrc(data: bytes) -> list[Candidate]:
    """`//registry.npmjs.org/:_authToken=…`, `_auth=` (base64 user:pass), `_password=` (base64)."""
    out: list[Candidate] = []
    registry: list[str | None] = [None]

    def on(section: str | None, key: str, v: bytes, at: int) -> None:
        if key == "registry" and section is None:
            registry[0] = _host(_s(v))
            return
        scope, _, field = key.rpartition(":")
        if field not in ("_authToken", "_auth", "_password"):
            return
        host = _host("https:" + scope) if scope.startswith("//") else registry[0] or "registry.npmjs.org"
        enc = None
        if field in ("_auth", "_password"):
            dec = _b64(v)
            if dec is None or (field == "_auth" and b":" not in dec):
                return  # not what npm would accept: the anchored scan judges it
            enc = "base64"
        c = _cand(v, at, field, host, "npmrc", enc)
        if c:
            out.append(c)
    _ini(data, on, seps=b"=", out=out)
    return out


# -- .pypirc ---------------------------------------------------------------------------------
_PYPI_HOSTS = {"pypi": "upload.pypi.org", "testpypi": "test.pypi.org"}


def pypirc(data: bytes) -> list[Candidate]:
    """`password` of each index section; the host from its `repository`, else the index name."""
    found: list[tuple[str | None, bytes, int]] = []
    repos: dict[str | None, str] = {}

    def on(section: str | None, key: str, v: bytes, at: int) -> None:
        if key == "repository":
            repos[section] = _host(_s(v)) or _s(v)
        elif key == "password" and len(found) < MAX_CANDIDATES:
            found.append((section, v, at))
    _ini(data, on)
    out = []
    for section, v, at in found:
        host = repos.get(section) or _PYPI_HOSTS.get(section or "", section)
        c = _cand(v, at, "password", host, "pypirc")
        if c:
            out.append(c)
    return out


# -- .git-credentials ------------------------------------------------------------------------
_GIT_CRED = re.compile(rb"[ \t]{0,64}+[A-Za-z][A-Za-z0-9+.\-]{0,31}://(?P<u>[^:@/\s]{0,256}):"
                       rb"(?P<p>[^@\s]{1,4096}+)@(?P<h>[A-Za-z0-9.\-\[\]:]{1,253}+)")


def git_credentials(data: bytes) -> list[Candidate]:
    """One `https://user:token@host` per line (git's credential-store)."""
    out: list[Candidate] = []
    for at, line in _lines(data):
        if len(out) >= MAX_CANDIDATES:
            break
        m = _GIT_CRED.match(line)
        if m:
            c = _cand(m.group("p"), at + m.start("p"), "password", _s(m.group("h")), "git-credentials")
            if c:
                out.append(c)
    return out


# -- docker config.json ----------------------------------------------------------------------
def docker_config(data: bytes) -> list[Candidate]:
    """`auths.<registry>.auth` (base64 user:password), `identitytoken`, `password`."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return []
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return []
    out = []
    pos = 0
    for registry, entry in list(auths.items())[:MAX_CANDIDATES]:
        if not isinstance(entry, dict):
            continue
        at = data.find(json.dumps(registry).encode(), pos)  # the entry's raw offset, in order
        if at < 0:
            continue
        pos = at
        for field in ("auth", "identitytoken", "password", "registrytoken"):
            v = entry.get(field)
            if not isinstance(v, str) or not v:
                continue
            raw = json.dumps(v).encode()
            window = at + len(registry) + 2 * len(raw) + 4096  # the entry's own few lines
            key_at = data.find(b'"%s"' % field.encode(), at, window)
            vat = data.find(raw, key_at, window + len(raw)) if key_at >= 0 else -1
            if vat < 0 or "\\" in raw.decode():
                continue  # escaped in the file: the anchored scan still sees it
            enc = None
            if field == "auth":
                dec = _b64(raw[1:-1])
                if dec is None or b":" not in dec:
                    continue
                pw = dec.partition(b":")[2].decode("utf-8", "replace")
                if len(pw) < 4 or filters.is_placeholder(pw):
                    continue  # `user:test`, `user:changeme`: a sample config (as docker-auth judges)
                enc = "base64"
            c = _cand(raw[1:-1], vat + 1, field, _host(registry) or registry, "docker-config", enc)
            if c:
                out.append(c)
    return out


# -- AWS credentials / config ----------------------------------------------------------------
def aws(data: bytes) -> list[Candidate]:
    """`aws_secret_access_key`, `aws_session_token` per profile (`[default]`, `[profile x]`)."""
    out: list[Candidate] = []

    def on(section: str | None, key: str, v: bytes, at: int) -> None:
        k = key.strip().lower()
        if k in ("aws_secret_access_key", "aws_session_token"):
            profile = (section or "default").removeprefix("profile ").strip()
            c = _cand(v, at, k, "aws", "aws", extra={"profile": profile})
            if c:
                out.append(c)
    _ini(data, on, seps=b"=", out=out)
    return out


# -- kubeconfig ------------------------------------------------------------------------------
_YAML_KEY = re.compile(rb"(?P<ind>[ ]{0,64}+)(?P<dash>-[ ]{1,8}+)?(?P<k>[A-Za-z0-9_.\-]{1,64}+):"
                       rb"(?:[ \t]|$)")
_KUBE_SECRETS = ("token", "client-key-data", "password", "id-token", "refresh-token",
                 "client-secret")


def kubeconfig(data: bytes) -> list[Candidate]:
    """`users[].user.token`, `client-key-data`, `password` (and auth-provider tokens); the host
    is the server of the cluster a context pairs with that user."""
    section = None
    item: dict[str, str] = {}
    item_ind = -1
    items: dict[str, list[dict[str, str]]] = {"clusters": [], "users": [], "contexts": []}
    secrets: list[tuple[dict[str, str], str, bytes, int]] = []
    for at, line in _lines(data):
        m = _YAML_KEY.match(line)
        if not m:
            continue
        ind = len(m.group("ind"))
        key = _s(m.group("k"))
        rest = line[m.end():]
        hash_at = rest.find(b" #")
        v = (rest if hash_at < 0 else rest[:hash_at]).strip()
        if ind == 0 and not m.group("dash"):
            section = key if key in items else None
            item_ind = -1
            continue
        if section is None:
            continue
        if m.group("dash") and (item_ind < 0 or ind == item_ind):
            item_ind = ind
            item = {}
            items[section].append(item)
        if not v:
            continue
        vs = at + m.end() + len(rest) - len(rest.lstrip())
        v, vs = _strip_quotes(v, vs)
        depth = ind + (len(m.group("dash")) if m.group("dash") else 0)
        if key == "name" and depth == item_ind + 2:
            item["name"] = _s(v)
        elif section == "clusters" and key == "server":
            item["server"] = _s(v)
        elif section == "contexts" and key in ("cluster", "user"):
            item[key] = _s(v)
        elif section == "users" and key in _KUBE_SECRETS:
            secrets.append((item, key, v, vs))
            if len(secrets) >= MAX_CANDIDATES:
                break
    servers = {c.get("name"): c.get("server") for c in items["clusters"]}
    user_host = {}
    for ctx in items["contexts"]:
        if ctx.get("user") and ctx["user"] not in user_host:
            user_host[ctx["user"]] = _host(servers.get(ctx.get("cluster")) or "")
    out = []
    for user, key, v, vs in secrets:
        enc, extra = None, {"user": user["name"]} if user.get("name") else {}
        if key == "client-key-data":
            dec = _b64(v)
            if dec is None or b"PRIVATE KEY" not in dec[:64]:
                continue
            enc, extra["type"] = "base64", "private key"
        c = _cand(v, vs, key, user_host.get(user.get("name", "")), "kubeconfig", enc, extra)
        if c:
            out.append(c)
    return out


# -- .pgpass ---------------------------------------------------------------------------------
_PGPASS = re.compile(rb"[ \t]{0,64}+(?P<h>(?:[^:\\\r\n]|\\.){0,1024}+):(?P<port>(?:[^:\\\r\n]|\\.){0,64}+):"
                     rb"(?:[^:\\\r\n]|\\.){0,1024}+:(?:[^:\\\r\n]|\\.){0,1024}+:")


def pgpass(data: bytes) -> list[Candidate]:
    """`hostname:port:database:username:password`, `\\:` and `\\\\` escaped; `#` comments."""
    out: list[Candidate] = []
    for at, line in _lines(data):
        if len(out) >= MAX_CANDIDATES:
            break
        if line.lstrip()[:1] == b"#":
            continue
        m = _PGPASS.match(line)
        if not m or m.end() >= len(line.rstrip()):
            continue
        host, port = _s(m.group("h")).strip(), _s(m.group("port"))
        shown = host if port in ("*", "") else f"{host}:{port}"
        c = _cand(line[m.end():].rstrip(), at + m.end(), "password", shown, "pgpass")
        if c:
            out.append(c)
    return out


# -- Maven settings.xml ----------------------------------------------------------------------
_XML_FIELD = re.compile(rb"<(?P<t>id|password|passphrase)>(?P<v>[^<]{0,8192}+)</(?P=t)>")
_MAVEN_ENCRYPTED = re.compile(rb"\{[A-Za-z0-9+/=]{8,8192}+\}")


def maven_settings(data: bytes) -> list[Candidate]:
    """`<server><id>H</id><password>P</password></server>`; `{…}` is Maven's encrypted form."""
    out = []
    pos = data.find(b"<server>")
    while pos >= 0 and len(out) < MAX_CANDIDATES:
        end = data.find(b"</server>", pos)
        if end < 0:
            break
        sid, vals = None, []
        for m in _XML_FIELD.finditer(data, pos, end):
            v = m.group("v").strip()
            at = m.start("v") + m.group("v").find(v) if v else m.start("v")
            if m.group("t") == b"id":
                sid = _s(v)
            elif v and not _MAVEN_ENCRYPTED.fullmatch(v):
                vals.append((m.group("t").decode(), v, at))
        for field, v, at in vals:
            c = _cand(_xml_unescape(v), at, field, sid, "maven-settings")
            if c:
                c.end = at + len(v)
                out.append(c)
        pos = data.find(b"<server>", end)
    return out


def _xml_unescape(v: bytes) -> bytes:
    return (v.replace(b"&lt;", b"<").replace(b"&gt;", b">").replace(b"&quot;", b'"')
            .replace(b"&apos;", b"'").replace(b"&amp;", b"&"))


# -- gradle.properties -----------------------------------------------------------------------
_GRADLE_KEY = re.compile(r"(?i)(password|passwd|token|secret|key)$")


def gradle_properties(data: bytes) -> list[Candidate]:
    """`*Password=`, `*Token=`, `*Key=`, `*Secret=` (signing.password, mavenCentralPassword)."""
    out = []

    def on(section: str | None, key: str, v: bytes, at: int) -> None:
        k = key.strip()
        if not _GRADLE_KEY.search(k) or k.lower().endswith(("publickey", "keyid")):
            return
        c = _cand(v, at, k, None, "gradle-properties")
        if c:
            out.append(c)
    _ini(data, on, out=out)
    return out


# -- which grammar a file gets ---------------------------------------------------------------
BY_NAME: dict[str, Grammar] = {
    ".netrc": netrc, "_netrc": netrc, ".npmrc": npmrc, "npmrc": npmrc, ".pypirc": pypirc,
    ".git-credentials": git_credentials, ".pgpass": pgpass, "pgpass.conf": pgpass,
    "settings.xml": maven_settings, "settings-security.xml": maven_settings,
    "gradle.properties": gradle_properties, "kubeconfig": kubeconfig,
}


# The names grammar_for reads further (content, parent folder) when BY_NAME has not them:
# any other file (nearly all of a tree) gets no grammar from its name alone.
_MAYBE_NAMES = frozenset({"config.json", "credentials", "config"})
_MAYBE_SUFFIXES = (".kubeconfig", ".yaml", ".yml", "config")


def grammar_for(path: str, data: bytes) -> Grammar | None:
    """The grammar a file's name (and, for generic names, its first 8 KB) calls for."""
    name = path.rpartition("/")[2] if os.sep == "/" else os.path.basename(path)
    g = BY_NAME.get(name)
    if g is not None:
        return g
    if name not in _MAYBE_NAMES and not name.endswith(_MAYBE_SUFFIXES):
        return None
    head = data[:8192]
    parent = os.path.basename(os.path.dirname(path))
    if name == "config.json" and b'"auths"' in head:
        return docker_config
    if name in ("credentials", "config") and (parent == ".aws" or b"aws_secret_access_key" in head):
        return aws
    if (name == "config" and parent == ".kube") or name.endswith(".kubeconfig") or (
            name.endswith((".yaml", ".yml", "config")) and b"kind: Config" in head
            and b"users:" in head):
        return kubeconfig
    return None


def candidates(path: str, data: bytes) -> list[Candidate]:
    """The grammar's candidates for a whole file, or none (no grammar, too big, binary)."""
    if len(data) > MAX_BYTES or data.find(b"\x00", 0, 8192) >= 0:
        return []
    g = grammar_for(path, data)
    return g(data)[:MAX_CANDIDATES] if g is not None else []


def merge(cands: list[Candidate], extra: list[Candidate]) -> list[Candidate]:
    """The grammar's candidates plus the anchored scan's that do not overlap them (the same
    value read twice would be two findings)."""
    if not extra:
        return cands
    spans = sorted((c.start, c.end) for c in extra)
    import bisect

    starts = [s for s, _ in spans]

    def covered(c: Candidate) -> bool:
        i = bisect.bisect_right(starts, c.start) - 1
        return i >= 0 and c.start < spans[i][1]
    return extra + [c for c in cands if not covered(c)]


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit  # here: urllib is ~2 ms of every audit's start-up

    try:
        h = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    return h or None


def _b64(v: bytes) -> bytes | None:
    try:
        return base64.b64decode(v.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
