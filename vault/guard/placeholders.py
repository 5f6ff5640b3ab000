"""The one placeholder filter: templates, references and stand-ins are not secrets.

Every detector asks `is_placeholder(value)` (also through `filters.is_placeholder`), and so
does anything that decodes a value first (Kubernetes `Secret` data, docker `auth`): base64
of a stand-in (`Y2hhbmdlbWU=` is `changeme`) is a stand-in too.

DESIGN: a stand-in word counts anywhere only when it is long enough not to occur by chance
inside a random token (`example`, `placeholder`, `changeme`: < 1e-8 in 40 random
characters); short ones (`todo`, `your`, `xxxx`) count only at a word edge, so `k2TodoQ8…`
is still a token. Every pattern is bounded (linear time on hostile values).
"""

from __future__ import annotations

import base64
import binascii
import re

_EXACT = re.compile(
    r"^(x+|\*+|\.+|-+|_+|0+|1234\d*|null|none|nil|undefined|true|false|changeme|change_?me|"
    r"secret|password|passwd|token|todo|tbd|fixme|redacted|example|sample|test|dummy|fake|"
    r"placeholder|empty|required|optional|string|bearer|value|replace_?me|hidden|masked|"
    r"notset|not_set|unset|n/a|xxx+-[x-]+|"
    # default logins that stand for "set yours here" in sample credential files
    r"admin|root|guest|user|default|demo|hunter2|"
    r"\d{1,6}(?:\.\d{1,6}){1,3}|"  # a version (`metric.token=9.1.3`)
    r"sk_test_4eC39HqLyjWDarjtT1zdp7dc)$", re.I)  # Stripe's documented test key
# Template and reference syntaxes that may sit anywhere in a value: Jinja/Helm/Go/Postman
# `{{…}}`, shell/Terraform/GitHub Actions `${…}` and `$(…)`, Ruby/Octopus `#{…}`, ERB `<%…%>`,
# PHP `<?…?>`, `<your-token>` (words in angle brackets: a lone `<` or `>` is one of a real
# password's symbols, as in half of WordPress's generated salts), printf `%s`/`%(name)s`,
# ellipses and `***` masks.
_PART = re.compile(r"\*\*\*|<[A-Za-z_][A-Za-z0-9 _.\-]{0,64}>|<%|%>|<\?|\?>|\{\{|\}\}|\$\{|\$\(|#\{|%s|%\(|"
                   r"\.\.\.|…|•••")
# Whole-value markers: auth0-deploy-cli `##KEY##`/`@@KEY@@`, build-time `__KEY__`, Windows
# `%KEY%`, Python `{name}`/`{0}`/`{}`.
_MARKER = re.compile(
    r"##[A-Za-z0-9_.\-]{1,128}##|@@[A-Za-z0-9_.\-]{1,128}@@|__[A-Z][A-Z0-9_]{0,126}__|"
    r"%[A-Za-z_][A-Za-z0-9_]{0,126}%|\{[A-Za-z_0-9]{0,64}\}")
_CODE_REF = re.compile(r"^(\$[A-Za-z_]|process\.env|os\.environ|os\.getenv|env\(|getenv|"
                       r"secrets\.|vars\.|!Ref|!Sub|vault:)", re.I)
# Long stand-in words: anywhere (a random token holds them by chance < 1e-8 of the time).
_LONG_WORD = re.compile(r"example|placeholder|change_?me|replace_?me|redacted|insert_?your|"
                        r"your_?(?:api|access|secret|client|auth|own)|x{8}", re.I)  # 8 x: never chance
# Short stand-in words: only at a word edge (`YOUR_TOKEN_HERE`, `paste-here`).
_WORDS = r"your|here|replace|change_?me|placeholder|example|redacted|dummy|xxxx|insert|paste|todo|fixme|sample"
_EDGE_WORD = re.compile(rf"(?:^|[^a-z0-9])(?:{_WORDS})|(?:{_WORDS})(?:[^a-z0-9]|$)|^(?:{_WORDS})")
# In a random-looking value a word counts only with an edge on both sides (`…_yOuRz…` and
# `…kpasTE` are chance), and `xxxx` (`-XxxX…`) only as a run of 8 (_LONG_WORD)
_TOKEN_EDGE_WORD = re.compile(rf"(?:^|[^a-z0-9])(?:{_WORDS.replace('|xxxx', '')})(?:[^a-z0-9]|$)")
# Keyboard sequences that documentation starts fake values with (`abcd1234…`, `abcdef…`);
# only at the start: `tok_0123456789abcdef…` may be a real value a test stored in a vault.
_SEQUENCE = re.compile(r"abcdef|abcd.{0,8}1234|1234.{0,8}abcd", re.I).match
_HAS_DIGIT = re.compile(r"\d").search
MAX_WORDY = 512  # longest value the stand-in word rules read
_B64 = re.compile(r"^[A-Za-z0-9+/]{4,1024}={0,2}$")
_SEGMENTS = re.compile(r"[a-z]+|[0-9]+")

