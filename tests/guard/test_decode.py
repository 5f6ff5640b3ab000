"""Seeing through encodings (vault/guard/decode.py): Kubernetes Secret data, kubeconfig,
docker config, data URLs and base64 blobs are decoded once and reported where they stand."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.guard.tokens import NOW, auth0_mgmt, opaque
from vault.guard import decode
from vault.guard.engine import scan
from vault.guard.readers import CHUNK, FileScanner, ScanConfig

CFG = ScanConfig(b"k" * 32, now=NOW)
PW = "Zq8#mP2vL9xKw"


def b64(s: str | bytes, urlsafe: bool = False) -> str:
    raw = s.encode() if isinstance(s, str) else s
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()


def findings(text: str | bytes, path: str = "f"):
    data = text.encode() if isinstance(text, str) else text
    return FileScanner(CFG).scan_bytes(data, path)


def where(fs) -> list[tuple[int, int, str, str | None, str | None]]:
    return sorted((f.line, f.column, f.detector, f.facts.get("key"), f.facts.get("encoding")) for f in fs)


def test_encoded_forms_cover_every_alignment() -> None:
    forms = decode._encoded_forms(b"token")
    for pad in ("", "a", "ab", "abc"):
        enc = b64(pad + "token=x").encode()
        assert any(f in enc for f in forms), pad


@pytest.mark.parametrize("run,want", [
    (b64("hello world"), b"hello world"), (b64("hello world").rstrip("="), b"hello world"),
    (b64(b"\xfb\xff\xfe" * 4, urlsafe=True), b"\xfb\xff\xfe" * 4), ("a+b-cdef", None),
    ("!!!!", None)])
def test_b64decode(run: str, want: bytes | None) -> None:
    assert decode.b64decode(run.encode()) == want


def test_binary_decoded_bytes_are_not_text() -> None:
    assert decode.as_text(b"\x89PNG\r\n\x1a\n\x00\x00") is None
    assert decode.as_text(os.urandom(64) + b"\xff") is None
    assert decode.as_text(b"api_token=abc\n") == "api_token=abc\n"


K8S = """apiVersion: v1
kind: Secret
metadata:
  name: app
type: Opaque
data:
  password: {pw}
  api-token: {tok}
  db-password: {changeme}
  smtp-password: {angle}
  username: {admin}
  empty: ""
stringData:
  db_password: {plain}
"""


def test_kubernetes_secret_data_decoded_and_judged_under_its_key() -> None:
    tok = opaque(40)
    text = K8S.format(pw=b64(PW), tok=b64(tok), changeme=b64("changeme"),
                      angle=b64("<your-password>"), admin=b64("admin"), plain=PW + "x")
    got = findings(text)
    assert where(got) == [
        (7, 13, "password", "data.password", "base64"),
        (8, 14, "high-entropy", "data.api-token", "base64"),
        (14, 16, "password", "db_password", None),  # stringData is plain: read as it stands
    ]
    blob = text.encode()
    f = next(f for f in got if f.facts.get("key") == "data.password")
    assert blob[f.offset:f.offset + f.length] == b64(PW).encode()  # scrub replaces the encoded form
    # the fingerprint is the decoded value's: a baseline or the vault recognise it
    assert f.fingerprint == CFG.fingerprint(PW)


def test_kubernetes_secret_placeholders_are_not_findings() -> None:
    """The issue's 59 false positives: base64 placeholders in Secret `data`."""
    text = K8S.format(pw=b64("password"), tok=b64("REPLACE_ME"), changeme=b64("changeme"),
                      angle=b64("<your-password>"), admin=b64("xxxxxxxxxxxxxxxx"), plain="${DB}")
    assert findings(text) == []


def test_kubernetes_secret_json_and_list() -> None:
    tok = opaque(40)
    doc = {"apiVersion": "v1", "items": [
        {"apiVersion": "v1", "data": {"client_secret": b64(tok), "user": b64("changeme")},
         "kind": "Secret", "metadata": {"name": "a"}}], "kind": "List"}
    got = findings(json.dumps(doc, indent=2))
    assert [(f.detector, f.facts["key"], f.facts["encoding"]) for f in got] == [
        ("client-secret", "data.client_secret", "base64")]


def test_sealed_secret_and_configmap_data_are_not_decoded() -> None:
    """SealedSecret data is ciphertext (another module's concern); a ConfigMap is plain."""
    sealed = f"kind: SealedSecret\nspec:\n  template:\n    data:\n      password: {b64('changeme')}\n"
    assert all(f.facts.get("encoding") != "base64" for f in findings(sealed))
    cm = f"kind: ConfigMap\ndata:\n  password: {PW}\n"
    assert where(findings(cm)) == [(3, 13, "password", "password", None)]


def test_multi_document_yaml_decodes_only_the_secret() -> None:
    text = (f"kind: ConfigMap\ndata:\n  password: {b64(PW)}\n---\n"
            f"kind: Secret\ndata:\n  password: {b64(PW)}\n")
    got = findings(text)
    # the ConfigMap's value is judged as it stands (not decoded: a ConfigMap is plain)
    assert [(f.line, f.facts.get("key"), f.facts.get("encoding")) for f in got] == [
        (3, "password", None), (7, "data.password", "base64")]


def test_secret_holding_a_whole_file() -> None:
    """`.dockerconfigjson` or an `.env` in one key: the decoded file is scanned."""
    tok = auth0_mgmt()
    env = f"# app\nLOG=1\nAUTH0_MGMT_TOKEN={tok}\n"
    text = f"kind: Secret\ndata:\n  app.env: {b64(env)}\n"
    got = findings(text)
    assert [(f.line, f.detector, f.severity, f.facts["encoding"]) for f in got] == [
        (3, "auth0-management-token", "critical", "base64")]
    assert tok not in json.dumps([f.to_json() for f in got])


