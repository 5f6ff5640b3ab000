"""Plain functions that tell real values from placeholders, and secret keys from others."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from vault.guard import codevalue
from vault.guard.placeholders import is_placeholder  # the one placeholder filter

# The words of a key: runs of letters and digits, cut before a capital that follows a small
# letter or a digit (`nextPageToken`, `DB_PASSWORD`, `APIToken`); findall, not a split at
# zero-width cuts, which costs sre twice as much (a miss of `secret_key_kind`'s cache: one
# per distinct key, ~8,000 in a tree of 5,000 files)
_WORDS = re.compile(r"[A-Z]+[a-z0-9]*|[a-z0-9]+")

# Head nouns that make a key secret: `api_token`, `clientSecret`, `DB_PASSWORD`.
SECRET_HEADS = frozenset({
    "token", "tokens", "secret", "secrets", "password", "passwd", "pwd", "passphrase",
    "apikey", "credential", "credentials", "jwt", "bearer", "pat", "auth",
})
# `…_key` is secret only with one of these before it: `api_key`, `secret_key`, not `sort_key`.
KEY_MODIFIERS = frozenset({"api", "secret", "private", "access", "signing", "encryption",
                           "master", "client", "app", "auth", "license", "service"})
# Trailing words that describe metadata about a secret, not the secret: `token_type`, `token_sha`.
NOT_SECRET_TAILS = frozenset({
    "type", "url", "uri", "endpoint", "name", "id", "ids", "sha", "hash", "digest", "etag",
    "expires", "expiry", "exp", "ttl", "length", "len", "count", "path", "file", "prefix",
    "header", "field", "param", "hint", "policy", "version", "at", "in", "cache", "store",
    "size", "lifetime", "format", "location", "ref", "env", "var", "key_id", "kind", "mode",
})
# `NextToken`, `nextPageToken`, `ContinuationToken`, `ChangeToken`: pagination cursors and
# idempotency markers that APIs return in every listing, not credentials.
CURSOR_WORDS = frozenset({"next", "prev", "previous", "page", "continuation", "pagination",
                          "cursor", "forward", "backward", "change", "idempotency", "sync"})
# `ADMIN_PASS`, `db_pass`, `SMTP_PASS`: a password field, unless `pass` is a stage, a filter or
# a test outcome (`first_pass`, `render_pass`, `low_pass`, `tests_pass`).
PASS_NOT_CREDENTIAL = frozenset({
    "first", "second", "third", "last", "next", "prev", "previous", "single", "multi", "one",
    "two", "three", "n", "num", "nb", "render", "shadow", "draw", "depth", "light", "blur",
    "low", "high", "band", "all", "any", "fast", "slow", "full", "dry", "main", "final", "each",
    "per", "sub", "compile", "lint", "test", "tests", "check", "checks", "skip", "can", "should",
    "must", "will", "did", "does", "is", "has", "no", "not", "ok", "fail", "allow", "to", "by",
    "boarding", "season", "hall", "mountain", "pre", "post", "opt", "optimization", "ir",
    "analysis", "transform", "llvm", "gpu", "cpu", "shader", "frame", "current", "cur",
})
# An environment variable `NAME_KEY` (upper snake case, as `.env` files and CI settings write
# them: `STRIPE_KEY`, `MAPBOX_KEY`) holds a credential unless the word before `KEY` says it
# is public or an index into some data.
ENV_KEY_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,250}+(?<=_KEY)\Z")
ENV_KEY_NOT_SECRET = frozenset({
    "public", "publishable", "pub", "sort", "primary", "foreign", "partition", "hash", "range",
    "cache", "lookup", "map", "dict", "idempotency", "cursor", "row", "column", "index",
    "unique", "composite", "shortcut", "hot", "storage", "translation", "i18n", "message",
    "label", "field", "attr", "attribute", "meta", "metadata", "header", "query", "param",
    "state", "store", "context", "event", "symbol", "prop", "property", "data", "item", "entry",
    "record", "node", "group", "routing", "sharding", "shard", "dedup", "dedupe", "lock",
    "counter", "queue", "stream", "topic", "bucket", "object", "s3", "gpg", "pgp", "fingerprint",
    "verification", "verify", "ssh", "host", "known", "session", "csrf", "xsrf", "cookie",
})


def key_words(key: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(key)]


@lru_cache(maxsize=8192)  # per candidate (HighEntropy): keys repeat, values do not
def head_words(key: str) -> tuple[str, ...]:
    """Key words without trailing noise: `token_value` -> (token,)."""
    words = key_words(key)
    # `unencrypted`: sops's suffix for a key it leaves in plaintext (`api_token_unencrypted`)
    while len(words) > 1 and words[-1] in ("value", "b64", "base64", "raw", "str", "unencrypted"):
        words.pop()
    return tuple(words)


@lru_cache(maxsize=8192)  # the same few hundred keys repeat across a whole scan
def secret_key_kind(key: str | None) -> str | None:
    """Classify a field name: client-secret | password | secret | None (not secret-like), or
    one of the weaker kinds whose values are judged more strictly: pass (`ADMIN_PASS`) and
    env-key (`STRIPE_KEY`)."""
    if not key:
        return None
    words = head_words(key)
    if not words:
        return None
    head = words[-1]
    if head in NOT_SECRET_TAILS:
        return None
    if head in ("secret", "secrets") and any(w in ("client", "consumer", "app") for w in words):
        return "client-secret"
    if head in ("password", "passwd", "pwd", "passphrase"):
        return "password"
    if head == "auth" and not (len(words) == 1 or words[-2] in ("basic", "raw", "http", "proxy")):
        return None  # `signup_auth`, `oauth_basic_auth`: names and flags, rarely values
    if head in ("token", "tokens") and len(words) > 1 and words[-2] in CURSOR_WORDS:
        return None  # `nextPageToken`, `sync_token`; not `page_api_token`, an API token
    if head in SECRET_HEADS:
        return "secret"
    if head == "key" and len(words) > 1 and words[-2] in KEY_MODIFIERS:
        return "secret"
    if head == "pass" and (len(words) == 1 or words[-2] not in PASS_NOT_CREDENTIAL):
        # detectors.Password: a password, if the value has a digit or a symbol; bare `pass`
        # too, as nodemailer's `auth: { user, pass }` and `.pgpass`-like configs write it
        return "pass"
    if (head == "key" and len(words) > 1 and words[-2] not in ENV_KEY_NOT_SECRET
            and ENV_KEY_NAME.match(key.rsplit(".", 1)[-1])):
        return "env-key"  # detectors.HighEntropy: a random value, not a hash, not a name
    return None


_DIGITS = re.compile(r"\d+")
_DOTTED_CODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+(\(\))?$")


def dotted_name(v: str) -> bool:
    """`settings.API_KEY`, `base64.b64encode`, `amzn1.account.AF6R…`: a dotted path with a
    name in it, starting with a name (`os`, `self`, `settings`). A password with dots
    (`V8aFATZtq.hKzQo.gfJ2ja4_`, `FGuRYmvkmw.ylt_nwy7_`) has the shape too, but its first
    part is no name, or none of its parts reads as one."""
    if not _DOTTED_CODE.match(v):
        return False
    words = [_DIGITS.sub("", part) for part in v.removesuffix("()").split(".")]  # `b64encode`
    if not (len(words[0]) <= 3 or _name(words[0])):
        return False
    return any(len(w.replace("_", "")) >= 4 and _name(w) for w in words)


def _name(w: str) -> bool:
    return codevalue.looks_like_name(w) and _whole_words(w)


def _whole_words(w: str) -> bool:
    """Every camel or snake part of a name is a word of 3 letters or more (`get_Password`,
    `AF_INET`, `environ`); a random run cut into parts leaves a stray letter or two
    (`ZSXFUetgzGjuaJ` → `ZSXF Uetgz Gjua J`)."""
    return all(len(p) >= 3 for p in codevalue.name_parts(w))


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_PREFIX = re.compile(r"^(sha1|sha256|sha384|sha512|md5|sha)[:\-]", re.I)
# Character-class tests in C: a generator over a 16 KB value costs milliseconds per value.
HAS_SPACE = re.compile(r"\s").search
_HAS_DIGIT = re.compile(r"\d").search
_HAS_ALPHA = re.compile(r"[^\W\d_]").search


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_random(value: str, min_len: int = 16, min_entropy: float = 3.3,
                 strong_key: bool = False) -> bool:
    """A token-shaped value: long enough, mixed letters and digits, high entropy, not a
    UUID, hash, URL, path, version or dotted name."""
    # The same value often comes many times in a row (a token repeated down a log, a
    # hostile file's one value under every key): the last answer is kept, as
    # detectors.jwt_claims keeps the last decoded token, so the value is held only until
    # the next one.
    args = (value, min_len, min_entropy, strong_key)
    if _last_random[0] == args:
        return _last_random[1]
    got = _looks_random(value, min_len, min_entropy, strong_key)
    _last_random[:] = [args, got]
    return got


_last_random: list = [None, False]


def _looks_random(value: str, min_len: int, min_entropy: float, strong_key: bool) -> bool:
    v = value
    # Each test below only rules a value out: the cheap ones first (a UUID, a word, a URL
    # under a secret-like key is the common case), the placeholder rules last.
    if len(v) < min_len or HAS_SPACE(v) or _UUID.match(v) or _HASH_PREFIX.match(v):
        return False
    if "://" in v or v.startswith(("/", "./", "~/")) or v.count("/") > 3:
        return False
    if not (_HAS_DIGIT(v) and _HAS_ALPHA(v)):
        return False
    if is_placeholder(v) or dotted_name(v):
        return False
    if _HEX.match(v):
        # Hex of hash lengths is far more often a commit/digest than a token.
        if len(v) in (40, 64, 128) and not strong_key:
            return False
        return len(v) >= 32 and entropy(v) >= 3.0
    # log2(distinct characters) bounds the entropy: `token=token=…` is out before counting
    return math.log2(len(set(v))) + 1e-9 >= min_entropy and entropy(v) >= min_entropy
