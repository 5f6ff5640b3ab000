"""#15 finding 4: passphrases are NFC-normalised before Argon2id; a short new passphrase is warned about."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.conftest import create_passphrase_vault

NFC = unicodedata.normalize("NFC", "Grüße aus Zürich")
NFD = unicodedata.normalize("NFD", NFC)


@pytest.mark.parametrize("made, typed", [(NFC, NFD), (NFD, NFC), (NFD, NFD)])
def test_either_unicode_form_opens_the_vault(cli, home: Path, monkeypatch, made: str, typed: str) -> None:
    assert NFC != NFD
    path = home / "v" / "vault.tokensafe"
    create_passphrase_vault(path, entries={"tok": "value-0123456789abcdef"}, passphrase=made)
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", typed)
    r = cli(["get", "tok", "--vault", str(path)])
    assert (r.code, r.stdout) == (0, "value-0123456789abcdef\n"), r.stderr


def test_a_short_new_passphrase_is_accepted_with_a_warning(cli, vault_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "short")
    r = cli(["init", "--no-keyring"])
    assert r.code == 0 and "fewer than 12 characters" in r.stderr
    monkeypatch.setenv("TOKENSAFE_NEW_PASSPHRASE", "x")
    r = cli(["passwd"])
    assert r.code == 0 and "fewer than 12 characters" in r.stderr


def test_a_long_passphrase_gets_no_warning(cli, vault_path: Path) -> None:
    r = cli(["init", "--no-keyring"])
    assert r.code == 0 and "warning" not in r.stderr
