"""Keyslots: list, add, remove (`tokensafe keys …`) and change the passphrase (`passwd`).

The kinds come from the key-source registry (vault/store/keysources.py). New slots are
made before the vault is locked — a passphrase slot runs Argon2id — and written under the
lock. New secrets (a new passphrase) come from the context's prompter; what must be shown
once (a recovery key) is returned, never printed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vault.errors import LockedError, NotFoundError, UsageError
from vault.service.context import Context


@dataclass
class KeyslotInfo:
    id: str
    type: str
    created: int
    detail: str  # never secret: KDF parameters, keyring handle


@dataclass
class KeysList:
    vault_id: str
    keyslots: list[KeyslotInfo]


@dataclass
class Added:
    slot_id: str
    kind: str
    recovery_key: str | None = field(default=None, repr=False)  # to show once


@dataclass
class Removed:
    slot_id: str
    kind: str
    warning: str | None = None  # e.g. the keyring entry could not be deleted


@dataclass
class PassphraseChanged:
    slot_ids: list[str]


def _new_secret(ctx: Context, source) -> str | None:
    from vault import prompting

    if source.new_secret is None:
        return None
    prompter = ctx.unlocker().prompter
    assert prompter is not None
    return prompting.require(prompter, source.new_secret)


def list_keyslots(ctx: Context) -> KeysList:
    """The keyslots, from the header alone (no unlocking: it is not secret)."""
    from vault.store import keysources

    header = ctx.store.header()
    return KeysList(header.vault_id, [KeyslotInfo(s.id, s.type, s.created, keysources.get(s.type).describe(s))
                                      for s in header.keyslots])


def add_keyslot(ctx: Context, kind: str) -> Added:
    """Add a keyslot of `kind`; a recovery key is returned to be shown once."""
    from vault.store import keyslots, keysources
    from vault.store.backend import ConflictError

    source = keysources.get(kind)
    reason = source.unavailable()
    if reason is not None:
        raise LockedError(f"cannot add a {kind} keyslot: {reason}",
                          f"make {source.label} usable here, or add another kind, "
                          "e.g. `tokensafe keys add passphrase`")
    store = ctx.store
    opened = store.read()
    secret = _new_secret(ctx, source)
    h = opened.header
    sid = keyslots.next_slot_id(h.keyslots)
    slot, shown = source.new_slot(sid, h.vault_id, opened.data_key, secret)
    with store.edit(opened) as latest:
        if latest.header.slot(sid) is not None:  # another command added a slot meanwhile
            raise ConflictError("the vault's keyslots changed while this command ran; nothing was added",
                                "run the command again")
        latest.header.keyslots.append(slot)
    return Added(sid, kind, shown)


def remove_keyslot(ctx: Context, slot_id: str) -> Removed:
    """Remove a keyslot (never the last one); a keyring slot's key leaves the keyring too."""
    from vault.store import keysources

    with ctx.store.edit() as opened:
        h = opened.header
        slot = h.slot(slot_id)
        if slot is None:
            raise NotFoundError(f"no keyslot {slot_id!r}", "`tokensafe keys list` shows them")
        if len(h.keyslots) == 1:
            raise UsageError("refusing to remove the last keyslot: the vault could never be opened again",
                             "add another first, e.g. `tokensafe keys add passphrase`")
        h.keyslots.remove(slot)
    source = keysources.get(slot.type)
    warning = None
    try:
        source.forget(slot)
    except LockedError as e:
        warning = f"could not remove the key from {source.label}: {e.message}"
    return Removed(slot_id, slot.type, warning)


def change_passphrase(ctx: Context) -> PassphraseChanged:
    """Every passphrase keyslot gets the new passphrase (from the prompter)."""
    from vault.store import keysources

    source = keysources.PASSPHRASE_SOURCE
    store = ctx.store
    opened = store.read()
    ids = [s.id for s in opened.header.keyslots if s.type == source.kind]
    if not ids:
        raise NotFoundError("this vault has no passphrase keyslot",
                            "add one with `tokensafe keys add passphrase`")
    secret = _new_secret(ctx, source)
    vid = opened.header.vault_id
    fresh = {sid: source.new_slot(sid, vid, opened.data_key, secret)[0] for sid in ids}
    with store.edit(opened) as latest:
        slots = latest.header.keyslots
        latest.header.keyslots = [fresh.get(s.id, s) if s.type == source.kind else s for s in slots]
    return PassphraseChanged(ids)
