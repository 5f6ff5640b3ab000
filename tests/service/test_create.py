"""`init` through the service: which keyslots, when the passphrase is asked, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vault.errors import LockedError, UsageError
from vault.service import entries
from vault.service.context import Context
from vault.service.create import InitOptions, init_vault


def test_no_keyring_falls_back_to_a_passphrase(vault_path: Path) -> None:
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return PASSPHRASE

    ctx = Context(str(vault_path))
    out = init_vault(ctx, InitOptions(env="dev"), ask)
    assert asked == [1]
    assert (out.path, out.keyslots, out.env, out.recovery_key) == (vault_path, ["passphrase"], "dev", None)
    assert out.keyring_reason  # the fail backend says why
    assert entries.list_envs(ctx).current == "dev"  # opens with that passphrase (TOKENSAFE_PASSPHRASE)
    assert vault_path.stat().st_mode & 0o777 == 0o600


def test_an_existing_vault_is_never_replaced(vault: Path) -> None:
    before = vault.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        init_vault(Context(str(vault)), InitOptions(), lambda: pytest.fail("asked for a passphrase"))
    assert vault.read_bytes() == before


def test_a_required_keyring_that_is_missing_is_an_error(vault_path: Path) -> None:
    with pytest.raises(LockedError):
        init_vault(Context(str(vault_path)), InitOptions(use_keyring=True), lambda: PASSPHRASE)
    assert not vault_path.exists()


def test_a_bad_environment_name_is_refused_first(vault_path: Path) -> None:
    with pytest.raises(UsageError):
        init_vault(Context(str(vault_path)), InitOptions(use_keyring=False, env="no spaces"), lambda: PASSPHRASE)
    assert not vault_path.exists()
