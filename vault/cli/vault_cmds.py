"""init, set, get, list, rm, env, backup: the vault's everyday commands."""

from __future__ import annotations

import json
import sys
import time

import click

from vault.cli.common import (
    env_option,
    is_tty,
    make_context,
    passphrase_fd_option,
    remote_option,
    vault_option,
)
from vault.errors import ExitStatus, LockedError, PolicyError, UsageError
from vault.service import entries
from vault.store.paths import display


def plural(n: int, one: str, many: str) -> str:
    """`1 entry`, `2 entries`."""
    return f"{n} {one if n == 1 else many}"


# init ---------------------------------------------------------------------------------

@click.command("init", epilog="Example: tokensafe init   (then: tokensafe set auth0_token)")
@vault_option
@passphrase_fd_option
@click.option("--keyring/--no-keyring", "use_keyring", default=None,
              help="Keep the key in the OS keyring (default: when one is usable).")
@click.option("--passphrase", "want_passphrase", is_flag=True,
              help="Add a passphrase keyslot even when the keyring is used.")
@click.option("--no-recovery", is_flag=True, help="Do not create a recovery key.")
@click.option("--recovery-key-file", "recovery_key_file", type=click.Path(dir_okay=False), default=None,
              metavar="PATH", help="Write the recovery key to PATH (created new, 0600) instead of the "
                                   "terminal; required when standard error is not a terminal.")
@click.option("--env", "-e", "env_name", default="default", show_default=True,
              help="Name of the first environment.")
def init_cmd(vault_path, passphrase_fd, use_keyring, want_passphrase, no_recovery, recovery_key_file, env_name):
    """Create a new, empty vault.

    The key goes into the OS keyring when a usable one answers (Secret Service,
    Keychain, Windows Credential Locker); otherwise a passphrase protects the vault
    (from --passphrase-fd, TOKENSAFE_PASSPHRASE or a hidden prompt). When the keyring
    would be the only way in, a recovery key is created and shown once.
    """
    from vault.cli.keys_cmds import recovery_output
    from vault.service.create import InitOptions, init_vault

    ctx = make_context(vault_path, passphrase_fd)
    unlocker = ctx.unlocker()  # one, so that --passphrase-fd is read once
    with recovery_output(None if no_recovery else recovery_key_file) as (can_show, show):
        out = init_vault(ctx, InitOptions(use_keyring, want_passphrase, not no_recovery, env_name, can_show),
                         lambda: new_passphrase(passphrase_fd, unlocker))
        click.echo(f"Created vault {display(out.path)} (keyslots: {', '.join(out.keyslots)}; "
                   f"environment: {out.env})", err=True)
        if out.keyring_reason:
            click.echo(f"No OS keyring ({out.keyring_reason}): the vault is protected by a passphrase.", err=True)
        if out.recovery_key:
            show(out.recovery_key)


def new_passphrase(passphrase_fd: int | None, unlocker) -> str:
    """A new passphrase from the usual sources; asked twice on a terminal."""
    import os

    from vault.store.unlock import has_terminal, prompt_hidden

    if passphrase_fd is not None or os.environ.get("TOKENSAFE_PASSPHRASE"):
        pw = unlocker.passphrase()
    elif has_terminal():
        pw = prompt_hidden("New vault passphrase: ")
        if prompt_hidden("Repeat passphrase: ") != pw:
            raise UsageError("the passphrases do not match; nothing was changed")
    else:
        raise LockedError("no passphrase given and no terminal to ask on",
                          "set TOKENSAFE_PASSPHRASE or pass --passphrase-fd N")
    if not pw:
        raise UsageError("an empty passphrase is not allowed")
    return pw


# set / get / rm -----------------------------------------------------------------------

def read_value() -> str:
    """The value to store: a hidden prompt on a terminal, else all of stdin."""
    if is_tty(sys.stdin):
        from vault.store.unlock import prompt_hidden

        value = prompt_hidden("Value (hidden): ")
    else:
        raw = sys.stdin.buffer.read()
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the value on stdin is not UTF-8 text") from None
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise UsageError("empty value; nothing was stored",
                         "pipe the value in, e.g. `pbpaste | tokensafe set NAME`, or type it at the prompt")
    return value


