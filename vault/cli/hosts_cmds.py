"""`tokensafe hosts list|add|rm`: where an entry may be sent, changed without touching its value."""

from __future__ import annotations

import json

import click

from vault.cli.common import env_option, make_context, passphrase_fd_option, vault_option
from vault.service import hosts as service


@click.group("hosts")
def hosts_group():
    """Show and change the hosts an entry may be sent to (its value stays untouched).

    An entry with hosts of its own goes only there; one without is bound to the
    environment's auth0_domain, if it has one; else it goes nowhere (request and send
    refuse it unless --allow-unbound).
    """


@hosts_group.command("list", epilog="Example: tokensafe hosts list auth0_token --env prod")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("name", required=False)
def hosts_list(vault_path, env_name, passphrase_fd, as_json, name):
    """Show where NAME (default: every entry) may be sent, including the auth0_domain binding."""
    listing = service.list_hosts(make_context(vault_path, passphrase_fd), name, env_name)
    if as_json:
        click.echo(json.dumps(listing.to_json(), indent=2))
        return
    if not listing.entries:
        click.echo(f"no entries in {listing.env}")
        return
    width = max(len(e.name) for e in listing.entries)
    for e in listing.entries:
        shown = e.describe() if e.source != service.NONE else "- (no host: request/send refuse it)"
        click.echo(f"{e.name.ljust(width)}  {shown}")


@hosts_group.command("add", epilog="Example: tokensafe hosts add auth0_token 127.0.0.1:8443")
@vault_option
@env_option
@passphrase_fd_option
@click.argument("name")
@click.argument("hosts", nargs=-1, required=True, metavar="HOST…")
def hosts_add(vault_path, env_name, passphrase_fd, name, hosts):
    """Allow NAME to be sent to HOST as well (host, host:port or *.domain); keeps its other hosts."""
    out = service.add_hosts(make_context(vault_path, passphrase_fd), name, hosts, env_name)
    if out.kept_implicit:
        click.echo(f"{name} was bound to auth0_domain ({', '.join(out.kept_implicit)}); "
                   "that host stays allowed", err=True)
    added = ", ".join(out.added) or "nothing new"
    click.echo(f"allowed {added} for {name} in {out.env}; it may go to: {', '.join(out.entry.hosts)}",
               err=True)


@hosts_group.command("rm", epilog="Example: tokensafe hosts rm auth0_token 127.0.0.1:8443")
@vault_option
@env_option
@passphrase_fd_option
@click.argument("name")
@click.argument("hosts", nargs=-1, required=True, metavar="HOST…")
def hosts_rm(vault_path, env_name, passphrase_fd, name, hosts):
    """Stop NAME going to HOST; its value and other hosts stay as they are."""
    out = service.remove_hosts(make_context(vault_path, passphrase_fd), name, hosts, env_name)
    after = out.entry.describe() if out.entry.source != service.NONE else "no host (request/send refuse it)"
    click.echo(f"removed {', '.join(out.removed)} from {name} in {out.env}; it may go to: {after}",
               err=True)
