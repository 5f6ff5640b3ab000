"""Readers never crash: malformed JSON, truncated files, random bytes."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard.tokens import NOW, auth0_mgmt
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
TOKEN = auth0_mgmt()
ENV = json.dumps({"_postman_variable_scope": "environment", "values": [
    {"key": "auth0_token", "value": TOKEN, "type": "secret", "enabled": True},
    {"key": "auth0_client_secret", "value": "x" * 10, "type": "secret"}]}, indent="\t").encode()
FRAGMENTS = [b'"key"', b'"value"', b'"type"', b'"secret"', b":", b",", b'"', b"\\", b"{", b"}",
             b"eyJ", b"Bearer ", b"Authorization: ", b"token=", b"-----BEGIN PRIVATE KEY-----",
             b"\n", b"\x00", b"\xff\xfe", b"ZXlK", b'auth"', b"%20", b"\xc3", b"\xe9",
             # decode.py: Kubernetes Secret data, data URLs, base64 of anchors and of a token
             b"kind: Secret\n", b"data:\n", b'"data": {', b"  k: ", b"data:text/plain;base64,",
             b"dG9rZW4", b"LS0tLS1CRUdJTi", b"=", b"YXBpX3Rva2VuPXE4WnIyTG01WGM3VmI5TmszUHc2",
             # extract._code_form: PHP variables and define(), subscripts, call pairs, `pass:`
             b"define('DB_PASSWORD', '", b"$db_pass = '", b'["api_token"] = "', b"'", b", ",
             b"pass: ", b"dbPass=", b"q8Zr2Lm5Xc7Vb9Nk3Pw6"]
# Ciphertext markers and the shapes around them (vault/guard/ciphertext.py)
CIPHER_FRAGMENTS = [b"ENC[AES256_GCM,data:", b",iv:", b",tag:", b",type:str]", b"QUJD" * 8,
                    b"-----BEGIN AGE ENCRYPTED FILE-----", b"-----END AGE ENCRYPTED FILE-----",
                    b"-----BEGIN PGP MESSAGE-----", b"-----END PGP MESSAGE-----",
                    b"$ANSIBLE_VAULT;1.1;AES256\n", b"  6162636465\n", b"!vault |\n",
                    b"encrypted:", b"kind: SealedSecret\n", b"  encryptedData:\n", b"    k: ",
                    b'"encryptedData": {', b"\n---\n", b"\x00GITCRYPT\x00", b"age-encryption.org/v1\n",
                    b"token=", b"\n", b" ", b"}"]


def _ok(data: bytes) -> None:
    for f in SCANNER.scan_bytes(data, "fuzz"):
        assert f.line >= 1 and f.column >= 1
        assert TOKEN not in json.dumps(f.to_json())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _ok(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=12), max_size=80))
def test_token_soup(parts: list[bytes]) -> None:
    _ok(b"".join(parts))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(ENV)), st.integers(0, len(ENV)), st.binary(max_size=8))
def test_truncated_and_corrupted_postman(cut: int, at: int, junk: bytes) -> None:
    _ok(ENV[:cut])
    _ok(ENV[:at] + junk + ENV[at:])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500))
def test_text_in_any_encoding(text: str) -> None:
    for enc in ("utf-8", "utf-16"):
        _ok(text.encode(enc, "surrogatepass"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 120_000), st.sampled_from(["jwt", "bearer", "kv", "pem"])),
                max_size=6), st.integers(0, 2**32), st.booleans())
def test_chunked_reading_equals_whole(tmp_path_factory, plants, seed: int, long_lines: bool) -> None:
    """Streaming with small chunks finds exactly what one whole buffer finds."""
    import random

    from tests.guard.tokens import jwt, opaque
    from vault.guard import readers

    rnd = random.Random(seed)
    words = [b"lorem", b"ipsum", b"token_cache", b"x=1", b" ", b"Bearer", b"{{t}}", b"\xc3\xa9"]
    if not long_lines:
        words.append(b"\n")
    body = bytearray(b"".join(rnd.choice(words) for _ in range(30_000)))
    nl = " " if long_lines else "\n"
    shapes = {"jwt": lambda: f" {jwt()} ", "bearer": lambda: f"{nl}Authorization: Bearer {opaque()}{nl}",
              "kv": lambda: f"{nl}API_TOKEN={opaque()}{nl}",
              "pem": lambda: "\n-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 40 + "\n-----END PRIVATE KEY-----\n"}
    for at, shape in sorted(plants, reverse=True):
        at = min(at, len(body))
        body[at:at] = shapes[shape]().encode()
    data = bytes(body)
    path = tmp_path_factory.mktemp("chunks") / "f.txt"
    path.write_bytes(data)
    whole = sorted((f.line, f.column, f.detector, f.fingerprint) for f in SCANNER.scan_bytes(data, str(path)))
    old = readers.CHUNK
    readers.CHUNK = 20_000  # > LOOKAHEAD (16 KiB): many chunk boundaries in a 150 KB file
    try:
        res = SCANNER.scan_path(str(path))
    finally:
        readers.CHUNK = old
    assert sorted((f.line, f.column, f.detector, f.fingerprint) for f in res.findings) == whole


# Hostile repetition (finding 6): any unit of keys, separators and prefixes repeated over a
# long line scans in time linear in its size, through the streaming reader as well.
UNITS = [b"token", b"secret", b"Bearer", b"Authorization", b"eyJ", b"ZXlK", b"api_key", b"passw",
         b"ghp_", b"xoxb-1-", b"sk_live_", b"://", b"a:", b"-----BEGIN PRIVATE KEY-----",
         b'"key": "', b'"value": "', b'"type": "secret"', b'"apikey": [', b"=", b":", b'"', b"'",
         b" ", b"+", b"%20", b"%3D", b"%22", b",", b"a", b"Zz9", b".", b"\\",
         b"sk-", b"T3BlbkFJ", b"AKIA", b"AIza", b"PMAK-", b"SG.", b"PuTTY-User-Key-File-3: a\nEncryption: none\n",
         b"Private-Lines: 1\n"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(UNITS), min_size=1, max_size=5))
def test_repeated_shapes_scan_in_linear_time(tmp_path_factory, unit_parts: list[bytes]) -> None:
    import time

    from tests.guard.pathological import normal_text

    size = 256 * 1024
    unit = b"".join(unit_parts)
    data = (unit * (size // len(unit) + 1))[:size]

    def timed(b: bytes) -> float:
        t = time.perf_counter()
        SCANNER.scan_bytes(b, "fuzz")
        return time.perf_counter() - t
    base = min(timed(normal_text(size)) for _ in range(2))
    took = timed(data)
    assert took < 60 * base + 0.5, f"{unit!r} repeated: {took:.2f} s vs {base:.3f} s for text"
    path = tmp_path_factory.mktemp("rep") / "f.txt"
    path.write_bytes(data)
    res = SCANNER.scan_path(str(path))  # the size-limited streaming reader
    assert res.nbytes == size and res.skipped is None


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000), st.integers(0, 4000))
def test_size_cap_and_limited_reads(tmp_path_factory, data: bytes, cap: int) -> None:
    from vault.guard.readers import FileScanner, ScanConfig

    path = tmp_path_factory.mktemp("cap") / "f.bin"
    path.write_bytes(data)
    scanner = FileScanner(ScanConfig(b"k" * 32, now=NOW, max_size=cap))
    res = scanner.scan_path(str(path))
    nofollow = scanner.scan_path(str(path), follow=False)  # watch's reader: same result
    assert [f.fingerprint for f in nofollow.findings] == [f.fingerprint for f in res.findings]
    if len(data) > cap:
        assert res.skipped == "large" and res.findings == [] and res.nbytes == 0
    else:
        assert res.skipped is None and res.nbytes == len(data)


# decode.py: a Kubernetes Secret whose data holds the token (base64), cut and corrupted anywhere
K8S = (b"apiVersion: v1\nkind: Secret\ndata:\n  token: " + base64.b64encode(TOKEN.encode())
       + b"\n  app.env: " + base64.b64encode(b"X=1\nAUTH0_TOKEN=" + TOKEN.encode() + b"\n")
       + b'\n---\n{"kind": "Secret", "data": {"t": "' + base64.b64encode(TOKEN.encode()) + b'"}}\n')


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(K8S)), st.integers(0, len(K8S)), st.binary(max_size=8))
def test_truncated_and_corrupted_kubernetes_secret(cut: int, at: int, junk: bytes) -> None:
    _ok(K8S[:cut])
    _ok(K8S[:at] + junk + K8S[at:])


def test_kubernetes_secret_fuzz_seed_finds_the_token() -> None:
    """The seed of the test above is found three times (else that test proves little)."""
    assert [f.line for f in SCANNER.scan_bytes(K8S, "s.yaml")] == [4, 5, 7]


# Credential-file grammars (vault/guard/credfiles.py) and published formats: any bytes under
# a credential file's name give findings with sane positions, never a crash or a value.
CRED_NAMES = [".netrc", ".npmrc", ".pypirc", ".git-credentials", ".docker/config.json",
              ".aws/credentials", ".kube/config", ".pgpass", "settings.xml", "gradle.properties"]
CRED_FRAGMENTS = [b"machine ", b"login ", b"password ", b"default ", b"macdef m\n", b"account ",
                  b"//r.example/:", b"_authToken=", b"_auth=", b"_password=", b"registry=", b"[pypi]",
                  b"[profile x]", b"repository = https://h.example/", b"aws_secret_access_key = ",
                  b"https://u:", b"@h.example", b'{"auths": {"r": {"auth": "', b'"identitytoken": "',
                  b"dTpwYXNzd29yZA==", b"users:\n", b"clusters:\n", b"contexts:\n", b"- name: a\n",
                  b"  user:\n", b"    token: ", b"server: https://k.example\n", b"client-key-data: ",
                  b"h:5432:d:u:", b"\\:", b"<server>", b"<id>", b"</id>", b"<password>", b"</password>",
                  b"</server>", b"signingPassword=", b"ghp_", b"npm_", b"T3BlbkFJ", b"sk-", b"AKIA",
                  b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", b"Private-Lines: 1\n",
                  b"Private-MAC: ab\n", b"tsPLANTEDq8Zr2Lm5Xc7Vb9", b"\n", b" ", b"=", b":", b'"', b"#",
                  b"\x00", b"\xff", b"\r\n"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CRED_NAMES),
       st.lists(st.sampled_from(CRED_FRAGMENTS) | st.binary(max_size=12), max_size=80))
def test_credential_file_soup(name: str, parts: list[bytes]) -> None:
    data = b"".join(parts)
    for f in SCANNER.scan_bytes(data, name):
        assert f.line >= 1 and f.column >= 1
        assert f.offset >= 0 and f.offset + f.length <= len(data)
        raw = data[f.offset:f.offset + f.length].decode("utf-8", "replace")
        shown = {k: v for k, v in f.to_json().items() if k != "facts"}  # facts hold file words
        assert len(raw) < 5 or raw not in json.dumps(shown)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CRED_NAMES), st.binary(max_size=2048))
def test_credential_file_random_bytes(name: str, data: bytes) -> None:
    from vault.guard import credfiles

    g = credfiles.grammar_for(name, b'{"auths": {}}' if name.endswith(".json") else b"")
    assert g is not None
    for c in g(data):  # the grammar alone: spans inside the data
        assert 0 <= c.start <= c.end <= len(data)
    _ok(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS + [ENV]) | st.binary(max_size=64), max_size=60))
def test_whole_file_read_matches_the_chunked_reader(tmp_path_factory, parts: list[bytes]) -> None:
    """The one-read path for small files (readers._scan_whole) and the chunk loop agree."""
    import os

    from vault.guard import readers
    from vault.guard.model import FileResult

    data = b"".join(parts)
    path = tmp_path_factory.mktemp("whole") / "f.json"
    path.write_bytes(data)
    fast = SCANNER.scan_path(str(path))
    slow = FileResult(fast.path)
    with open(path, "rb", buffering=0) as f:
        SCANNER._scan_stream(readers._Limited(f, os.fstat(f.fileno()).st_size), slow)
    assert (fast.nbytes, fast.kind, fast.error) == (slow.nbytes, slow.kind, slow.error)
    assert [f.to_json() for f in fast.findings] == [f.to_json() for f in slow.findings]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CIPHER_FRAGMENTS) | st.binary(max_size=12), max_size=80))
def test_ciphertext_soup(parts: list[bytes]) -> None:
    """Ciphertext markers in any order: no crash, spans inside the buffer, sorted, disjoint."""
    from vault.guard import ciphertext

    data = b"".join(parts)
    _ok(data)
    spans = ciphertext.spans(data)
    for i, (s, e, _, _) in enumerate(spans):
        assert 0 <= s < e <= len(data)
        assert i + 1 == len(spans) or e <= spans[i + 1][0]
    for e in SCANNER.encrypted:
        assert e.line >= 1