def _pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_kubeconfig_client_key_data_and_token() -> None:
    cert = b64("-----BEGIN CERTIFICATE-----\nMIIB" + "A" * 200 + "\n-----END CERTIFICATE-----\n")
    kc = (f"apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n"
          f"    client-certificate-data: {cert}\n"
          f"    client-key-data: {b64(_pem())}\n"
          f"    token: {auth0_mgmt()}\n")
    got = findings(kc, "kubeconfig")
    # The kubeconfig grammar (credfiles.py) claims both values, naming the field; the key's
    # base64 is still decoded and recognised as a private key.
    assert [(f.line, f.column, f.detector, f.severity, f.facts.get("field"), f.facts.get("encoding"),
             f.facts.get("type")) for f in sorted(got, key=lambda f: f.line)] == [
        (7, 22, "credential-file", "critical", "client-key-data", "base64", "private key"),
        (8, 12, "auth0-management-token", "critical", "token", None, None)]


def test_docker_auth_reported_once() -> None:
    """The docker-auth detector and the decode layer see the same span: one finding."""
    doc = json.dumps({"auths": {"r.example": {"auth": b64("user:" + PW)},
                                "q.example": {"auth": b64("user:token=" + opaque())}}}, indent=1)
    got = findings(doc, "config.json")
    assert [(f.line, f.detector) for f in got] == [(4, "docker-auth"), (7, "docker-auth")]
    # the decode layer did see the second value (its decoded text holds `token=`): deduped
    data = doc.encode()
    groups, _ = decode.Decoder(lambda: CFG.extractor(None, False)).scan(data, 0, len(data), 0)
    assert [g[0].start for g in groups] == [got[1].offset]


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("pad", ["", "#", "##"])  # every alignment of the anchor
def test_data_url_and_bare_blob(urlsafe: bool, pad: str) -> None:
    tok = opaque(40)
    inner = f"{pad}\napi_token={tok}\n"
    html = f'<p>\n<a href="data:text/plain;base64,{b64(inner, urlsafe)}">x</a>\n'
    got = findings(html)
    assert where(got) == [(2, 33, "high-entropy", "api_token", "base64")]
    assert got[0].fingerprint == CFG.fingerprint(tok)
    blob = f"CI_BLOB = '{b64('export SECRET_TOKEN=' + tok + chr(10), urlsafe)}'\n"
    assert where(findings(blob)) == [(1, 12, "high-entropy", "SECRET_TOKEN", "base64")]


def test_decoded_placeholders_and_binary_are_not_findings() -> None:
    for inner in ("api_token=<your-token>", "password: changeme", "token=${TOKEN}"):
        assert findings(f"x = {b64(inner)}\n") == [], inner
    png = b"\x89PNG\r\n\x1a\n" + b"token=" + opaque().encode() + os.urandom(64)
    assert findings(f'<img src="data:image/png;base64,{b64(png)}">') == []


def test_decoded_once_never_twice() -> None:
    """base64 inside base64 is not unwrapped again (bounded work, by design)."""
    inner = b64("api_token=" + opaque())
    assert findings(f"x = {b64('blob=' + inner)}\n") == []
    assert len(findings(f"x = {inner}\n")) == 1


def test_blob_over_the_size_cap_is_skipped() -> None:
    tok = opaque()
    big = "api_token=" + tok + "\n" + "#" * (decode.MAX_BLOB + 10)
    assert findings(f"x = {b64(big)}\n") == []
    small = "api_token=" + tok + "\n" + "#" * (decode.MAX_BLOB - 100)
    assert len(findings(f"x = {b64(small)}\n")) == 1


def test_hostile_density_is_cut_short_and_said() -> None:
    sc = FileScanner(CFG)
    sc.scan_bytes(b"kind: Secret\ndata:\n" + b"  k: dG9rZW4=\n" * 200_000)
    assert sc.unexamined > 0


@pytest.mark.parametrize("shift", [-3000, -10, 0, 7, 5000])
def test_blob_across_chunk_boundary(tmp_path: Path, shift: int) -> None:
    tok = opaque(40)
    line = f"BLOB={b64('#' * 2000 + chr(10) + 'api_token=' + tok + chr(10))}\n".encode()
    at = CHUNK + shift
    filler = (b"y" * 99 + b"\n") * (at // 100 + 1)
    p = tmp_path / "big.txt"
    p.write_bytes(filler[:at] + line + filler)
    res = scan([str(p)], CFG, workers=1)
    assert [(f.detector, f.offset, f.fingerprint) for f in res.findings] == [
        ("high-entropy", at + 5, CFG.fingerprint(tok))]


def test_audit_end_to_end_sees_through_base64(session, tmp_path: Path) -> None:
    tok = "tsPLANT" + opaque(36)
    (tmp_path / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\ndata:\n  api-token: {b64(tok)}\n  pw: {b64('changeme')}\n")
    (tmp_path / "page.html").write_text(f'<a href="data:text/plain;base64,{b64("token=" + tok)}">')
    r = session("audit", "--json", str(tmp_path))
    assert r.returncode == 1, r.stderr
    got = sorted((Path(f["path"]).name, f["line"], f["facts"]["key"], f["facts"]["encoding"])
                 for f in json.loads(r.stdout)["findings"])
    assert got == [("page.html", 1, "token", "base64"), ("secret.yaml", 4, "data.api-token", "base64")]
    text = session("audit", str(tmp_path))
    assert b"encoding=base64" in text.stdout
    session.assert_no_leak(tok)
    session.assert_no_leak(b64(tok))
