"""Hostile inputs for the guard: repeated anchors, keys, separators and prefixes.

Each shape is one line without a newline, built to make a careless matcher quadratic (a
value that runs over the next anchor, and the next …) or a per-candidate filter walk the
rest of the line. Shared by tests/security/test_guard_linear.py and bench/bench_pathological.py.
"""

from __future__ import annotations

from collections.abc import Callable


def _repeat(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def _half(unit: bytes, tail: bytes) -> Callable[[int], bytes]:
    return lambda size: _repeat(unit, size // 2) + _repeat(tail, size - size // 2)


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
    "mixed-anchors": lambda n: _repeat(b"Bearer token=eyJsecret:", n),
    "run-chars": lambda n: _repeat(b"a", n),
    "private-key-eq": lambda n: _repeat(b"private_key=", n),
    "many-findings": lambda n: _repeat(b"api_token=q8Zr2Lm5Xc7Vb9Nk3Pw6 ", n),
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


def normal_text(size: int) -> bytes:
    """Prose and config lines of the same size: the linear baseline."""
    unit = (b"The quick brown fox jumps over the lazy dog; timeout = 30\n"
            b'{"name": "service", "url": "https://example.com/api", "retries": 3}\n')
    return _repeat(unit, size)
