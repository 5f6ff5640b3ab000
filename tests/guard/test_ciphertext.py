"""Ciphertext is not a leak: encrypted values/files are listed apart, plaintext beside them
is still found. Fixtures are built here in the published shapes of each format (random bytes
stand in for the ciphertext: the guard must not decrypt, only recognise):
- Bitnami sealed-secrets `SealedSecret` (bitnami-labs/sealed-secrets README),
- sops YAML/JSON/dotenv (getsops/sops README: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`),
- ansible-vault 1.1 (docs.ansible.com vault format: header line + hex lines),
- git-crypt (`\\0GITCRYPT\\0` header, AGWA/git-crypt), age v1 (C2SP age.md), dotenvx
  (`encrypted:` + base64 of an ECIES ciphertext, dotenvx.com docs).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guard.tokens import NOW, client_secret, opaque
from vault.guard import ciphertext
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))


def b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


def sealed_value() -> str:
    return "Ag" + b64(600)[2:]  # sealed values start with the RSA-OAEP length prefix 0x02 0x..


def sops_value(t: str = "str") -> str:
    return f"ENC[AES256_GCM,data:{b64(30)},iv:{b64(32)},tag:{b64(16)},type:{t}]"


def hexlines(n: int = 6) -> str:
    return "".join(f"          {secrets.token_hex(40)}\n" for _ in range(n))


def scan(text: str | bytes, path: str = "x.yaml") -> tuple[list, list]:
    data = text.encode() if isinstance(text, str) else text
    found = SCANNER.scan_bytes(data, path)
    return found, list(SCANNER.encrypted)


SEALED = f"""apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: auth0
  namespace: prod
spec:
  encryptedData:
    client_secret: {sealed_value()}
    api_token: {sealed_value()}
    DB_PASSWORD: {sealed_value()}
  template:
    metadata:
      name: auth0