@click.command("set", epilog="Example: pbpaste | tokensafe set auth0_token --allow-host '*.auth0.com'")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--allow-host", "hosts", multiple=True, metavar="HOST",
              help="Hosts this secret may be sent to (repeat; wildcards like *.auth0.com); replaces "
                   "its hosts (`tokensafe hosts add NAME HOST` adds one without the value).")
@click.option("--clear-hosts", is_flag=True, help="Remove the entry's allowed hosts.")
@click.argument("name")
@click.argument("value", nargs=-1, required=False, metavar="")
def set_cmd(vault_path, env_name, passphrase_fd, hosts, clear_hosts, name, value):
    """Store NAME; the value comes from a hidden prompt or from stdin, never from argv."""
    if value or "=" in name:
        # `set NAME=VALUE` too; the name is not quoted back, since it may hold the value.
        name = name.split("=", 1)[0] if "=" in name else name
        shown = name if name and len(name) <= 128 and "=" not in name else "NAME"
        raise PolicyError(
            "refusing a value on the command line: every user of this machine can read argv",
            f"pipe it in (`… | tokensafe set {shown}`) or run `tokensafe set {shown}` and type it")
    opts = entries.SetOptions(name, env_name, hosts, clear_hosts)
    opts.validate()  # before asking for the value
    out = entries.set_entry(make_context(vault_path, passphrase_fd), opts, read_value())
    verb = "updated" if out.replaced else "stored"
    click.echo(f"{verb} {out.name} in {out.env} ({out.kind}, {out.length} characters)", err=True)


@click.command("get", epilog="Example: tokensafe get auth0_token | docker login --password-stdin -u me")
@vault_option
@env_option
@remote_option
@passphrase_fd_option
@click.option("--reveal", is_flag=True, help="Allow printing to a terminal.")
@click.option("-n", "no_newline", is_flag=True, help="Do not print a trailing newline.")
@click.argument("name")
def get_cmd(vault_path, env_name, passphrase_fd, reveal, no_newline, name):
    """Print NAME's raw value to stdout, for a pipe (a terminal only with --reveal)."""
    from vault.cli.getvalue import print_value

    print_value(name, vault_path, env_name, passphrase_fd, reveal, no_newline)


@click.command("rm", epilog="Example: tokensafe rm old_token --env dev")
@vault_option
@env_option
@passphrase_fd_option
@click.argument("names", nargs=-1, required=True, metavar="NAME…")
def rm_cmd(vault_path, env_name, passphrase_fd, names):
    """Remove entries."""
    out = entries.remove_entries(make_context(vault_path, passphrase_fd), names, env_name)
    click.echo(f"removed {', '.join(out.names)} from {out.env}", err=True)


# list ---------------------------------------------------------------------------------

def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    left = ts - time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
    if left < 0:
        return f"{stamp} (expired)"
    if left < 86400:
        return f"{stamp} (in {int(left // 3600)}h{int(left % 3600 // 60):02d}m)"
    return stamp


def _hosts(e) -> str:
    """The hosts an entry may really go to; the implicit auth0_domain binding is marked."""
    if e.hosts_source == "auth0_domain":
        return "auth0_domain's host (implicit)"
    if e.hosts_source == "recorded":
        return "an earlier auth0_domain's host (see hosts list)"
    return ",".join(e.allowed_hosts) or "- (none)"


@click.command("list", epilog="Example: tokensafe list --json | jq '.entries[].name'")
@vault_option
@env_option
@remote_option
@passphrase_fd_option
@click.option("--all", "all_envs", is_flag=True, help="Every environment.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(vault_path, env_name, passphrase_fd, all_envs, as_json):
    """List entries: names, kind, expiry and allowed hosts — never values."""
    listing = entries.list_entries(make_context(vault_path, passphrase_fd), env_name, all_envs)
    if as_json:
        click.echo(json.dumps(listing.to_json(), indent=2))
        return
    for env in listing.environments:
        mark = " (current)" if env.name == listing.current else ""
        click.echo(click.style(f"{env.name}{mark}", bold=True) if is_tty() else f"{env.name}{mark}")
        if not env.entries:
            click.echo("  (no entries; add one with `tokensafe set NAME`)")
            continue
        rows = [(e.name, e.kind, _when(e.expires), _hosts(e)) for e in env.entries]
        widths = [max(len(r[i]) for r in rows + [("NAME", "KIND", "EXPIRES", "HOSTS")]) for i in range(3)]
        click.echo("  " + "  ".join(h.ljust(w) for h, w in zip(("NAME", "KIND", "EXPIRES"), widths, strict=True)) + "  HOSTS")
        for r in rows:
            click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])


