"""passwd and keys: manage the keyslots that open the vault (use cases: vault/service/keys.py)."""

from __future__ import annotations

import json
import time

import click

from vault.cli.common import make_context, passphrase_fd_option, vault_option
from vault.store import keysources

new_fd_option = click.option("--new-passphrase-fd", type=int, default=None, metavar="N",
                             help="Read the new passphrase from file descriptor N "
                                  "(else TOKENSAFE_NEW_PASSPHRASE, else a prompt).")


@click.command("passwd", epilog="Example: tokensafe passwd")
@vault_option
@passphrase_fd_option
@new_fd_option
def passwd_cmd(vault_path, passphrase_fd, new_passphrase_fd):
    """Change the passphrase (every passphrase keyslot gets the new one)."""
    from vault.service.keys import change_passphrase

    change_passphrase(make_context(vault_path, passphrase_fd, new_passphrase_fd))
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
    from vault.service.keys import list_keyslots

    out = list_keyslots(make_context(vault_path))
    rows = [{"id": s.id, "type": s.type, "created": s.created, "detail": s.detail} for s in out.keyslots]
    if as_json:
        click.echo(json.dumps({"vault_id": out.vault_id, "keyslots": rows}, indent=2))
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
    from vault.service.keys import add_keyslot

    out = add_keyslot(make_context(vault_path, passphrase_fd, new_passphrase_fd), kind)
    click.echo(f"Added keyslot {out.slot_id} ({out.kind}).", err=True)
    if out.recovery_key:
        click.echo(f"\nRecovery key — shown once; store it offline:\n\n    {out.recovery_key}\n", err=True)


@keys_group.command("rm", epilog="Example: tokensafe keys rm k2")
@vault_option
@passphrase_fd_option
@click.argument("slot_id")
def keys_rm(vault_path, passphrase_fd, slot_id):
    """Remove a keyslot (never the last one); a keyring slot's key leaves the keyring too."""
    from vault.service.keys import remove_keyslot

    out = remove_keyslot(make_context(vault_path, passphrase_fd), slot_id)
    if out.warning:
        click.echo(f"tokensafe: warning: {out.warning}", err=True)
    click.echo(f"Removed keyslot {out.slot_id} ({out.kind}).", err=True)
