"""passwd and keys: manage the keyslots that open the vault."""

from __future__ import annotations

import json
import os
import time

import click

from vault.cli.common import passphrase_fd_option, resolve_path, vault_option
from vault.errors import LockedError, NotFoundError, UsageError


def _new_passphrase(new_fd: int | None) -> str:
    from vault.store.unlock import _read_fd, has_terminal, prompt_hidden

    if new_fd is not None:
        pw = _read_fd(new_fd)
    elif os.environ.get("TOKENSAFE_NEW_PASSPHRASE"):
        pw = os.environ["TOKENSAFE_NEW_PASSPHRASE"]
    elif has_terminal():
        pw = prompt_hidden("New passphrase: ")
        if prompt_hidden("Repeat new passphrase: ") != pw:
            raise UsageError("the passphrases do not match; nothing was changed")
    else:
        raise LockedError("no new passphrase given and no terminal to ask on",
                          "set TOKENSAFE_NEW_PASSPHRASE or pass --new-passphrase-fd N")
    if not pw:
        raise UsageError("an empty passphrase is not allowed")
    return pw


def _edit(vault_path, passphrase_fd):
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import edit_vault

    return edit_vault(resolve_path(vault_path), Unlocker(passphrase_fd=passphrase_fd))


new_fd_option = click.option("--new-passphrase-fd", type=int, default=None, metavar="N",
                             help="Read the new passphrase from file descriptor N "
                                  "(else TOKENSAFE_NEW_PASSPHRASE, else a prompt).")


@click.command("passwd", epilog="Example: tokensafe passwd")
@vault_option
@passphrase_fd_option
@new_fd_option
def passwd_cmd(vault_path, passphrase_fd, new_passphrase_fd):
    """Change the passphrase (every passphrase keyslot gets the new one)."""
    from vault.store import keyslots

    with _edit(vault_path, passphrase_fd) as opened:
        slots = [s for s in opened.header.keyslots if s.type == "passphrase"]
        if not slots:
            raise NotFoundError("this vault has no passphrase keyslot",
                                "add one with `tokensafe keys add passphrase`")
        pw = _new_passphrase(new_passphrase_fd)
        vid = opened.header.vault_id
        for i, s in enumerate(opened.header.keyslots):
            if s.type == "passphrase":
                opened.header.keyslots[i] = keyslots.new_passphrase_slot(s.id, vid, opened.data_key, pw)
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
    from vault.store import format
    from vault.store.vaultfile import read_bytes

    header = format.parse(read_bytes(resolve_path(vault_path))).header
    rows = []
    for s in header.keyslots:
        detail = ""
        if s.type == "passphrase":
            detail = f"argon2id t={s.extra.get('iterations')} p={s.extra.get('lanes')} m={s.extra.get('memory_kib')}KiB"
        elif s.type == "keyring":
            detail = f"service={s.extra.get('service')} account={s.extra.get('account')}"
        rows.append({"id": s.id, "type": s.type, "created": s.created, "detail": detail})
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
@click.argument("kind", type=click.Choice(["keyring", "passphrase", "recovery"]))
def keys_add(vault_path, passphrase_fd, new_passphrase_fd, kind):
    """Add a keyslot: the OS keyring, a passphrase, or a recovery key (shown once)."""
    from vault.store import keyslots

    shown = None
    with _edit(vault_path, passphrase_fd) as opened:
        h = opened.header
        sid = keyslots.next_slot_id(h.keyslots)
        if kind == "keyring":
            slot = keyslots.new_keyring_slot(sid, h.vault_id, opened.data_key)
        elif kind == "passphrase":
            slot = keyslots.new_passphrase_slot(sid, h.vault_id, opened.data_key,
                                                _new_passphrase(new_passphrase_fd))
        else:
            slot, shown = keyslots.new_recovery_slot(sid, h.vault_id, opened.data_key)
        h.keyslots.append(slot)
    click.echo(f"Added keyslot {sid} ({kind}).", err=True)
    if shown:
        click.echo(f"\nRecovery key — shown once; store it offline:\n\n    {shown}\n", err=True)


@keys_group.command("rm", epilog="Example: tokensafe keys rm k2")
@vault_option
@passphrase_fd_option
@click.argument("slot_id")
def keys_rm(vault_path, passphrase_fd, slot_id):
    """Remove a keyslot (never the last one); a keyring slot's key leaves the keyring too."""
    from vault.store import keyring_access

    with _edit(vault_path, passphrase_fd) as opened:
        h = opened.header
        slot = h.slot(slot_id)
        if slot is None:
            raise NotFoundError(f"no keyslot {slot_id!r}", "`tokensafe keys list` shows them")
        if len(h.keyslots) == 1:
            raise UsageError("refusing to remove the last keyslot: the vault could never be opened again",
                             "add another first, e.g. `tokensafe keys add passphrase`")
        h.keyslots.remove(slot)
    if slot.type == "keyring":
        try:
            keyring_access.delete(str(slot.extra.get("account")))
        except LockedError as e:
            click.echo(f"tokensafe: warning: could not remove the key from the keyring: {e.message}", err=True)
    click.echo(f"Removed keyslot {slot_id} ({slot.type}).", err=True)
