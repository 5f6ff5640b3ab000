"""Finding 10: the fingerprint sidecar cannot be used to guess the user's passwords.

Before: `VAULT.fp` held its HMAC key in clear beside fingerprints of every value of kind
`token` of 16+ characters — long human passwords included — so 2 million guesses took 7 s.
Now the key stays inside the encrypted vault, and only token-like values are listed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conftest import PASSPHRASE, PLANTED, create_passphrase_vault
from tests.guard.tokens import auth0_mgmt, opaque
from vault import crypto
from vault.store import vaultfile
from vault.store.paths import fingerprints_path
from vault.store.unlock import Unlocker

PASSWORDS = {  # made by people: guessable, whatever their length
    "db_password": "Correct-Horse-Battery-Staple-9",
    "admin_pw": "MyDogSpot!2019Summer",
    "wifi": "tr0ub4dor&3 horse battery",
    "passphrase": "CorrectHorseBatteryStaple",
    "old": "my-dog-has-fleas-2019",
    "seasonal": "SummerVacation2019Beach",
}
TOKENS = {  # too random to guess
    "auth0_token": auth0_mgmt(),
    "gh": "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5",
    "api_key": opaque(40),
}


def _key_and_sidecar(vault_path: Path) -> tuple[bytes, dict]:
    key = vaultfile.read_vault(vault_path, Unlocker(use_keyring=False, _passphrase=PASSPHRASE)).data.fingerprint_key
    return key, json.loads(fingerprints_path(vault_path).read_text())


def test_the_sidecar_does_not_hold_its_key(vault_path: Path) -> None:
    create_passphrase_vault(vault_path, entries={"t": PLANTED, **TOKENS})
    key, doc = _key_and_sidecar(vault_path)
    raw = fingerprints_path(vault_path).read_text()
    assert "key" not in doc and base64.b64encode(key).decode() not in raw and key.hex() not in raw
    assert crypto.fingerprint(key, TOKENS["api_key"]) in doc["fingerprints"]


def test_only_token_like_values_are_fingerprinted(vault_path: Path) -> None:
    create_passphrase_vault(vault_path, entries={**PASSWORDS, **TOKENS})
    key, doc = _key_and_sidecar(vault_path)
    listed = set(doc["fingerprints"])
    for name, value in PASSWORDS.items():
        assert crypto.fingerprint(key, value) not in listed, name
    for name, value in TOKENS.items():
        assert crypto.fingerprint(key, value) in listed, name


def test_audit_deep_unlocks_to_recognise_vault_values(session, tmp_path: Path) -> None:
    vault = Path(session.env["TOKENSAFE_VAULT"])
    tok = "tsPLANTED" + opaque(30)
    create_passphrase_vault(vault, entries={"api_token": tok})
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text(f"rotate {tok} next week\n")
    r = session("audit", "--deep", "--json", str(notes))
    found = json.loads(r.stdout)["findings"]
    assert [(f["detector"], f["facts"].get("in_vault")) for f in found] == [("vault-known", True)]
    # without a way to unlock, --deep says so (exit 3) rather than pretending
    r = session("audit", "--deep", "--json", str(notes), env={"TOKENSAFE_PASSPHRASE": ""})
    assert r.returncode == 3 and tok.encode() not in r.stdout + r.stderr
    session.assert_no_leak(tok)
