"""#15 finding 2: a copy of the vault shows a size bucket, not the payload's length, and no creation times."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import create_passphrase_vault
from tests.security._format_helpers import header_of


def test_payload_is_padded_to_a_bucket(home: Path) -> None:
    short, long = home / "a" / "short.tokensafe", home / "b" / "long.tokensafe"
    create_passphrase_vault(short, entries={"t": "x" * 10})
    create_passphrase_vault(long, entries={"t": "x" * 300})
    assert short.stat().st_size == long.stat().st_size  # one bucket: the lengths do not show


def test_header_keeps_no_creation_times_and_no_generation(vault: Path) -> None:
    header = header_of(vault.read_bytes())
    assert set(header) == {"cipher", "commit", "keyslots", "vault_id"}  # format version 2
    assert not any("created" in s for s in header["keyslots"])


def test_security_md_lists_what_a_copy_reveals() -> None:
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text()
    section = text.split("### What a copy reveals", 1)[1].split("\n### ", 1)[0]
    for item in ("generation", "vault_id", "bucket", ".fp", ".bak", "handle"):
        assert item in section, item
