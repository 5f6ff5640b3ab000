"""The keyslot use cases called directly, on a real temporary vault (no CLI in between)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vault import prompting
from vault.errors import LockedError, NotFoundError, UsageError
from vault.service import keys
from vault.service.context import Context


def _ctx(vault: Path, **answers: str) -> Context:
    env = {"TOKENSAFE_PASSPHRASE": PASSPHRASE, **answers}
    return Context(str(vault), prompter=prompting.standard(environ=env, terminal=False))


def test_list_add_remove_round_trip(vault: Path) -> None:
    ctx = _ctx(vault)
    assert [(s.id, s.type) for s in keys.list_keyslots(ctx).keyslots] == [("k1", "passphrase")]
    added = keys.add_keyslot(ctx, "recovery")
    assert added.slot_id == "k2" and added.recovery_key and added.recovery_key.startswith("TSR1-")
    assert added.recovery_key not in repr(added)
    assert [s.type for s in keys.list_keyslots(_ctx(vault)).keyslots] == ["passphrase", "recovery"]
    assert keys.remove_keyslot(_ctx(vault), "k2") == keys.Removed("k2", "recovery", None)
    with pytest.raises(NotFoundError):
        keys.remove_keyslot(_ctx(vault), "k2")
    with pytest.raises(UsageError, match="last keyslot"):
        keys.remove_keyslot(_ctx(vault), "k1")


def test_change_passphrase_needs_a_new_one_and_then_only_it_opens(vault: Path) -> None:
    with pytest.raises(LockedError, match="no new passphrase given"):
        keys.change_passphrase(_ctx(vault))
    assert keys.change_passphrase(_ctx(vault, TOKENSAFE_NEW_PASSPHRASE="a much newer passphrase")).slot_ids == ["k1"]
    with pytest.raises(LockedError):
        _ctx(vault).read()
    _ctx(vault, TOKENSAFE_PASSPHRASE="a much newer passphrase").read()
