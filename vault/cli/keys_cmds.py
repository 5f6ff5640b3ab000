"""passwd and keys: manage the keyslots that open the vault (use cases: vault/service/keys.py)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO

import click

from vault.cli.common import is_tty, make_context, passphrase_fd_option, vault_option
from vault.errors import FileSystemError, UsageError
from vault.store import keysources

new_fd_option = click.option("--new-passphrase-fd", type=int, default=None, metavar="N",
                             help="Read the new passphrase from file descriptor N "
                                  "(else TOKENSAFE_NEW_PASSPHRASE, else a prompt).")
recovery_file_option = click.option(
    "--recovery-key-file", "recovery_key_file", type=click.Path(dir_okay=False), default=None, metavar="PATH",
    help="Write a new recovery key to PATH (created new, 0600) instead of the terminal; "
         "required when standard error is not a terminal.")


@contextlib.contextmanager
def recovery_output(path: str | None) -> Iterator[tuple[bool, Callable[[str], None]]]:
    """(whether a recovery key can be shown, how to show it): a new 0600 file, else the terminal.

    The file is created before the vault changes, so a key is never made that has nowhere to
    go; it is removed again if the command fails before writing it.
    """
    if path is None:
        def to_terminal(key: str) -> None:
            click.echo(f"\nRecovery key — shown once; store it offline (it opens the vault if its "
                       f"other keys are lost):\n\n    {key}\n", err=True)
        yield is_tty(sys.stderr), to_terminal
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists; the recovery key goes into a new file",
                         "name a file that does not exist yet") from None
    except OSError as e:
        raise FileSystemError(f"cannot create {path}: {e.strerror}") from None
    written = False
    out: IO[str] = os.fdopen(fd, "w")

    def to_file(key: str) -> None:
        nonlocal written
        out.write(key + "\n")
        out.flush()
        os.fsync(out.fileno())
        written = True
        click.echo(f"The recovery key is in {path} (0600): store it offline, then delete the file.", err=True)

    try:
        yield True, to_file
    finally:
        out.close()
        if not written:
            with contextlib.suppress(OSError):
                os.unlink(path)


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
        # Slots made since the format keeps no times in the clear have created = 0.
        when = time.strftime("%Y-%m-%d", time.localtime(r["created"])) if r["created"] else "-" * 10
        click.echo(f"{r['id']:<4} {r['type']:<11} {when}  {r['detail']}")


@keys_group.command("add", epilog="Example: tokensafe keys add recovery --recovery-key-file ~/rk.txt")
@vault_option
@passphrase_fd_option
@new_fd_option
@recovery_file_option
@click.argument("kind", type=click.Choice(keysources.kinds()))
def keys_add(vault_path, passphrase_fd, new_passphrase_fd, recovery_key_file, kind):
    """Add a keyslot: the OS keyring, a passphrase, or a recovery key (shown once, on a terminal or in a file)."""
    from vault.service.keys import add_keyslot

    if recovery_key_file is not None and kind != keysources.RECOVERY.kind:
        raise UsageError("--recovery-key-file goes with `keys add recovery` only")
    ctx = make_context(vault_path, passphrase_fd, new_passphrase_fd)
    with recovery_output(recovery_key_file if kind == keysources.RECOVERY.kind else None) as (can_show, show):
        out = add_keyslot(ctx, kind, can_show_once=can_show)
        click.echo(f"Added keyslot {out.slot_id} ({out.kind}).", err=True)
        if out.recovery_key:
            show(out.recovery_key)


@keys_group.command("rm", epilog="Example: tokensafe keys rm k2   (or: tokensafe keys rm k2 --purge)")
@vault_option
@passphrase_fd_option
@click.option("--purge", is_flag=True,
              help="Also delete the slot's key from the OS keyring (copies and backups of the vault lose it too).")
@click.argument("slot_id")
def keys_rm(vault_path, passphrase_fd, purge, slot_id):
    """Remove a keyslot (never the last one).

    A keyring slot's key stays in the keyring, since copies and backups of the vault still
    use it; --purge deletes it.
    """
    from vault.service.keys import remove_keyslot

    out = remove_keyslot(make_context(vault_path, passphrase_fd), slot_id, purge)
    if out.warning:
        click.echo(f"tokensafe: warning: {out.warning}", err=True)
    click.echo(f"Removed keyslot {out.slot_id} ({out.kind}).", err=True)
