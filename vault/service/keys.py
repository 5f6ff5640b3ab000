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
    purged: bool = False  # the secret kept outside the vault (a keyring item) was deleted


@dataclass
class PassphraseChanged:
    slot_ids: list[str]
    rotated: bool = True  # the data key changed (else a warning went to ctx.warn)


NOT_ROTATED = ("the data key was not changed: {why}; an old copy or backup of the vault still opens with "
               "the old key until it is (give every remaining key, e.g. TOKENSAFE_RECOVERY_KEY, and run it again)")


def _slot_keys(ctx: Context, opened, slots: list) -> dict[str, bytes] | str:
    """The slot key of each slot in `slots` (checked against the data key), or why one is missing.

    Secrets already given are reused; others are asked once through the prompter (the
    environment, a descriptor or the terminal). A keyring slot needs no one.
    """
    from vault.store import keysources
    from vault.store.keyslots import unwrap

    unlocker = ctx.unlocker()
    vid = opened.header.vault_id
    keys: dict[str, bytes] = {}
    for slot in slots:
        source = keysources.get(slot.type)
        secret = None
        if source.unlock_secret is not None:
            secret = unlocker.ask(source.unlock_secret)
            if secret is None:
                return f"no {source.unlock_secret.what} was given for keyslot {slot.id}"
        try:
            key = source.slot_key(slot, secret)
        except (LockedError, UsageError) as e:
            return f"keyslot {slot.id}: {e.message}"
        if key is None or unwrap(slot, vid, key) != opened.data_key:
            return f"the key given for keyslot {slot.id} does not open it"
        keys[slot.id] = key
    return keys


def _rotated_slots(ctx: Context, opened, keep: list) -> tuple[bytes, dict[str, object]] | None:
    """(a new data key, `keep` re-wrapped under it), or None after warning why it cannot be done."""
    from vault import crypto
    from vault.store.keyslots import rewrap

    keys = _slot_keys(ctx, opened, keep)
    if isinstance(keys, str):
        ctx.warn(NOT_ROTATED.format(why=keys))
        return None
    data_key = crypto.new_key()
    vid = opened.header.vault_id
    return data_key, {s.id: rewrap(s, vid, keys[s.id], data_key) for s in keep}


def _same_slots(a: list, b: list) -> bool:
    return [s.to_json() for s in a] == [s.to_json() for s in b]


def _slots_changed():
    from vault.store.backend import ConflictError

    return ConflictError("the vault's keyslots changed while this command ran; nothing was changed",
                         "run the command again")


def _new_secret(ctx: Context, source) -> str | None:
    from vault import prompting
    from vault.store import keysources

    if source.new_secret is None:
        return None
    prompter = ctx.unlocker().prompter
    assert prompter is not None
    secret = prompting.require(prompter, source.new_secret)
    if source is keysources.PASSPHRASE_SOURCE and (weak := keysources.passphrase_warning(secret)):
        ctx.warn(weak)
    return secret


def recovery_not_shown(flag: str = "--recovery-key-file PATH") -> UsageError:
    """Refusal to make a recovery key that could only land in a log or a redirected stderr."""
    return UsageError("refusing to print a recovery key: standard error is not a terminal",
                      f"run it in a terminal, or pass {flag} (the file is created new, 0600)")


def _check_room(slots: list, kind: str) -> None:
    """The header bounds (SECURITY.md, Bounds): refuse a slot the format would not accept."""
    from vault.store import format

    limit = format.MAX_SLOTS_OF_KIND.get(kind)
    if len(slots) >= format.MAX_SLOTS or (limit is not None and sum(s.type == kind for s in slots) >= limit):
        raise UsageError(f"a vault holds at most {format.MAX_SLOTS} keyslots, at most 2 of them passphrase "
                         "slots; nothing was added", "remove one first: `tokensafe keys list`, then "
                         "`tokensafe keys rm ID`")


def list_keyslots(ctx: Context) -> KeysList:
    """The keyslots, from the header alone (no unlocking: it is not secret)."""
    from vault.store import keysources

    header = ctx.store.header()
    return KeysList(header.vault_id, [KeyslotInfo(s.id, s.type, s.created, keysources.get(s.type).describe(s))
                                      for s in header.keyslots])