# env ----------------------------------------------------------------------------------

@click.group("env")
def env_group():
    """Manage environments (like Postman environments: dev, prod, …)."""


@env_group.command("list", epilog="Example: tokensafe env list --json")
@vault_option
@passphrase_fd_option
@click.option("--json", "as_json", is_flag=True)
def env_list(vault_path, passphrase_fd, as_json):
    """List environments; the current one is marked."""
    envs = entries.list_envs(make_context(vault_path, passphrase_fd))
    if as_json:
        click.echo(json.dumps(envs.to_json(), indent=2))
        return
    for e in envs.environments:
        click.echo(f"{'*' if e.current else ' '} {e.name} ({plural(e.entries, 'entry', 'entries')})")


@env_group.command("create", epilog="Example: tokensafe env create prod --use")
@vault_option
@passphrase_fd_option
@click.option("--use", is_flag=True, help="Make it the current environment.")
@click.argument("name")
def env_create(vault_path, passphrase_fd, use, name):
    """Create an environment."""
    entries.create_env(make_context(vault_path, passphrase_fd), name, use)
    click.echo(f"created environment {name}" + (" (now current)" if use else ""), err=True)


@env_group.command("use", epilog="Example: tokensafe env use prod")
@vault_option
@passphrase_fd_option
@click.argument("name")
def env_use(vault_path, passphrase_fd, name):
    """Make NAME the current environment."""
    entries.use_env(make_context(vault_path, passphrase_fd), name)
    click.echo(f"current environment: {name}", err=True)


@env_group.command("rm", epilog="Example: tokensafe env rm staging --force")
@vault_option
@passphrase_fd_option
@click.option("--force", is_flag=True, help="Remove it even if it holds entries.")
@click.argument("name")
def env_rm(vault_path, passphrase_fd, force, name):
    """Remove an environment (refused while it holds entries, unless --force)."""
    entries.remove_env(make_context(vault_path, passphrase_fd), name, force)
    click.echo(f"removed environment {name}", err=True)


# backup -------------------------------------------------------------------------------

@click.group("backup")
def backup_group():
    """The previous generation of the vault, kept on every write."""


@backup_group.command("restore", epilog="Example: tokensafe backup restore --yes")
@vault_option
@passphrase_fd_option
@click.option("--yes", "-y", is_flag=True, help="Restore even when the keyslots change, without asking.")
def backup_restore(vault_path, passphrase_fd, yes):
    """Replace the vault by its previous generation (the current file is kept beside it).

    It first says which generation comes back and which keyslots that removes or brings
    back (a passphrase changed since, a key added since); when the keyslots change it
    asks, or needs --yes where no one can be asked.
    """
    ctx = make_context(vault_path, passphrase_fd)
    plan = entries.backup_plan(ctx)  # before unlocking: headers only
    # Format 2 keeps generations in the encrypted payload: named once the backup is unlocked.
    now = ("the unreadable current file" if plan.current is None else "the current file" if plan.current == "v2"
           else f"generation {plan.current}")
    back = f"generation {plan.backup}" if plan.backup is not None else "the previous generation"
    click.echo(f"tokensafe: restoring {back} of {display(plan.path)} (replaces {now})", err=True)
    for slot in plan.slots_removed:
        click.echo(f"tokensafe:   keyslot {slot} would be removed (added or changed since)", err=True)
    for slot in plan.slots_back:
        click.echo(f"tokensafe:   keyslot {slot} would come back (removed or changed since)", err=True)
    if plan.changes_keyslots and not yes:
        if not (is_tty(sys.stdin) and is_tty(sys.stderr)):
            raise PolicyError("refusing to change how the vault unlocks without confirmation",
                              "add --yes to restore with the keyslots listed above")
        if not click.confirm("tokensafe: restore, with these keyslot changes?", default=False, err=True):
            click.echo("tokensafe: nothing was changed", err=True)
            return int(ExitStatus.REFUSED)
    out = entries.restore_backup(ctx)
    click.echo(f"restored generation {out.generation} of {display(out.path)}", err=True)
    if out.kept is not None:
        click.echo(f"the file it replaced is kept as {display(out.kept)}", err=True)
