"""The pinned vectors, read by a reader written from SECURITY.md that imports nothing of `vault`.

It must agree with the vectors' expected outcome, payload and intermediate values (data key,
slot keys, keyslot AAD, commitments, padded length) byte for byte (#15, finding 8).
"""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import independent_reader as ir
import pytest

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"
VECTORS = sorted(VECTOR_DIR.glob("*.json"))
OUTCOME = {"integrity failure": "integrity", "wrong key": "wrong key", "bad key": "bad key"}


def test_the_reader_imports_nothing_of_vault() -> None:
    tree = ast.parse((Path(__file__).parent / "independent_reader.py").read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "vault" or n.startswith(("vault.", "tests", "store_vectors"))]


def test_there_are_vectors_of_every_kind() -> None:
    expects = {json.loads(p.read_text())["expect"] for p in VECTORS}
    assert expects == {"success", *OUTCOME}
    names = {p.stem for p in VECTORS}
    assert {"success_keyring", "success_nfd_passphrase", "swapped_keyslot", "added_keyslot",
            "kdf_memory_out_of_range", "noncanonical_whitespace", "recovery_key_spare_bits"} <= names
    assert {"v2_success_passphrase", "v2_upgraded_success_recovery", "v2_stripped_commitment",
            "v2_commitment_mismatch", "v2_commitment_mismatch_uncommitted_slot", "v2_downgrade_to_v1",
            "v2_noncanonical_whitespace", "v2_swapped_keyslot"} <= names


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_independent_reader_agrees_with_the_vector(path: Path) -> None:
    doc = json.loads(path.read_text())
    data = base64.b64decode(doc["file_base64"])
    keys = {k: doc[k] for k in ("passphrase", "recovery_key", "keyring_secret") if k in doc}
    seen_v2 = set(doc.get("seen_v2", []))
    if doc["expect"] == "success":
        payload, seen = ir.read(data, **keys, seen_v2=seen_v2)
        assert payload == doc["payload"]
        want = doc["intermediate"]
        assert seen["data_key"] == want["data_key"]
        assert seen["padded_plaintext_length"] == want["padded_plaintext_length"]
        (sid,) = [k for k in seen if k.startswith("k")]
        assert seen[sid] == want["slots"][sid]
        if data[7] == 2:
            assert seen["data_key_commit"] == want["data_key_commit"]
            assert payload["generation"] == want["generation"]
    else:
        with pytest.raises(ir.Bad) as exc:
            ir.read(data, **keys, seen_v2=seen_v2)
        assert str(exc.value) == OUTCOME[doc["expect"]]
    if seen_v2:  # the downgrade vector: the same file opens when its vault was never seen at version 2
        assert ir.read(data, **keys)[0]["current"] == "dev"


@pytest.mark.parametrize("name", ["main_v1", "main_v1_commit"])
def test_vault_written_by_main_before_this_revision_reads_independently_too(name: str) -> None:
    meta = json.loads((VECTOR_DIR / "from_main" / f"{name}.json").read_text())
    data = (VECTOR_DIR / "from_main" / meta["file"]).read_bytes()
    payload, _ = ir.read(data, passphrase=meta["passphrase"])
    assert payload["environments"]["dev"]["entries"]["auth0_token"]["value"] == meta["entries"]["auth0_token"]
    payload, _ = ir.read(data, recovery_key=meta["recovery_key"])
    assert payload["current"] == "dev"


def test_security_md_and_the_reader_use_the_same_version_2_labels() -> None:
    """The LP(...) labels of SECURITY.md's version-2 section are exactly those the reader uses."""
    import re

    root = Path(__file__).resolve().parents[2]
    spec = (root / "SECURITY.md").read_text().split("## Vault file format, version 2", 1)[1]
    spec = spec.split("\n## ", 1)[0]
    reader = (Path(__file__).parent / "independent_reader.py").read_text()
    in_spec = set(re.findall(r'LP\("([^"]+)"\)', spec))
    in_reader = set(re.findall(r'lp\("([^"]+)"', reader))
    assert in_spec == in_reader == {"tokensafe keyslot v2", "tokensafe keyslot commitment v2",
                                    "tokensafe data key commitment v2"}
    assert "`TKSAFE\\x00\\x02`" in spec and b"TKSAFE\\x00" in reader.encode()
