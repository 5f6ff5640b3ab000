"""Hostile inputs for the guard: repeated anchors, keys, separators and prefixes.

Each shape is one line without a newline, built to make a careless matcher quadratic (a
value that runs over the next anchor, and the next …) or a per-candidate filter walk the
rest of the line. Shared by tests/security/test_guard_linear.py and bench/bench_pathological.py.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable


def _repeat(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def _half(unit: bytes, tail: bytes) -> Callable[[int], bytes]:
    return lambda size: _repeat(unit, size // 2) + _repeat(tail, size - size // 2)


def _distinct_values(size: int) -> bytes:
    """`token=` before 8 KB of random base64url, a different value each time: no memo of
    the last value helps, so the per-candidate filters must be cheap per byte."""
    rnd = random.Random(9)
    lines = b"".join(b"token=" + base64.urlsafe_b64encode(rnd.randbytes(6000)) + b"\n" for _ in range(16))
    return _repeat(lines, size)


# name -> size -> bytes
SHAPES: dict[str, Callable[[int], bytes]] = {
    "bearer-plus": lambda n: _repeat(b"Bearer+", n),
    "bearer-space": lambda n: _repeat(b"Bearer ", n),
    "token-eq-then-a": _half(b"token=", b"a"),
    "token-eq": lambda n: _repeat(b"token=", n),
    "token-colon-quote": lambda n: _repeat(b'token:"', n),
    "secret-spaces": lambda n: b"secret" + _repeat(b" ", n - 7) + b"x",
    "authz-repeat": lambda n: _repeat(b"Authorization: ", n),
    "authz-value": lambda n: _repeat(b"Authorization:Basic%20", n),
    "eyj-repeat": lambda n: _repeat(b"eyJ", n),
    "jwt-dots": lambda n: _repeat(b"eyJabcdefgh.", n),
    "zxlk-repeat": lambda n: _repeat(b"ZXlK", n),
    "b64jwt-key": lambda n: _repeat(b"token=ZXlK", n),
    "type-secret": lambda n: b'{"key": "k", "value": "v"' + _repeat(b', "type": "secret"', n - 26),
    "key-pairs": lambda n: _repeat(b'{"key": "auth0_token", "value": "', n),
    "apikey-block": lambda n: _repeat(b'"apikey": [', n),
    "url-userinfo": lambda n: _repeat(b"://a:", n),
    "url-repeat": lambda n: _repeat(b"://", n),
    "pem-begin": lambda n: _repeat(b"-----BEGIN PRIVATE KEY-----", n),
    "pem-body": lambda n: b"-----BEGIN PRIVATE KEY-----" + _repeat(b"QUJD", n - 60) + b"-----END PRIVATE KEY-----",
    "provider-ghp": lambda n: _repeat(b"ghp_", n),
    "provider-slack": lambda n: _repeat(b"xoxb-1-", n),
    "provider-stripe": lambda n: _repeat(b"sk_live_", n),
    "percent-kv": lambda n: _repeat(b"token%3D%22", n),
    "api-key-variants": lambda n: _repeat(b"api_key=apikey=api-key=", n),
    "pass-key-anchors": lambda n: _repeat(b"ADMIN_PASS=STRIPE_KEY=", n),  # `_pass`, `_key`
    "pass-key-values": lambda n: _repeat(b'X_PASS="q8Zr2-Lm5!" Y_KEY=q8Zr2Lm5Xc7Vb9 ', n),
    "k8s-data-template-lines": lambda n: b"kind: Secret\ndata:\n" + _repeat(b"  {{ x }}\n", n - 19),
    "mixed-anchors": lambda n: _repeat(b"Bearer token=eyJsecret:", n),
    "run-chars": lambda n: _repeat(b"a", n),
    "private-key-eq": lambda n: _repeat(b"private_key=", n),
    "many-findings": lambda n: _repeat(b"api_token=q8Zr2Lm5Xc7Vb9Nk3Pw6 ", n),
    "distinct-values": _distinct_values,
    # found by tests/guard/test_fuzz.py's repeated units: every anchor a full kv call (pair
    # look-back, pair pattern) that finds nothing, one per 15 bytes
    "key-quote-anchor": lambda n: _repeat(b'"key": "api_key', n),
    "value-passw-eq": lambda n: _repeat(b'"value": "passw==', n),  # a kv match at every anchor
    # the code forms (extract._code_form): each reads its quoted literal to the closing quote
    "call-pair": lambda n: _repeat(b"define('token', '", n),
    "call-pair-unclosed": lambda n: b"define('token', '" + _repeat(b'"token", "x', n - 17),
    "subscript": lambda n: _repeat(b'["token"] = "', n),
    "php-var": lambda n: _repeat(b"$token = '", n),
    "php-var-long": lambda n: _repeat(b"$token = '" + b"k" * 4000 + b"\n", n),
    "pass-colon": lambda n: _repeat(b"pass:", n),  # the `pass` anchors: every one a kv call
    "pass-quote": lambda n: _repeat(b'{"dbPass": "', n),
    # a key after `:` reads its word back (is it an ARN?): at most 256 bytes a look
    "arn-secret": lambda n: _repeat(b"arn:a:secret:", n),
    "colon-secret-word": lambda n: _repeat(b"x:secret:=", n),
    # decode.py: base64 of anchors (one endless run, or a run per anchor), Kubernetes data
    "b64-anchor-run": lambda n: _repeat(b"dG9rZW4", n),
    "b64-anchor-runs": lambda n: _repeat(b"dG9rZW4 ", n),
    "b64-tokens-blob": lambda n: _repeat(b"YXBpX3Rva2VuPXE4WnIyTG01WGM3VmI5TmszUHc2IA==\n", n),
    "k8s-data-entries": lambda n: b"kind: Secret\ndata:\n" + _repeat(b"  k: dG9rZW4=\n", n - 19),
    "k8s-data-headers": lambda n: b"kind: Secret\n" + _repeat(b"data:\n", n - 13),
    "k8s-json-data": lambda n: b'"kind": "Secret", ' + _repeat(b'"data": {"a": "QUJD", ', n - 18),
    # published formats (vault/guard/providers.py)
    "provider-openai-marker": lambda n: _repeat(b"sk-T3BlbkFJ", n),
    "provider-aws-pairs": lambda n: _repeat(b"AKIAQ3E7Q3E7Q3E7Q3E7 wJa1rXUtnFEMI/K7MDENG/bPxRfiCYZz9Kq2Lm4X ", n),
    "provider-aws-near-b64": lambda n: b"AKIAQ3E7Q3E7Q3E7Q3E7 " + _repeat(b"Ab1/", n - 21),
    "putty-headers": lambda n: _repeat(b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", n),
    "putty-lines": lambda n: _repeat(b"PuTTY-User-Key-File-2: a\nEncryption: none\nPrivate-Lines: 1\n", n),
    # ciphertext markers (vault/guard/ciphertext.py): spans never closed, never long enough
    "age-begin": lambda n: _repeat(b"-----BEGIN AGE ENCRYPTED FILE-----", n),
    "pgp-begin": lambda n: _repeat(b"-----BEGIN PGP MESSAGE-----", n),
    "sealed-kind": lambda n: _repeat(b"kind: SealedSecret ", n),
    "sealed-block": lambda n: b"kind: SealedSecret\nspec:\n  encryptedData:\n" + _repeat(b"    k: v\n", n - 42),
    "sops-enc": lambda n: _repeat(b"ENC[AES256_GCM,data:", n),
    "ansible-header": lambda n: b"x\n" + _repeat(b"$ANSIBLE_VAULT;1.1;AES256\n", n - 2),
    "dotenvx-short": lambda n: _repeat(b"token=encrypted:", n),
    "encrypted-spans-and-candidates": lambda n: _repeat(
        b"encrypted:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq api_token=q8Zr2Lm5Xc7Vb9Nk3Pw6 ", n),
}

# Credential-file grammars (vault/guard/credfiles.py) run on files of up to 1 MB named like
# credential files: each shape is scanned under that name (SHAPE_PATHS), at most 1 MB.
_CRED_MAX = 1024 * 1024
CRED_SHAPES: dict[str, tuple[str, bytes]] = {
    "netrc-keywords": (".netrc", b"machine password login account "),
    "netrc-macdef": (".netrc", b"macdef m\n"),
    "netrc-comments": (".netrc", b"# password x\n"),
    "npmrc-seps": (".npmrc", b"//a/:_authToken=//b/:_auth="),
    "npmrc-lines": (".npmrc", b"//r.example/:_authToken=tsPLANTEDq8Zr2Lm5Xc7Vb9Nk3Pw6\n"),
    "ini-brackets": (".pypirc", b"[[[[ ]"),
    "pypirc-eq": (".pypirc", b"password = = : "),
    "git-credentials-colons": (".git-credentials", b"https://a:b:c:"),
    "git-credentials-lines": (".git-credentials", b"https://u:tsPLANTEDq8Zr2Lm5@h.example\n"),
    "docker-nested": ("config.json", b'{"auths": {"a": {"auth": "YTpi' + b"[" * 64),
    "aws-lines": (".aws/credentials", b"aws_secret_access_key = wJa1rXUtnFEMI/K7MDENG/bPxRfiCYZz9Kq2Lm4X\n"),
    "kube-dashes": (".kube/config", b"users:\n- - - - name: x\n  token: "),
    "kube-deep": (".kube/config", b"users:\n" + b" " * 60 + b"- token: tsPLANTEDq8Zr2Lm5\n"),
    "pgpass-colons": (".pgpass", b"\\:"),
    "pgpass-lines": (".pgpass", b"h:5432:d:u:tsPLANTEDq8Zr2Lm5\n"),
    "maven-servers": ("settings.xml", b"<server><id>"),
    "maven-fields": ("settings.xml", b"<server><password>" + b" " * 100 + b"</password></server>"),
    "gradle-keys": ("gradle.properties", b"aPassword=aToken=aKey="),
}
SHAPE_PATHS: dict[str, str] = {}
for _name, (_path, _unit) in CRED_SHAPES.items():
    SHAPES["cred-" + _name] = (lambda u: lambda n: _repeat(u, min(n, _CRED_MAX)))(_unit)
    SHAPE_PATHS["cred-" + _name] = _path


def normal_text(size: int) -> bytes:
    """Prose and config lines of the same size: the linear baseline."""
    unit = (b"The quick brown fox jumps over the lazy dog; timeout = 30\n"
            b'{"name": "service", "url": "https://example.com/api", "retries": 3}\n')
    return _repeat(unit, size)
