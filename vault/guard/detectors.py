"""Detectors: tiny classifiers with ids that never change (baselines and SARIF rules name them).

Each takes a Candidate (a value plus where and how it was assigned) and returns a Verdict or
None. `REGISTRY` is ordered: the first detector that claims a value wins, so specific ones
(Auth0 Management token) come before general ones (any JWT, high entropy).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from vault.guard import codevalue, filters, providers
from vault.guard.model import Candidate
from vault.record import Record
from vault.store.model import jwt_claims as _decode_claims

# The public example token of jwt.io: documentation, never a leak.
JWT_IO_EXAMPLE = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
                  "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
_DOC_JWT_SIGNATURES = ("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",)
_AUTH0_ISS = re.compile(r"^https://[A-Za-z0-9.\-]+\.auth0\.com/?$")
_MODULE_ATTR = re.compile(r"^[A-Za-z_][\w.]*[._][\w.]*:[A-Za-z_]\w*$")
# UPPER_SNAKE names and dotted paths: unquoted in code they are references, not literals
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
# Vendor tokens (vault/guard/providers.py): the prefixes a value may start with, and a head
# cut before the placeholder test (`ghp_your_token_here`).
_PROVIDER_PREFIXES = providers.VALUE_PREFIXES
_PROVIDER_HEAD = re.compile(r"^(?:github_pat_|[sr]k_(?:live|test)_|sk-(?:proj-|ant-api03-)?|"
                            r"[a-z]{3,5}[_-]|A[KS]IA|AIza|PMAK-|SG\.)")
# Request-signing schemes whose name the authz reader takes for the value; what follows them
# (`Credential=AKIA…/…, Signature=…`) is a per-request signature and a key id.
_SIGNING_SCHEME = re.compile(r"^(?:AWS4|GOOG4|OSS4)-(?:HMAC|ECDSA)-[A-Z0-9-]{1,20}$")
_WRITE_SCOPE = re.compile(r"^(create|update|delete|write|manage)[:_]")
# A value under a `*_pass` key is taken for a password only with a digit or a symbol besides
# the `_-.` that join words
_PASS_CHARS = re.compile(r"[^A-Za-z_.\-]").search


class Verdict(Record):
    __slots__ = ("severity", "facts")

    def __init__(self, severity: str, facts: dict[str, Any] | None = None) -> None:
        self.severity = severity
        self.facts = {} if facts is None else facts


# What a detector returns for a value it recognises as harmless: claimed, so that no later,
# more general detector reports it, and not a finding.
DROP = Verdict("none")


class Context(Record):
    """What a detector may consult besides the candidate: the clock."""

    __slots__ = ("now",)

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now


class Detector(ABC):
    """A detector: a stable id (forever: baselines and SARIF rules name it) and one rule."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    default_severity: ClassVar[str]

    @abstractmethod
    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        """A verdict for the candidate, or None when it is not this detector's kind."""


def jwt_claims(value: str) -> dict[str, Any] | None:
    """Decoded JWT payload, memoised for the one value being classified (it is decoded by
    two detectors, and Auth0 tokens with every scope are 4 KB)."""
    if not value.startswith("eyJ"):
        return None
    if _last[0] != value:
        _last[0], _last[1] = value, _decode_claims(value)
    return _last[1]


_last: list[Any] = ["", None]


def _key_kind(c: Candidate) -> str | None:
    if c.key_kind == "":
        c.key_kind = filters.secret_key_kind(c.key)
    return c.key_kind


