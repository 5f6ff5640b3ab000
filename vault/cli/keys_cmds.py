"""passwd and keys: manage the keyslots that open the vault.

The kinds come from the key-source registry (vault/store/keysources.py). New slots are
made before the vault is locked — a passphrase slot runs Argon2id — and written under the
lock; the data key never changes, so a slot made from the first read fits the latest one.
"""

from __future__ import annotations

import json
import time

import click

from vault.cli.common import open_store, passphrase_fd_option, vault_option
from vault.errors import LockedError, NotFoundError, UsageError
from vault.store import keysources

new_fd_option = click.option("--new-passphrase-fd", type=int, default=None, metavar="N",
                             help="Read the new passphrase from file descriptor N "
                                  "(else TOKENSAFE_NEW_PASSPHRASE, else a prompt).")


def _new_secret(store, source: keysources.KeySource) -> str | None:
    from vault import prompting

    if source.new_secret is None:
        return None
    return prompting.require(store.unlocker.prompter, source.new_secret)


@click.command("passwd", epilog="Example: tokensafe passwd")
@vault_option
@passphrase_fd_option
@new_fd_option
def passwd_cmd(vault_path, passphrase_fd, new_passphrase_fd):
    """Change the passphrase (every passphrase keyslot gets the new one)."""
    source = keysources.PASSPHRASE_SOURCE
    store = open_store(vault_path, passphrase_fd, new_passphrase_fd)
    opened = store.read()
    ids = [s.id for s in opened.header.keyslots if s.type == source.kind]
    if not ids:
        raise NotFoundError("this vault has no passphrase keyslot",
                            "add one with `tokensafe keys add passphrase`")
    secret = _new_secret(store, source)
    vid = opened.header.vault_id
    fresh = {sid: source.new_slot(sid, vid, opened.data_key, secret)[0] for sid in ids}
    with store.edit(opened) as latest:
        slots = latest.header.keyslots
        latest.header.keyslots = [fresh.get(s.id, s) if s.type == source.kind else s for s in slots]
    click.echo("Passphrase changed.", err=True)


@click.group("keys")
def keys_group():
    """List, add and remove the keyslots that open the vault."""


@keys_group.command("list", epilog="Example: tokensafe keys list --json")
@vault_option
@passphrase_fd_option
@click.option("--json", "as_json", is_flag=True)
def keys_list(vault_path, passphrase_fd, as_json):
    """List keyslots (no unlocking needed: the header is not secret)."""
    header = open_store(vault_path).header()
    rows = [{"id": s.id, "type": s.type, "created": s.created,
             "detail": keysources.get(s.type).describe(s)} for s in header.keyslots]
    if as_json:
        click.echo(json.dumps({"vault_id": header.vault_id, "keyslots": rows}, indent=2))
        return
    for r in rows:
        when = time.strftime("%Y-%m-%d", time.localtime(r["created"]))
        click.echo(f"{r['id']:<4} {r['type']:<11} {when}  {r['detail']}")


@keys_group.command("add", epilog="Example: tokensafe keys add recovery")
@vault_option
@passphrase_fd_option
@new_fd_option
@click.argument("kind", type=click.Choice(keysources.kinds()))
def keys_add(vault_path, passphrase_fd, new_passphrase_fd, kind):
    """Add a keyslot: the OS keyring, a passphrase, or a recovery key (shown once)."""
    from vault.store import keyslots
    from vault.store.backend import ConflictError

    source = keysources.get(kind)
    reason = source.unavailable()
    if reason is not None:
        raise LockedError(f"cannot add a {kind} keyslot: {reason}",
                          f"make {source.label} usable here, or add another kind, "
                          "e.g. `tokensafe keys add passphrase`")
    store = open_store(vault_path, passphrase_fd, new_passphrase_fd)
    opened = store.read()
    secret = _new_secret(store, source)
    h = opened.header
    sid = keyslots.next_slot_id(h.keyslots)
    slot, shown = source.new_slot(sid, h.vault_id, opened.data_key, secret)
    with store.edit(opened) as latest:
        if latest.header.slot(sid) is not None:  # another command added a slot meanwhile
            raise ConflictError("the vault's keyslots changed while this command ran; nothing was added",
                                "run the command again")
        latest.header.keyslots.append(slot)
    click.echo(f"Added keyslot {sid} ({kind}).", err=True)
    if shown:
        click.echo(f"\nRecovery key — shown once; store it offline:\n\n    {shown}\n", err=True)


@keys_group.command("rm", epilog="Example: tokensafe keys rm k2")
@vault_option
@passphrase_fd_option
@click.argument("slot_id")
def keys_rm(vault_path, passphrase_fd, slot_id):
    """Remove a keyslot (never the last one); a keyring slot's key leaves the keyring too."""
    with open_store(vault_path, passphrase_fd).edit() as opened:
        h = opened.header
        slot = h.slot(slot_id)
        if slot is None:
            raise NotFoundError(f"no keyslot {slot_id!r}", "`tokensafe keys list` shows them")
        if len(h.keyslots) == 1:
            raise UsageError("refusing to remove the last keyslot: the vault could never be opened again",
                             "add another first, e.g. `tokensafe keys add passphrase`")
        h.keyslots.remove(slot)
    try:
        keysources.get(slot.type).forget(slot)
    except LockedError as e:
        click.echo(f"tokensafe: warning: could not remove the key from {keysources.get(slot.type).label}: "
                   f"{e.message}", err=True)
    click.echo(f"Removed keyslot {slot_id} ({slot.type}).", err=True)