# Stand-in compounds: every word from this list (`proxy_password`, `my-secret-token`,
# `secret123`, `mysecretpassword`), and at least one CORE word among them.
_CORE = frozenset({"password", "passwd", "pass", "pwd", "passphrase", "secret", "secrets", "token",
                   "key", "apikey", "s3cr3t", "p4ssw0rd", "passw0rd", "pa55word"})
_VOCAB = _CORE | frozenset({
    "your", "my", "our", "the", "a", "some", "new", "old", "default", "dev", "test", "testing",
    "demo", "example", "sample", "dummy", "fake", "mock", "stub", "proxy", "db", "database",
    "user", "username", "admin", "root", "app", "api", "client", "access", "auth", "bearer",
    "here", "value", "foo", "bar", "baz", "qux", "change", "me", "replace", "with", "insert",
    "put", "enter", "paste", "goes", "super", "top", "string", "private", "shared", "service",
    "account", "session", "refresh", "id", "xxx", "abc", "local", "server", "mysql", "postgres",
    "redis", "smtp", "mail", "email", "guest", "login", "hello", "world", "this", "is", "not",
    "real", "valid", "invalid", "wrong", "bad", "good", "correct", "incorrect", "other", "another",
    "random", "generated", "sha", "hmac", "jwt", "oauth", "signing", "encryption",
})
_LEET = str.maketrans("@4$5031", "aassoei")
_LEET_TAIL = re.compile(r"[0-9!#.?*]{1,8}$")
_MAX_WORD = max(len(w) for w in _VOCAB)


def is_placeholder(value: str) -> bool:
    """True for templates (`{{x}}`, `${X}`, `##KEY##`), references (`$TOKEN`, `process.env.X`)
    and stand-ins (`changeme`, `<your-token>`, `xxxx`, `proxy_password`), and for base64 of
    one of those (Kubernetes `Secret` data). The single entry point of the guard."""
    v = value.strip().strip("'\"`")
    if not v:
        return True
    if _plain_placeholder(v):
        return True
    return _b64_placeholder(v)


def _plain_placeholder(v: str, decoded: bool = False) -> bool:
    if _EXACT.match(v) or _PART.search(v) or _CODE_REF.match(v) or _MARKER.fullmatch(v):
        return True
    if "EXAMPLE" in v:
        return True  # AWS documentation keys end in EXAMPLE/EXAMPLEKEY (capitals: never chance)
    if len(v) > MAX_WORDY:
        return len(set(v)) <= 2  # stand-ins are short; word rules on 8 KB values cost time
    if _LONG_WORD.search(v):
        return True
    low = v.lower()
    # Short stand-in words (`here`, `todo`, `paste`) count at a word edge; in a long value of
    # mixed case with digits (a random token) the ends are edges only by chance (`…kpasTE`).
    tokenish = len(v) >= 16 and _HAS_DIGIT(v) and v != low and v != v.upper()
    if (_TOKEN_EDGE_WORD if tokenish else _EDGE_WORD).search(_camel_edges(v, low)):
        return True
    if decoded:
        return _stand_in_compound(low) if len(v) <= 40 else False
    if _SEQUENCE(v):
        return True
    if len(set(v)) <= 2 or (len(v) >= 8 and len(set(low)) <= 3):
        return True  # one or two characters repeated (`abababab`), or three at most (a mask)
    if _LEET_TAIL.sub("", low).translate(_LEET) in _CORE:
        return True  # `P@55w0rd!`, `s3cr3t123`: the stand-in word in leetspeak
    return len(v) <= 40 and _stand_in_compound(low)


def _b64_placeholder(v: str) -> bool:
    """base64 of a stand-in: decoded once, never recursively, only when it is UTF-8 text."""
    if len(v) % 4 or not _B64.match(v):
        return False
    try:
        raw = base64.b64decode(v, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    if not (raw.isascii() and raw.isprintable()):
        return False
    t = raw.strip().strip("'\"`")
    # Decoded bytes of a random token are sometimes ASCII by chance: only the word and
    # template rules apply to them, not the repetition and keyboard-sequence ones.
    return not t or _plain_placeholder(t, decoded=True)


def _stand_in_compound(low: str) -> bool:
    """Every letter run splits into stand-in words, digit runs are short, one word is CORE."""
    core = False
    for seg in _SEGMENTS.findall(low):
        if seg.isdigit():
            if len(seg) > 4:
                return False
            continue
        words = _split_words(seg)
        if words is None:
            return False
        core = core or any(w in _CORE for w in words)
    # Anything besides letters, digits and - _ . separators (`p@ss!`) reads as a real password
    return core and not re.search(r"[^a-z0-9_.\-]", low)


def _split_words(seg: str) -> list[str] | None:
    """Word break of a letter run over _VOCAB (dynamic programming; runs are <= 40 letters)."""
    n = len(seg)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(1, n + 1):
        for j in range(max(0, i - _MAX_WORD), i):
            prev = best[j]
            if prev is not None and seg[j:i] in _VOCAB:
                best[i] = [*prev, seg[j:i]]
                break
    return best[n]


def _camel_edges(v: str, low: str) -> str:
    """`yourApiKeyHere` -> `your_api_key_here`, so camelCase words have edges too."""
    if v.isupper() or v.islower() or _HAS_DIGIT(v):
        return low  # digits: a token, whose case changes are noise
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", v).lower()