def _jwt_facts(claims: dict[str, Any], now: float) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for k in ("iss", "aud", "azp", "gty"):
        if isinstance(claims.get(k), str | list):
            facts[k] = claims[k]
    scope = claims.get("scope", claims.get("scp", claims.get("permissions")))
    if isinstance(scope, str):
        facts["scopes"] = scope.split()
    elif isinstance(scope, list):
        facts["scopes"] = [str(s) for s in scope]
    exp = claims.get("exp")
    if isinstance(exp, int | float):
        facts["exp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
        facts["expired"] = exp < now
    return facts


def _is_doc_jwt(value: str) -> bool:
    return value == JWT_IO_EXAMPLE or value.rsplit(".", 1)[-1] in _DOC_JWT_SIGNATURES


class Auth0ManagementToken(Detector):
    id = "auth0-management-token"
    title = "Auth0 Management API token"
    description = "A JWT issued by an Auth0 tenant for its Management API (/api/v2/)."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        claims = jwt_claims(c.value)
        if not claims or _is_doc_jwt(c.value):
            return None
        iss = claims.get("iss")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not (isinstance(iss, str) and _AUTH0_ISS.match(iss)):
            return None
        if not any(isinstance(a, str) and a.rstrip("/").endswith("/api/v2") for a in auds):
            return None
        facts = _jwt_facts(claims, ctx.now)
        if facts.get("expired"):
            sev = "low"
        elif any(_WRITE_SCOPE.match(s) for s in facts.get("scopes", [])):
            sev = "critical"
        else:
            sev = "high"
        return Verdict(sev, facts)


class Jwt(Detector):
    id = "jwt"
    title = "JSON Web Token"
    description = "A decodable JWT (header with alg, JSON payload); claims reported, never verified."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        claims = jwt_claims(c.value)
        if claims is None or _is_doc_jwt(c.value):
            return None
        facts = _jwt_facts(claims, ctx.now)
        return Verdict("low" if facts.get("expired") else "high", facts)


class PrivateKey(Detector):
    id = "private-key"
    title = "Private key (PEM)"
    description = ("A PEM private key block with a body (RSA, EC, DSA, OpenSSH, PKCS#8, PGP); "
                   "one that needs a passphrase is low.")
    default_severity = "critical"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source != "pem":
            return None
        m = re.match(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----", c.value)
        if not m:
            return None
        if providers.pem_encrypted(c.value):  # useless without its passphrase
            return Verdict("low", {"type": m.group(1), "encrypted": True})
        return Verdict("critical", {"type": m.group(1)})


class PuttyKey(Detector):
    id = "putty-private-key"
    title = "Private key (PuTTY .ppk)"
    description = "A PuTTY-User-Key-File-2/3 key with its Private-Lines; an encrypted one is low."
    default_severity = "critical"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source != "putty":
            return None
        if c.encoding:  # `Encryption: aes256-cbc`: useless without its passphrase
            return Verdict("low", {"type": "putty", "encrypted": True})
        return Verdict("critical", {"type": "putty"})


class ProviderFormat(Detector):
    """One row of providers.FORMATS: a token whose format its issuer publishes."""

    def __init__(self, fmt: providers.Format) -> None:
        self.fmt = fmt
        self.id = fmt.id  # type: ignore[misc]
        self.title = fmt.title  # type: ignore[misc]
        self.description = (f"A {fmt.title} by its published format"  # type: ignore[misc]
                            + (" and checksum" if fmt.check else "") + ", under any key or none.")
        self.default_severity = fmt.severity  # type: ignore[misc]

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        got = _provider_match(c)
        if got is None or got[0] is not self.fmt or not got[1]:
            return None
        low = self.fmt.low_prefixes and c.value.startswith(self.fmt.low_prefixes)
        return Verdict("low" if low else self.fmt.severity, {"provider": self.fmt.provider})


def _provider_match(c: Candidate) -> tuple[providers.Format, bool] | None:
    """providers.match for a candidate, once per value (every ProviderFormat asks)."""
    v = c.value
    if _pm[0] == (v, c.source):
        return _pm[1]
    got = None
    if c.source not in ("pem", "url", "run", "putty", "aws-secret") and v.startswith(_PROVIDER_PREFIXES):
        got = providers.match(v)
        if got and (providers.documented(v) or filters.is_placeholder(_PROVIDER_HEAD.sub("", v))):
            got = None
    _pm[:] = [(v, c.source), got]
    return got


_pm: list[Any] = [None, None]


class ProviderToken(Detector):
    id = "provider-token"
    title = "Vendor-prefixed token that fails its checksum"
    description = ("A token with a vendor's prefix and shape (`ghp_`, `npm_`) whose published "
                   "CRC32 checksum does not match: mistyped, truncated or made up — not a live "
                   "token, so claimed and not reported. (Until 0.x this id named every vendor "
                   "token; each format now has its own id.)")
    default_severity = "low"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        got = _provider_match(c)
        if got is None or got[1]:
            return None
        return DROP


class AwsSecretKey(Detector):
    id = "aws-secret-key"
    title = "AWS secret access key (beside its key id)"
    description = "40 base64 characters within a few lines of an AWS access key id (`AKIA…`, `ASIA…`)."
    default_severity = "critical"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source != "aws-secret" or filters.is_placeholder(c.value) or providers.documented(c.value):
            return None
        return Verdict("critical", {"provider": "aws"})


class Bearer(Detector):
    id = "bearer"
    title = "Authorization header credential"
    description = "`Authorization: Bearer …` or `Basic …` with a real value (not a template)."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source == "basic":
            try:
                raw = base64.b64decode(c.value, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return None
            user, sep, pw = raw.partition(":")
            if not sep or not pw or filters.is_placeholder(pw) or len(pw) < 4:
                return None
            return Verdict("high", {"scheme": "basic"})
        if c.source in ("bearer", "authz"):
            if _SIGNING_SCHEME.match(c.value):
                return None  # `Authorization: AWS4-HMAC-SHA256 Credential=…`: a scheme's name
            if not filters.looks_random(c.value, min_len=16, min_entropy=3.0):
                return None
            return Verdict("high", {"scheme": "bearer" if c.source == "bearer" else "raw"})
        return None


class DockerAuth(Detector):
    id = "docker-auth"
    title = "Registry credential (docker config.json auth)"
    description = "A base64 `user:password` in an `\"auth\"` field, as docker and podman store them."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source not in ("kv", "cred") or not c.key or c.key.lower() != "auth":
            return None
        try:
            raw = base64.b64decode(c.value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        user, sep, pw = raw.partition(":")
        if not sep:
            return None
        if len(pw) < 4 or filters.is_placeholder(pw):
            return DROP  # a sample config's `user:test`: no other detector may report it
        return Verdict("high", {"encoding": "base64"})


class PostmanVariable(Detector):
    id = "postman-variable"
    title = "Postman variable holding a secret"
    description = ("A Postman environment/globals/collection variable of type `secret` or with "
                   "a secret-like key, holding a real value.")
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        # In a Postman file, or anywhere a variable says `"type": "secret"` (Postman data dumps)
        if c.source != "pair" or not (c.scope or c.var_type == "secret"):
            return None
        v = c.value
        if c.var_type == "secret":
            if len(v) < 8 or filters.is_placeholder(v) or filters.HAS_SPACE(v):
                return None
            return Verdict("high")
        kind = _key_kind(c)
        if kind == "password":
            return Verdict("medium") if len(v) >= 6 and not filters.is_placeholder(v) else None
        if kind and filters.looks_random(v):
            return Verdict("high")
        return None


class ClientSecret(Detector):
    id = "client-secret"
    title = "OAuth client secret"
    description = "A random value assigned to a client-secret field (client_secret, clientSecret)."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source not in ("kv", "pair") or _key_kind(c) != "client-secret":
            return None
        # 12 characters as for HighEntropy's strong keys (`api_key`): a 14-character secret is no less one
        return Verdict("high") if filters.looks_random(c.value, 12, 3.0, strong_key=True) else None


class Password(Detector):
    id = "password"
    title = "Password"
    description = "A literal value assigned to a password field (`*password`, `*_pass`, …)."
    default_severity = "medium"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        kind = _key_kind(c)
        if c.source not in ("kv", "pair") or kind not in ("password", "pass"):
            return None
        v = c.value
        if len(v) < 6 or filters.is_placeholder(v) or filters.dotted_name(v):
            return None
        if kind == "pass" and not _PASS_CHARS(v):
            return None  # `*_pass` also names stages and results: `RENDER_PASS = "shadow-map"`
        if v.isdigit() or (v.isalpha() and v.islower() and len(v) < 10):
            return None  # ports, flags, words: not worth a finding alone
        if not c.quoted and v.isalpha() and v.isupper():
            return None  # `PASSWORD=PASSPHRASE` in code: a name
        if _MODULE_ATTR.match(v):
            return None  # `"passwd": "vault.cli.keys_cmds:passwd_cmd"`: code, not a password
        return Verdict("medium")


class HighEntropy(Detector):
    id = "high-entropy"
    title = "High-entropy value in a secret field"
    description = ("A random-looking value assigned to a secret-like key (token, secret, api_key, "
                   "credentials, an environment variable `NAME_KEY`); thresholds tuned on the "
                   "labelled corpus.")
    default_severity = "medium"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source not in ("kv", "pair"):
            return None
        kind = _key_kind(c)
        if kind == "env-key":
            # `STRIPE_KEY=…`: hex of hash lengths (digests) and names (`CACHE_KEY = "user_v2"`) are not keys
            v = c.value
            return Verdict("medium") if filters.looks_random(v, 12, 3.3) and not codevalue.is_reference(v) else None
        if kind != "secret":
            return None
        words = filters.head_words(c.key or "")
        strong = bool(words) and words[-1] not in ("token", "tokens", "auth")
        # under a key that names a secret outright (api_key, client_secret) 12 characters do;
        # a Kubernetes Secret's `data:` holds nothing but secrets (placeholders are out already),
        # so a password-like value with a repeated symbol (15 characters, entropy 3.2) counts there
        k8s = c.encoding == "base64" and (c.key or "").startswith("data.")
        return Verdict("medium") if filters.looks_random(c.value, 12, 3.0 if k8s else 3.3, strong) else None


class UrlCredentials(Detector):
    id = "url-credentials"
    title = "Password in a URL"
    description = "A password in a URL's userinfo: `postgres://user:PASSWORD@host/db`."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source != "url":
            return None
        v = c.value
        if len(v) < 4 or filters.is_placeholder(v) or v.startswith("%7B") or v.lower() in (
                "pass", "password", "secret", "admin", "root", "guest", "user"):
            return None
        return Verdict("high", {"host": c.key})


class CredentialFile(Detector):
    id = "credential-file"
    title = "Credential in a credential file"
    description = ("A password or token in a file whose grammar is known (.netrc, .npmrc, .pypirc, "
                   ".git-credentials, AWS credentials, kubeconfig, .pgpass, Maven settings.xml, "
                   "gradle.properties); facts name the field and the host it unlocks.")
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        if c.source != "cred":
            return None
        v = c.value
        if len(v) < 4 or v.isdigit() or filters.is_placeholder(v):
            return None  # a port, a pin length, an id: not what a credential field holds
        if c.facts and c.facts.get("type") == "private key":  # kubeconfig client-key-data
            return Verdict("critical")
        if c.key == "aws_secret_access_key":  # as aws-secret-key: the key id is in the file
            return Verdict("critical")
        return Verdict("high")


class VaultKnown(Detector):
    """Claims values that only the vault's fingerprints recognise; the engine sets the flag."""

    id = "vault-known"
    title = "Value that is in your vault"
    description = "A value whose keyed fingerprint matches one in the vault's fingerprint file."
    default_severity = "high"

    def classify(self, c: Candidate, ctx: Context) -> Verdict | None:
        return None  # decided by the engine, which holds the fingerprints


REGISTRY: tuple[Detector, ...] = (
    Auth0ManagementToken(), Jwt(), PrivateKey(), *(ProviderFormat(f) for f in providers.FORMATS),
    ProviderToken(), AwsSecretKey(), PuttyKey(), Bearer(), DockerAuth(), CredentialFile(),
    PostmanVariable(), ClientSecret(), Password(), HighEntropy(), VaultKnown(), UrlCredentials(),
)
BY_ID: dict[str, Detector] = {d.id: d for d in REGISTRY}


# The sources each detector's rule can claim; a detector not named here may claim any.
# A candidate is shown only the detectors that may claim it, in REGISTRY's order: one
# candidate of a tree is nearly always a `kv` or `pair` that none claims, and asking all
# 27 (a dozen ProviderFormat rows among them) cost more than the four that can.
_CLAIMS: dict[type, frozenset[str]] = {
    PrivateKey: frozenset({"pem"}), AwsSecretKey: frozenset({"aws-secret"}),
    PuttyKey: frozenset({"putty"}), Bearer: frozenset({"basic", "bearer", "authz"}),
    DockerAuth: frozenset({"kv", "cred"}), CredentialFile: frozenset({"cred"}),
    PostmanVariable: frozenset({"pair"}), ClientSecret: frozenset({"kv", "pair"}),
    Password: frozenset({"kv", "pair"}), HighEntropy: frozenset({"kv", "pair"}),
    UrlCredentials: frozenset({"url"}), VaultKnown: frozenset(),  # the engine decides it
}
_JWT_ONLY = (Auth0ManagementToken, Jwt)  # claim nothing but a value `jwt_claims` decodes
_PROVIDER_ONLY = (ProviderFormat, ProviderToken)  # nothing `_provider_match` does not match
# The shortest value each of these may report: a shorter one gets None or DROP from it (a
# tree's `token: build`, `client_secret = $`). DockerAuth: base64 of `u:pw` with 4+ in pw.
_SHORTEST: dict[type, int] = {
    DockerAuth: 8, PostmanVariable: 6, ClientSecret: 12, Password: 6, HighEntropy: 12,
    UrlCredentials: 4,
}
_chains: dict[tuple[str, bool, bool], tuple[int, tuple[Detector, ...]]] = {}


def _chain(source: str, jwt: bool, provider: bool) -> tuple[int, tuple[Detector, ...]]:
    """REGISTRY less the detectors that return None for every candidate of `source`, of a
    value starting `eyJ` or not (`jwt`), and with a vendor prefix or not (`provider`); and
    the length below which all the rest return None or DROP (classify's answer is None)."""
    got = _chains.get((source, jwt, provider))
    if got is None:
        chain = tuple(d for d in REGISTRY
                      if source in _CLAIMS.get(type(d), (source,))
                      and (jwt or not isinstance(d, _JWT_ONLY))
                      and (provider or not isinstance(d, _PROVIDER_ONLY)))
        got = _chains[(source, jwt, provider)] = (
            min((_SHORTEST.get(type(d), 0) for d in chain), default=0), chain)
    return got


def classify(c: Candidate, ctx: Context) -> tuple[Detector, Verdict] | None:
    v = c.value
    shortest, chain = _chain(c.source, v.startswith("eyJ"), v.startswith(_PROVIDER_PREFIXES))
    if len(v) < shortest:
        return None  # no detector that may claim it reports so short a value
    if c.source == "kv" and not c.quoted and (
            (_CONSTANT.match(c.value)  # not `SG.x7Q….k2P…`, nor a password with a dot
             and (filters.dotted_name(c.value) if "." in c.value else codevalue.looks_like_name(c.value)))
            or codevalue.is_expression(c.value, c.follows)):
        return None  # `client_secret = AUTH0_CLIENT_SECRET`, `pw = get_password()`: code
    if c.source in ("kv", "pair") and codevalue.names_itself(c.key, c.value):
        return None  # `"IAMUserChangePassword": "arn:aws:iam::aws:policy/IAMUserChangePassword"`
    for det in chain:
        verdict = det.classify(c, ctx)
        if verdict is not None:
            return None if verdict is DROP else (det, verdict)
    return None