def add_keyslot(ctx: Context, kind: str, can_show_once: bool = True) -> Added:
    """Add a keyslot of `kind`; a recovery key is returned to be shown once.

    `can_show_once`: the front end has a private place for what is shown once (a terminal, a
    new 0600 file); without one, a kind that shows something is refused before any change.
    """
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
    _check_room(opened.header.keyslots, kind)
    if source is keysources.RECOVERY and not can_show_once:
        raise recovery_not_shown()
    secret = _new_secret(ctx, source)
    h = opened.header
    sid = keyslots.next_slot_id(h.keyslots)
    slot, shown = source.new_slot(sid, h.vault_id, opened.data_key, secret)
    with store.edit(opened) as latest:
        if latest.header.slot(sid) is not None:  # another command added a slot meanwhile
            raise ConflictError("the vault's keyslots changed while this command ran; nothing was added",
                                "run the command again")
        _check_room(latest.header.keyslots, kind)
        latest.header.keyslots.append(slot)
    return Added(sid, kind, shown)


def remove_keyslot(ctx: Context, slot_id: str, purge: bool = False) -> Removed:
    """Remove a keyslot (never the last one) and re-encrypt the vault under a new data key.

    The new data key means that the removed slot's key opens no later generation, not even
    with an old copy of the header; the backup is replaced by the new generation too. The
    secret a slot keeps outside the vault (a keyring item) stays unless `purge`: copies of
    the vault and its old backups carry the same slot and still open with it.
    """
    from vault.store import keysources

    store = ctx.store
    opened = store.read()
    slot = opened.header.slot(slot_id)
    if slot is None:
        raise NotFoundError(f"no keyslot {slot_id!r}", "`tokensafe keys list` shows them")
    if len(opened.header.keyslots) == 1:
        raise UsageError("refusing to remove the last keyslot: the vault could never be opened again",
                         "add another first, e.g. `tokensafe keys add passphrase`")
    keep = [s for s in opened.header.keyslots if s.id != slot_id]
    rotated = _rotated_slots(ctx, opened, keep)
    with store.edit(opened) as latest:
        if not _same_slots(latest.header.keyslots, opened.header.keyslots):
            raise _slots_changed()
        if rotated is None:
            latest.header.keyslots = keep
        else:
            latest.data_key, fresh = rotated
            latest.header.keyslots = [fresh[s.id] for s in keep]  # type: ignore[misc]
    if rotated is not None:
        store.drop_old_backup()
    source = keysources.get(slot.type)
    if not purge or not source.keeps_outside():
        return Removed(slot_id, slot.type)
    try:
        source.forget(slot)
    except LockedError as e:
        return Removed(slot_id, slot.type, f"could not remove the key from {source.label}: {e.message}")
    return Removed(slot_id, slot.type, f"the key was deleted from {source.label}: copies and backups of "
                                       "this vault that still have that slot can no longer use it", True)


def change_passphrase(ctx: Context) -> PassphraseChanged:
    """Every passphrase keyslot gets the new passphrase, and the vault a new data key.

    With a new data key the old passphrase opens neither a later generation nor the backup
    (replaced by the new generation); the other slots are re-wrapped, which needs their keys
    (a recovery key given or asked for; the keyring by itself). Without them the data key
    stays and a warning says so.
    """
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
    others = [s for s in opened.header.keyslots if s.type != source.kind]
    rotated = _rotated_slots(ctx, opened, others)
    data_key = rotated[0] if rotated is not None else opened.data_key
    fresh: dict[str, object] = {sid: source.new_slot(sid, vid, data_key, secret)[0] for sid in ids}
    if rotated is not None:
        fresh.update(rotated[1])
    with store.edit(opened) as latest:
        if not _same_slots(latest.header.keyslots, opened.header.keyslots):
            raise _slots_changed()
        latest.header.keyslots = [fresh.get(s.id, s) for s in latest.header.keyslots]  # type: ignore[misc]
        latest.data_key = data_key
    if rotated is not None:
        store.drop_old_backup()
    return PassphraseChanged(ids, rotated is not None)
