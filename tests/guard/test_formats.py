"""Files users really have, beyond the corpus generator: other API clients, shell history,
deployment manifests, registry credentials, tokens encoded in transit."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.guard.tokens import NOW, auth0_mgmt, client_secret, jwt, opaque
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
TOK = opaque(40)
JWT = jwt()
CS = client_secret()
MGMT = auth0_mgmt()

FILES: list[tuple[str, str, list[str]]] = [
    ("insomnia.json", json.dumps({"_type": "export", "__export_format": 4, "resources": [
        {"_type": "environment", "data": {"base_url": "https://api.example.com", "auth0_token": TOK}},
        {"_type": "request", "url": "{{ base_url }}/users",
         "authentication": {"type": "bearer", "token": JWT},
         "headers": [{"name": "X-API-Key", "value": CS}]}]}, indent=2),
     ["high-entropy", "jwt", "high-entropy"]),
    ("users.bru", "meta {\n  name: users\n  type: http\n}\n\nget {\n  url: {{baseUrl}}/users\n"
                  f"  auth: bearer\n}}\n\nauth:bearer {{\n  token: {TOK}\n}}\n", ["high-entropy"]),
    ("environments/prod.bru", f"vars {{\n  baseUrl: https://acme.eu.auth0.com\n  auth0_token: {MGMT}\n}}\n"
                              "vars:secret [\n  client_secret\n]\n", ["auth0-management-token"]),
    ("httpie-session.json", json.dumps({"headers": [{"name": "Authorization", "value": f"Bearer {TOK}"}],
                                        "auth": {"type": "bearer", "raw_auth": CS}}, indent=4),
     ["bearer", "high-entropy"]),
    (".bash_history", f"cd ~/work\nexport AUTH0_TOKEN={MGMT}\ncurl -s -H \"Authorization: Bearer $AUTH0_TOKEN\" "
                      f"https://acme.eu.auth0.com/api/v2/users\nhttp POST :8080/login Authorization:'Token {TOK}'\n",
     ["auth0-management-token", "bearer"]),
    (".zsh_history", f": 1700000000:0;curl -u admin:x https://x\n: 1700000005:0;gh auth login --with-token <<< {TOK}\n"
                     f": 1700000009:0;API_KEY={TOK} npm test\n", ["high-entropy"]),
    ("k8s-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: auth0\ntype: Opaque\ndata:\n"
                        f"  client-secret: {base64.b64encode(CS.encode()).decode()}\n"
                        f"  mgmt-token: {base64.b64encode(MGMT.encode()).decode()}\n"
                        f"stringData:\n  api-token: {TOK}\n",
     ["client-secret", "auth0-management-token", "high-entropy"]),
    ("deployment.yaml", "env:\n  - name: AUTH0_CLIENT_SECRET\n    valueFrom:\n      secretKeyRef: {name: auth0, key: cs}\n"
                        "  - name: AUTH0_DOMAIN\n    value: acme.eu.auth0.com\n", []),
    ("docker-config.json", json.dumps({"auths": {"registry.example.com": {
        "auth": base64.b64encode(f"deploy:{TOK}".encode()).decode()}}}), ["docker-auth"]),
    (".npmrc", f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={TOK}\n", ["credential-file"]),
    ("terraform.tfvars", f'auth0_domain = "acme.eu.auth0.com"\nauth0_client_secret = "{CS}"\n', ["client-secret"]),
    ("callback.log", f"GET /callback#access_token={JWT}&token_type=Bearer&expires_in=86400\n"
                     f"POST /oauth/token body=grant_type%3Dclient_credentials%26client_secret%3D{CS}%26x%3D1\n"
                     f"q=%7B%22access_token%22%3A%22{TOK}%22%7D\n", ["jwt", "client-secret", "high-entropy"]),
    ("service-account.json", json.dumps({"type": "service_account", "private_key_id": "abc",
        "private_key": "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(bytes(range(200))).decode()
        + "\n-----END PRIVATE KEY-----\n"}), ["private-key"]),
    ("client.py", 'import requests\nTOKEN = os.environ["AUTH0_TOKEN"]\n'
                  'requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"})\n', []),
    ("README.md", "Set `AUTH0_TOKEN=<your token>` then run `curl -H 'Authorization: Bearer YOUR_TOKEN_HERE'`.\n"
                  "Example JWT from jwt.io: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n",
     []),
    ("package-lock.json", json.dumps({"packages": {"node_modules/a": {
        "integrity": "sha512-" + base64.b64encode(bytes(range(64))).decode(),
        "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz"}}}, indent=2), []),
]


@pytest.mark.parametrize("name,text,expected", FILES, ids=[f[0] for f in FILES])
def test_real_formats(name: str, text: str, expected: list[str]) -> None:
    got = [f.detector for f in sorted(SCANNER.scan_bytes(text.encode(), name), key=lambda f: f.offset)]
    assert got == expected


def test_url_encoded_value_is_decoded_for_matching() -> None:
    raw = f"redirect?state=1&access_token={quote(TOK + '/+=')}&x=1"
    [f] = SCANNER.scan_bytes(raw.encode(), "u")
    assert f.facts.get("encoding") == "url" and f.preview.endswith(f"({len(TOK) + 3})")
