# ruff: noqa: UP031  (%-formatting, as in gen.py, so the builders read alike)
"""Fake tokens in the published formats of real providers, drawn from a seeded random.Random.

Every value is random: none is, or was, a live credential. Where a format carries a checksum
(GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` and npm `npm_`: CRC32 of the 30 random characters,
base62 `0-9A-Za-z`, left-padded to 6 characters) the planted tokens carry a valid one and the
look-alike decoys a wrong one. Documented examples (AWS's `AKIAIOSFODNN7EXAMPLE`, Stripe's
docs key, Slack's `xoxb-not-a-real-token…`) are decoys.
"""

from __future__ import annotations

import base64
import random
import string
import zlib

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B32 = string.ascii_uppercase + "234567"

AWS_EXAMPLE_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS documentation's example pair
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STRIPE_DOCS_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"  # Stripe's public documentation test key
SLACK_DOCS_TOKEN = "xoxb-not-a-real-token-this-will-not-work"


def base62(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(width, "0")


def crc_token(prefix: str, body: str) -> str:
    return prefix + body + base62(zlib.crc32(body.encode()))


def crc_valid(token: str, prefix: str) -> bool:
    body, cs = token[len(prefix):-6], token[-6:]
    return len(body) == 30 and base62(zlib.crc32(body.encode())) == cs


class Tokens:
    def __init__(self, r: random.Random):
        self.r = r

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choices(alphabet, k=n))

    def password(self, url: bool = False) -> str:
        """A hard-coded password as people pick them from a password manager: mixed classes
        (`url`: only characters a URL's user-info carries unescaped). No whitespace, quote, #, %,
        :, @, /, & or <: each breaks some file's grammar."""
        sym = "-_.~" if url else "!^*-_+.~"
        n = self.r.randint(14, 24)
        core = self.chars(ALNUM + sym, n - 3)
        return self.r.choice(string.ascii_uppercase) + core + self.r.choice(string.digits) + self.r.choice(sym)

    def github(self, prefix: str = "ghp_") -> str:
        return crc_token(prefix, self.chars(ALNUM, 30))

    def github_bad(self, prefix: str = "ghp_") -> str:
        """Right shape, wrong checksum: a look-alike, not a GitHub token."""
        tok = self.github(prefix)
        last = tok[-1]
        return tok[:-1] + self.r.choice([c for c in B62 if c != last])

    def github_pat(self) -> str:
        return "github_pat_" + self.chars(ALNUM, 22) + "_" + self.chars(ALNUM, 59)

    def npm(self) -> str:
        return crc_token("npm_", self.chars(ALNUM, 30))

    def npm_bad(self) -> str:
        tok = self.npm()
        return tok[:-1] + self.r.choice([c for c in B62 if c != tok[-1]])

    def gitlab(self) -> str:
        return "glpat-" + self.chars(B64URL, 20)

    def slack(self) -> str:
        if self.r.random() < 0.6:
            return "xoxb-%d-%d-%s" % (self.r.randint(10 ** 10, 10 ** 12), self.r.randint(10 ** 11, 10 ** 13),
                                      self.chars(ALNUM, 24))
        return "xoxp-%d-%d-%d-%s" % (self.r.randint(10 ** 10, 10 ** 12), self.r.randint(10 ** 10, 10 ** 12),
                                     self.r.randint(10 ** 11, 10 ** 13), "%032x" % self.r.getrandbits(128))

    def stripe(self) -> str:
        if self.r.random() < 0.5:
            return "sk_live_" + self.chars(ALNUM, 24)
        return self.r.choice(["sk_live_51", "rk_live_51"]) + self.chars(ALNUM, 97)

    def google(self) -> str:
        return "AIza" + self.chars(B64URL, 35)

    def sendgrid(self) -> str:
        return "SG." + self.chars(B64URL, 22) + "." + self.chars(B64URL, 43)

    def postman(self) -> str:
        return "PMAK-%024x-%034x" % (self.r.getrandbits(96), self.r.getrandbits(136))

    def pypi(self, host: str = "pypi.org") -> str:
        """A macaroon as PyPI issues them: v2 binary, location, identifier, caveat, signature."""
        ident = ("%032x" % self.r.getrandbits(128)).encode()
        caveat = ('{"version": 1, "permissions": "user"}' if self.r.random() < 0.5 else
                  '{"version": 1, "permissions": {"projects": ["%s"]}}' % self.chars(string.ascii_lowercase, 8)).encode()
        raw = (b"\x02\x01" + bytes([len(host)]) + host.encode() + b"\x02" + bytes([len(ident)]) + ident +
               b"\x00\x02" + bytes([len(caveat)]) + caveat + b"\x00\x00\x06\x20" + self.r.randbytes(32))
        return "pypi-" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def openai(self) -> str:
        if self.r.random() < 0.7:
            return "sk-proj-" + self.chars(B64URL, 74) + "T3BlbkFJ" + self.chars(B64URL, 74)
        return "sk-" + self.chars(ALNUM, 20) + "T3BlbkFJ" + self.chars(ALNUM, 20)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.chars(B64URL, 93) + "AA"

    def aws_id(self, prefix: str = "AKIA") -> str:
        return prefix + self.chars(B32, 16)

    def aws_secret(self) -> str:
        return self.chars(ALNUM + "/+", 40)

    def aws_session(self) -> str:
        return "FwoGZXIvYXdzE" + self.chars(ALNUM + "/+", self.r.choice([300, 356, 400])) + "=="

    def published(self) -> tuple[str, str]:
        """(kind, value) of one published-format token, chosen at random."""
        kind = self.r.choice(["github", "github_pat", "npm", "gitlab", "slack", "stripe", "google",
                              "sendgrid", "postman", "pypi", "openai", "anthropic"])
        if kind == "github":
            return "github_token", self.github(self.r.choice(["ghp_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"]))
        return kind + "_token", getattr(self, kind)()

    def lookalike(self) -> tuple[str, str]:
        """(kind, value) of a string shaped like a token that is not one (decoy)."""
        c = self.r.randrange(8)
        if c == 0:
            return "github_bad_checksum", self.github_bad(self.r.choice(["ghp_", "gho_", "ghs_"]))
        if c == 1:
            return "npm_bad_checksum", self.npm_bad()
        if c == 2:
            return "aws_docs_example", AWS_EXAMPLE_ID
        if c == 3:
            return "stripe_docs_example", STRIPE_DOCS_KEY
        if c == 4:
            return "slack_docs_example", SLACK_DOCS_TOKEN
        if c == 5:
            return "placeholder", self.r.choice(["ghp_" + "x" * 36, "glpat-" + "x" * 20, "sk-proj-" + "X" * 48,
                                                 "AIza" + "X" * 35, "npm_" + "0" * 36, "sk_live_" + "x" * 24])
        if c == 6:
            return "placeholder", self.r.choice(["<your-github-token>", "YOUR_API_KEY", "REPLACE_ME",
                                                 "changeme", "<token>", "your-token-here"])
        return "aws_docs_example", AWS_EXAMPLE_SECRET
