"""The key-source registry and the injected prompters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_passphrase_vault

from vault import crypto, prompting
from vault.errors import IntegrityError, LockedError, UsageError
from vault.store import format, keysources
from vault.store.format import Keyslot
from vault.store.keyslots import unwrap
from vault.store.unlock import WRONG_KEY, Unlocker
from vault.store.vaultfile import VaultStore

VID = "v" * 32
DK = bytes(range(32))


def test_the_registry_holds_the_three_kinds_in_unlock_order() -> None:
    assert keysources.kinds() == ("keyring", "passphrase", "recovery")
    assert keysources.get("recovery") is keysources.RECOVERY
    with pytest.raises(UsageError, match="unknown keyslot kind"):
        keysources.get("agent")


@pytest.mark.parametrize("source, secret", [(keysources.PASSPHRASE_SOURCE, "pw ✓"),
                                            (keysources.RECOVERY, None)])
def test_a_new_slot_opens_with_its_secret_and_only_with_it(source, secret) -> None:
    slot, shown = source.new_slot("k1", VID, DK, secret)
    secret = secret if shown is None else shown
    assert slot.type == source.kind and source.fields_ok(slot)
    assert unwrap(slot, VID, source.slot_key(slot, secret)) == DK
    assert source.slot_key(slot, None) is None  # nothing given: nothing to try
    wrong = "pw" if shown is None else keysources.format_recovery_key(bytes(32))
    assert unwrap(slot, VID, source.slot_key(slot, wrong)) is None
    assert secret not in source.describe(slot)


def test_an_empty_passphrase_makes_no_slot() -> None:
    with pytest.raises(UsageError):
        keysources.PASSPHRASE_SOURCE.new_slot("k1", VID, DK, "")


def test_the_keyring_says_why_it_cannot_run(home: Path) -> None:
    reason = keysources.KEYRING.unavailable()  # conftest's `fail` backend
    assert reason and "keyring" in reason


class PinSource(keysources.KeySource):
    """A made-up kind: a new kind is one class and a register call, nothing else."""

    kind = "test-pin"
    label = "a PIN"
    unlock_secret = prompting.Ask("pin", "PIN: ")

    def new_slot(self, slot_id, vault_id, data_key, secret=None):
        key = crypto.hkdf(secret.encode(), b"test pin")
        return keysources.wrap(slot_id, self.kind, vault_id, key, data_key, {"digits": len(secret)}), None

    def slot_key(self, slot, secret):
        return None if secret is None else crypto.hkdf(secret.encode(), b"test pin")

    def fields_ok(self, slot):
        return isinstance(slot.extra.get("digits"), int)


class Answers(prompting.NoPrompter):
    def __init__(self, **answers: str) -> None:
        self.answers = answers

    def supplied(self, what: str) -> str | None:
        return self.answers.get(what)

    def ask(self, request: prompting.Ask) -> str | None:
        return self.supplied(request.what)


def test_a_registered_kind_is_parsed_and_unlocks(vault_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(keysources.REGISTRY, PinSource.kind, PinSource())
    create_passphrase_vault(vault_path)
    store = VaultStore.local(vault_path, Unlocker(use_keyring=False, _passphrase=PASSPHRASE))
    with store.edit() as o:
        slot, _ = PinSource().new_slot("k2", o.header.vault_id, o.data_key, "4321")
        o.header.keyslots.append(slot)
    pin_only = VaultStore.local(vault_path, Unlocker(use_keyring=False, prompter=Answers(pin="4321")))
    assert pin_only.read().slot_id == "k2"
    monkeypatch.delitem(keysources.REGISTRY, PinSource.kind)
    with pytest.raises(IntegrityError, match="unknown type"):
        format.parse(vault_path.read_bytes())


def test_unlock_order_and_one_opaque_wrong_key_message() -> None:
    rslot, text = keysources.RECOVERY.new_slot("k2", VID, DK)
    pslot, _ = keysources.PASSPHRASE_SOURCE.new_slot("k1", VID, DK, "pw", crypto.KdfParams(1, 1, 8))
    header = format.Header(VID, 1, 0, [pslot, rslot])
    format.seal_commitment(header, DK)  # a version-2 header commits to its data key
    opens = lambda p: Unlocker(use_keyring=False, prompter=p).unlock(header)  # noqa: E731
    assert opens(Answers(passphrase="pw")) == (DK, "k1")
    # A recovery key given up front is an explicit request: it goes before any passphrase.
    assert opens(Answers(passphrase="wrong", **{"recovery key": text})) == (DK, "k2")
    with pytest.raises(LockedError) as exc:
        opens(Answers(passphrase="wrong"))
    assert exc.value.message == WRONG_KEY
    with pytest.raises(LockedError) as exc:
        opens(prompting.NoPrompter())
    assert exc.value.message == "cannot unlock the vault (keyslots: passphrase, recovery)"


def test_with_nothing_to_try_the_hint_names_the_prompters_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompting, "has_terminal", lambda: False)
    pslot, _ = keysources.PASSPHRASE_SOURCE.new_slot("k1", VID, DK, "pw", crypto.KdfParams(1, 1, 8))
    header = format.Header(VID, 1, 0, [pslot])
    with pytest.raises(LockedError) as exc:
        Unlocker(use_keyring=False, prompter=prompting.standard(environ={})).unlock(header)
    assert exc.value.hint == "set TOKENSAFE_PASSPHRASE, or run it in a terminal"


# prompters ------------------------------------------------------------------------------

def test_standard_prompter_order_fd_then_environment_then_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(prompting, "has_terminal", lambda: True)
    monkeypatch.setattr(prompting, "prompt_hidden", lambda p: asked.append(p) or "typed")
    r, w = os.pipe()
    os.write(w, "from fd ✓\nsecond line\n".encode())
    os.close(w)
    try:
        p = prompting.standard(r, environ={"TOKENSAFE_PASSPHRASE": "from env",
                                           "TOKENSAFE_RECOVERY_KEY": ""})
        ask = keysources.PASSPHRASE_SOURCE.unlock_secret
        assert p.ask(ask) == "from fd ✓" and p.ask(ask) == "from fd ✓"  # read once
        assert prompting.standard(environ={"TOKENSAFE_PASSPHRASE": "from env"}).ask(ask) == "from env"
        assert p.supplied(prompting.RECOVERY_KEY) is None  # empty variable = unset
        assert p.ask(keysources.RECOVERY.unlock_secret) == "typed" and asked == ["Recovery key (TSR1-…): "]
    finally:
        os.close(r)


def test_terminal_confirmation_must_match(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(["one", "two"])
    monkeypatch.setattr(prompting, "has_terminal", lambda: True)
    monkeypatch.setattr(prompting, "prompt_hidden", lambda p: next(typed))
    with pytest.raises(UsageError, match="do not match"):
        prompting.TerminalPrompter().ask(keysources.PASSPHRASE_SOURCE.new_secret)


def test_require_says_how_to_give_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompting, "has_terminal", lambda: False)
    with pytest.raises(LockedError) as exc:
        prompting.require(prompting.standard(environ={}, new_passphrase_fd=None),
                          keysources.PASSPHRASE_SOURCE.new_secret)
    assert exc.value.message == "no new passphrase given and no terminal to ask on"
    assert "TOKENSAFE_NEW_PASSPHRASE" in (exc.value.hint or "")
    with pytest.raises(LockedError, match="no passphrase given"):
        prompting.require(prompting.NoPrompter(), prompting.Ask(prompting.PASSPHRASE, "x"))
    with pytest.raises(UsageError, match="empty"):
        prompting.require(Answers(**{"new passphrase": ""}), keysources.PASSPHRASE_SOURCE.new_secret)


def test_a_bad_descriptor_is_a_clear_locked_error() -> None:
    with pytest.raises(LockedError, match="file descriptor"):
        prompting.FdPrompter(987).supplied(prompting.PASSPHRASE)


def test_keyslot_json_round_trip_keeps_kind_fields() -> None:
    slot, _ = keysources.PASSPHRASE_SOURCE.new_slot("k1", VID, DK, "pw", crypto.KdfParams(1, 1, 8))
    again = Keyslot.from_json(slot.to_json())
    assert again == slot and keysources.PASSPHRASE_SOURCE.fields_ok(again)
