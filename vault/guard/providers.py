"""Tokens whose format is published: one table row per format, each with its detector id.

A row is a prefix-anchored pattern, the severity of a match and, where the issuer
publishes one, a check (GitHub and npm tokens end in a CRC32 of their random part). The
extractor finds rows by their case-sensitive anchors; `detectors.ProviderFormat` turns a
row into a detector. Ids are forever: baselines and SARIF rules name them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from vault.record import FrozenRecord, init_field

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B62_VALUE = {c: i for i, c in enumerate(_BASE62)}


def crc32_base62_ok(value: str, prefix_len: int) -> bool:
    """GitHub's and npm's format: prefix, 30 random base62 characters, then the CRC32 of
    those 30 in base62, left-padded to 6 (github.blog 2021-04-05, 2021-09-23)."""
    body, tail = value[prefix_len:-6], value[-6:]
    n = 0
    for ch in tail:
        if ch not in _B62_VALUE:
            return False
        n = n * 62 + _B62_VALUE[ch]
    return n == binascii.crc32(body.encode("ascii", "replace"))  # zlib's CRC-32; zlib is ~0.5 ms to import


class Format(FrozenRecord):
    __slots__ = ("id", "provider", "title", "pattern", "anchors", "severity", "check", "low_prefixes", "back")

    def __init__(self, id: str, provider: str, title: str, pattern: bytes,
                 anchors: tuple[bytes, ...], severity: str = "high",
                 check: Callable[[str], bool] | None = None, low_prefixes: tuple[str, ...] = (),
                 back: int = 0) -> None:
        init_field(self, "id", id)  # the detector id (forever)
        init_field(self, "provider", provider)  # fact `provider` (the same values `provider-token` reported)
        init_field(self, "title", title)
        init_field(self, "pattern", pattern)  # the whole token from its first byte, bounded
        init_field(self, "anchors", anchors)  # case-sensitive literals the extractor looks for
        init_field(self, "severity", severity)
        init_field(self, "check", check)  # a published checksum
        init_field(self, "low_prefixes", low_prefixes)  # test-mode keys: reported low
        init_field(self, "back", back)  # an anchor may sit this far after the token's first byte


FORMATS: tuple[Format, ...] = (
    Format("github-token", "github", "GitHub token",
           rb"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
           (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_"),
           check=lambda v: v.startswith("github_pat_") or crc32_base62_ok(v, 4)),
    Format("gitlab-token", "gitlab", "GitLab token",
           # the routable format (GitLab 17.x: payload, `.`, version, base36 CRC) before the
           # legacy 20 characters; deploy/runner/feed tokens share the shape
           rb"glpat-[A-Za-z0-9_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}"
           rb"|gl(?:pat|dt|rt|ft|soat|cbt)-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_.-])|glptt-[0-9a-f]{40}",
           (b"glpat-", b"gldt-", b"glrt-", b"glft-", b"glsoat-", b"glcbt-", b"glptt-")),
    Format("slack-token", "slack", "Slack token",
           rb"xox[baprs]-[0-9]{1,20}-[0-9]{1,20}(?:-[0-9]{1,20})?-[A-Za-z0-9]{8,64}", (b"xox",)),
    Format("stripe-key", "stripe", "Stripe secret or restricted key",
           rb"[sr]k_live_[A-Za-z0-9]{24,247}|[sr]k_test_[A-Za-z0-9]{24,247}",
           (b"k_live_", b"k_test_"), low_prefixes=("sk_test_", "rk_test_"), back=1),
    Format("aws-access-key-id", "aws", "AWS access key id",
           rb"A[KS]IA[A-Z0-9]{16}", (b"AKIA", b"ASIA")),
    Format("google-api-key", "google", "Google API key",
           # often a browser key meant to ship in a web page (restricted by referrer): medium
           rb"AIza[A-Za-z0-9_-]{35}", (b"AIza",), severity="medium"),
    Format("npm-token", "npm", "npm access token", rb"npm_[A-Za-z0-9]{36}", (b"npm_",),
           check=lambda v: crc32_base62_ok(v, 4)),
    Format("pypi-token", "pypi", "PyPI API token (macaroon)",
           rb"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{40,1000}", (b"pypi-Ag",)),
    Format("sendgrid-key", "sendgrid", "SendGrid API key",
           rb"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", (b"SG.",)),
    Format("openai-key", "openai", "OpenAI API key",
           # every format carries `T3BlbkFJ` (base64 of "OpenAI") in its middle
           rb"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,160}T3BlbkFJ[A-Za-z0-9_-]{20,160}",
           (b"T3BlbkFJ",), back=180),
    Format("anthropic-key", "anthropic", "Anthropic API key",
           rb"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA", (b"sk-ant-",)),
    Format("postman-api-key", "postman", "Postman API key",
           rb"PMAK-[0-9a-f]{24}-[0-9a-f]{34}", (b"PMAK-",)),
)
BY_ID = {f.id: f for f in FORMATS}
# One alternation, a named group per row; a token never continues into an identifier.
PATTERN = re.compile(b"(?:" + b"|".join(b"(?P<f%d>%s)" % (i, f.pattern) for i, f in enumerate(FORMATS))
                     + rb")(?![A-Za-z0-9_])")
ANCHORS: tuple[tuple[bytes, Format], ...] = tuple((a, f) for f in FORMATS for a in f.anchors)
# What a vendor token's value may start with (the detectors ask the vendor rows about these)
VALUE_PREFIXES = tuple(sorted({a.decode() for a, f in ANCHORS if not f.back} | {"sk_", "rk_", "sk-"}))
# Without hyperscan: one regex pass per leading byte (sre finds a literal prefix fast).
SCANS: tuple[re.Pattern[bytes], ...] = tuple(
    re.compile(b"|".join(re.escape(a) for a, _ in ANCHORS if a[:1] == lead))
    for lead in dict.fromkeys(a[:1] for a, _ in ANCHORS))
BACK = {a: f.back for a, f in ANCHORS}
# The AWS documentation's example key id and Stripe's documented test key: never leaks.
DOC_TOKENS = frozenset({"AKIAIOSFODNN7EXAMPLE", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"})


def documented(value: str) -> bool:
    """A vendor's own documentation example: AWS marks its example ids and secrets with
    `EXAMPLE` (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`), which no
    random key spells."""
    return value in DOC_TOKENS or "EXAMPLE" in value


def match(value: str) -> tuple[Format, bool] | None:
    """(row, checksum ok) for a value that is one whole token of a row's shape."""
    m = PATTERN.fullmatch(value.encode("utf-8", "surrogatepass"))
    if not m or not m.lastgroup:
        return None
    fmt = FORMATS[int(m.lastgroup[1:])]
    return fmt, fmt.check is None or fmt.check(value)


# -- AWS: a secret access key is 40 base64 characters, found near its key id ----------------
AWS_NEAR = 320  # bytes either side of the key id (a credentials file, an env block, a JSON)
_AWS_SECRET = re.compile(rb"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def aws_secret_near(buf: bytes, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of a secret-key-shaped value within AWS_NEAR bytes of a key id, if any."""
    for m in _AWS_SECRET.finditer(buf, max(0, start - AWS_NEAR), min(len(buf), end + AWS_NEAR)):
        v = m.group()
        if (any(48 <= c <= 57 for c in v) and any(65 <= c <= 90 for c in v)
                and any(97 <= c <= 122 for c in v)):
            return m.start(), m.end()
    return None


# -- private keys: encrypted ones are info, not leaks ----------------------------------------
def pem_encrypted(pem: str) -> bool:
    """A PEM private key that needs a passphrase: PKCS#8 `ENCRYPTED PRIVATE KEY`, a legacy
    `Proc-Type: 4,ENCRYPTED` header, or an OpenSSH key whose cipher is not `none`."""
    head = pem[:80]
    if "ENCRYPTED PRIVATE KEY" in head or "Proc-Type: 4,ENCRYPTED" in pem[:400]:
        return True
    if "OPENSSH PRIVATE KEY" not in head:
        return False
    body = "".join(pem.split("-----")[2].replace("\\n", "\n").split())[:200]
    try:
        raw = base64.b64decode(body[:len(body) // 4 * 4])
    except (binascii.Error, ValueError):
        return False
    magic = b"openssh-key-v1\x00"
    if not raw.startswith(magic) or len(raw) < len(magic) + 4:
        return False
    n = int.from_bytes(raw[len(magic):len(magic) + 4], "big")
    cipher = raw[len(magic) + 4:len(magic) + 4 + n]
    return cipher not in (b"none", b"")


PUTTY_RE = re.compile(rb"PuTTY-User-Key-File-[23]: [A-Za-z0-9@.\-]{1,64}\r?\n"
                      rb"Encryption: (?P<enc>[A-Za-z0-9\-]{1,32})\r?\n")
_PUTTY_END = re.compile(rb"Private-MAC: [0-9a-fA-F]{1,128}")
PUTTY_MAX = 16 * 1024


def putty_key(buf: bytes, p: int, lines: int, mac_at: int) -> tuple[int, int, str] | None:
    """(start, end, encryption) of a PuTTY .ppk key whose header is at `p`, whose
    `Private-Lines:` is at `lines` and next `Private-MAC:` at `mac_at` (-1: none): header to
    the MAC line (the caller finds both once per region). Without a MAC, or without private
    lines between, it is a fragment (documentation, a cut file), not a key."""
    m = PUTTY_RE.match(buf, p)
    if not m or lines < m.end() or not (lines + 32 < mac_at <= p + PUTTY_MAX):
        return None
    mac = _PUTTY_END.match(buf, mac_at)
    return (p, mac.end(), m.group("enc").decode()) if mac else None