"""


def test_sealed_secret_is_encrypted_not_a_finding() -> None:
    found, enc = scan(SEALED)
    assert found == []
    assert [(e.kind, e.line) for e in enc] == [("sealed-secret", 7)]


def test_sealed_secret_plaintext_beside_is_found() -> None:
    cs = client_secret()
    text = SEALED + f"    data:\n      client_secret: {cs}\n---\napiVersion: v1\nkind: Secret\n"
    found, enc = scan(text)
    assert [(f.detector, f.line) for f in found] == [("client-secret", 15)]
    assert [e.kind for e in enc] == ["sealed-secret"]


def test_sealed_secret_json() -> None:
    doc = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "x"},
           "spec": {"encryptedData": {"client_secret": sealed_value(), "api_key": sealed_value()}}}
    found, enc = scan(json.dumps(doc), "x.json")
    assert found == [] and [e.kind for e in enc] == ["sealed-secret"]
    found, enc = scan(json.dumps(doc, indent=2), "x.json")
    assert found == [] and [e.kind for e in enc] == ["sealed-secret"]


def test_sealed_secret_word_in_prose_is_not_a_span() -> None:
    cs = client_secret()
    found, enc = scan(f"# how to make a SealedSecret\nencryptedData: x\nclient_secret: {cs}\n")
    assert [f.detector for f in found] == ["client-secret"] and enc == []


def test_sops_yaml_json_and_dotenv() -> None:
    yaml = (f"db_password: {sops_value()}\napi_token: {sops_value()}\nsops:\n"
            f"    mac: {sops_value()}\n    age:\n        - recipient: age1{'q' * 58}\n"
            "          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n"
            f"            {b64(60)}\n            {b64(30)}\n            -----END AGE ENCRYPTED FILE-----\n"
            "    version: 3.9.0\n")
    found, enc = scan(yaml)
    assert found == []
    assert [e.kind for e in enc] == ["sops", "sops", "sops", "age"]
    assert [e.key for e in enc][:3] == ["db_password", "api_token", "mac"]
    js = json.dumps({"client_secret": sops_value(), "password": sops_value(),
                     "sops": {"mac": sops_value(), "pgp": [{"enc": "-----BEGIN PGP MESSAGE-----\n"
                                                            + b64(200) + "\n-----END PGP MESSAGE-----\n"}]}})
    found, enc = scan(js, "secrets.json")
    assert found == [] and sorted(e.kind for e in enc) == ["pgp", "sops", "sops", "sops"]
    env = f"API_TOKEN={sops_value()}\nsops_mac={sops_value()}\nPLAIN_TOKEN={opaque()}\n"
    found, enc = scan(env, "prod.env")
    assert [(f.detector, f.line) for f in found] == [("high-entropy", 3)]
    assert [e.kind for e in enc] == ["sops", "sops"]


def test_ansible_vault_inline_and_whole_file() -> None:
    text = ("db_user: app\ndb_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n"
            + hexlines() + f"api_token: {opaque()}\n")
    found, enc = scan(text, "group_vars/all.yml")
    assert [(f.detector, f.line) for f in found] == [("high-entropy", 10)]
    assert [(e.kind, e.key, e.line) for e in enc] == [("ansible-vault", "db_password", 2)]
    whole = "$ANSIBLE_VAULT;1.1;AES256\n" + hexlines(20).replace("          ", "")
    found, enc = scan(whole, "vault.yml")
    assert found == [] and [e.kind for e in enc] == ["ansible-vault"]


def test_git_crypt_and_binary_age_files() -> None:
    noise = secrets.token_bytes(4000)
    for head, kind in ((b"\x00GITCRYPT\x00", "git-crypt"),
                       (b"age-encryption.org/v1\n-> X25519 abc\n", "age")):
        # ciphertext bytes that happen to spell a token are not read at all
        data = head + noise + b" token=" + opaque().encode() + b" " + noise
        found, enc = scan(data, "secret.env")
        assert found == [] and [e.kind for e in enc] == [kind]


def test_age_armour_and_dotenvx() -> None:
    armour = ("-----BEGIN AGE ENCRYPTED FILE-----\n" + b64(48) + "\n" + b64(48)
              + "\n-----END AGE ENCRYPTED FILE-----\n")
    found, enc = scan("notes\n" + armour + f"token: {opaque()}\n", "notes.txt")
    assert [f.line for f in found] == [6] and [e.kind for e in enc] == ["age"]
    env = (f'#/---[DOTENV_PUBLIC_KEY]---/\nDOTENV_PUBLIC_KEY="03{secrets.token_hex(32)}"\n'
           f'API_TOKEN="encrypted:{b64(120)}"\nCLIENT_SECRET="encrypted:{b64(90)}"\n')
    found, enc = scan(env, ".env")
    assert found == []
    assert [(e.kind, e.key) for e in enc] == [("dotenvx", "API_TOKEN"), ("dotenvx", "CLIENT_SECRET")]
    # the private key file of dotenvx is a real secret
    keys = f'DOTENV_PRIVATE_KEY="{secrets.token_hex(32)}"\n'
    found, _ = scan(keys, ".env.keys")
    assert [f.detector for f in found] == ["high-entropy"]


def test_hostile_markers_stay_linear() -> None:
    # many BEGINs without an END, many `kind: SealedSecret` without data: bounded work
    data = ("-----BEGIN PGP MESSAGE-----\n" * 20000 + "kind: SealedSecret\n" * 20000).encode()
    assert ciphertext.spans(data) == []


def test_audit_lists_encrypted_apart_and_exit_status_ignores_them(tmp_path: Path) -> None:
    (tmp_path / "sealed.yaml").write_text(SEALED)
    (tmp_path / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n" + hexlines(4))
    env = {**os.environ, "TOKENSAFE_GUARD_KEY": str(tmp_path / "gk"), "HOME": str(tmp_path)}
    cmd = [sys.executable, "-c", "from vault.cli import main; main()", "audit"]
    r = subprocess.run([*cmd, "--json", str(tmp_path)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"] == [] and doc["stats"]["encrypted"] == 2
    assert sorted(e["kind"] for e in doc["encrypted"]) == ["ansible-vault", "sealed-secret"]
    r = subprocess.run([*cmd, str(tmp_path)], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "encrypted (not a leak): 2" in r.stdout, r.stdout
    # plaintext beside it still fails the audit
    tok = opaque()
    (tmp_path / "leak.env").write_text(f"API_TOKEN={tok}\n")
    r = subprocess.run([*cmd, "--json", str(tmp_path)], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and tok not in r.stdout + r.stderr
    assert [f["path"].endswith("leak.env") for f in json.loads(r.stdout)["findings"]] == [True]


@pytest.mark.parametrize("make", [sealed_value, sops_value, lambda: "encrypted:" + b64(60)],
                         ids=["sealed", "sops", "dotenvx"])  # values made inside: xdist ids agree
def test_encrypted_values_in_a_source_file_with_candidates(make) -> None:
    found, enc = scan(f'client_secret = "{make()}"\ntoken = "{opaque()}"\n', "settings.py")
    assert [f.line for f in found] == [2]


def test_an_ansible_tag_is_only_its_header_s_when_nothing_stands_between() -> None:
    """A line between `key: !vault |` and `$ANSIBLE_VAULT` is not ciphertext (found by the
    labelled corpus: a plaintext token there was hidden in the block's span)."""
    tok = opaque(40)
    text = f"a: !vault |\napi_token: {tok}\n          $ANSIBLE_VAULT;1.1;AES256\n{hexlines()}"
    findings, enc = scan(text)
    assert [f.line for f in findings] == [2] and len(enc) == 1
    text = f"a: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n{hexlines()}api_token: {tok}\n"
    findings, enc = scan(text)
    assert len(findings) == 1 and [e.key for e in enc] == ["a"]
