"""`export --format dotenv` then `import`: the installed command gets every value back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import create_passphrase_vault

pytestmark = pytest.mark.e2e

# (`$NAME`-like values are skipped by import as templates, by design: not tested here.)
VALUES = {"multi": "a\nb", "dollar": "a$b", "quotes": "it's \"q\"",
          "hash": "x #y", "blanks": "  pad  ", "slash": "C:\\dir\\", "uni": "caf\u00e9 \u2028"}


def test_export_dotenv_then_import_round_trips(session, home: Path, tmp_path: Path) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]))
    for name, value in VALUES.items():
        assert session("set", name, input=value).returncode == 0
    r = session("export", "--format", "dotenv", "--as-is")
    assert r.returncode == 0, r.stderr
    f = tmp_path / "copy.env"
    f.write_bytes(r.stdout)
    assert session("env", "create", "back").returncode == 0
    r = session("import", str(f), "--env", "back", "--all")
    assert r.returncode == 0, r.stderr
    r = session("export", "--format", "json", "--env", "back")
    assert json.loads(r.stdout) == VALUES
