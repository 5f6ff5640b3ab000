"""#15 finding 7: a header that is not in canonical form, or names its vault or slots badly, is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security._format_helpers import rewrite_header


@pytest.mark.parametrize("change, serialise", [
    (None, lambda d: json.dumps(d, sort_keys=True).encode()),  # whitespace
    (None, lambda d: json.dumps(d, separators=(",", ":")).encode().replace(b'"cipher"', b'"cipher":"AES-256-GCM","cipher"', 1)),
    (lambda d: d["keyslots"][0].update(wrap=str(d["keyslots"][0]["wrap"])), None),
    (lambda d: d["keyslots"][0].update(wrap=float(d["keyslots"][0]["wrap"])), None),
    (lambda d: d.update(vault_id=d["vault_id"][:-1] + "|"), None),
    (lambda d: d["keyslots"][0].update(id="k1|passphrase"), None),
    (lambda d: d["keyslots"][0].update(extra_field="x"), None),
    (lambda d: d.update(generation=1), None),  # version 2 keeps the generation in the payload
    (lambda d: d.pop("commit"), None),  # the data-key commitment stripped
], ids=["whitespace", "duplicate-key", "string-integer", "float", "vault-id", "slot-id", "unknown-field",
        "clear-generation", "no-commitment"])
def test_non_canonical_or_malformed_header_is_exit_5(cli, vault: Path, change, serialise) -> None:
    from vault.errors import IntegrityError
    from vault.store import format

    rewrite_header(vault, change, serialise)
    # Refused by the header rules alone, with no key (the AEAD would refuse it later too, but
    # another implementation must not be able to read these bytes differently).
    with pytest.raises(IntegrityError):
        format.parse(vault.read_bytes())
    r = cli(["get", "x"])
    assert r.code == 5 and "integrity" in r.stderr, r.stderr


def test_security_md_gives_the_order_the_code_checks_in() -> None:
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text()
    order = text.split("Reading checks, in this order", 1)[1].split("### Header", 1)[0]
    steps = ["(2) the first 7 bytes", "(3) the version byte", "(4) the checksum", "(5) `H`", "(6) the header"]
    assert [order.index(s) for s in steps] == sorted(order.index(s) for s in steps)
