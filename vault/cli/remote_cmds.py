"""remote add/list/rm/history, push, pull: team vaults on OpenBao / HashiCorp Vault (KV v2).

Thin: parse → `vault.service.remote` → render. Credentials come from a hidden prompt or
stdin, never from argv; nothing shown here holds a value.
"""

from __future__ import annotations

import json
import sys

import click

from vault.cli.common import is_tty, make_context, passphrase_fd_option, vault_option
from vault.errors import UsageError
from vault.service import remote as service


def _read_lines(prompts: list[str]) -> list[str]:
    """One secret per prompt: hidden prompts on a terminal, else one line each from stdin."""
    if is_tty(sys.stdin):
        from vault.store.unlock import prompt_hidden

        return [prompt_hidden(p) for p in prompts]
    try:
        lines = sys.stdin.buffer.read().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise UsageError("stdin is not UTF-8 text") from None
    lines = [ln.strip() for ln in lines if ln.strip()]
    if len(lines) != len(prompts):
        raise UsageError(f"expected {len(prompts)} line(s) on stdin ({', '.join(p.rstrip(': ') for p in prompts)}), "
                         f"got {len(lines)}; nothing was stored")
    return lines


def _remote_required(f):
    return click.option("--remote", "remote", required=True, metavar="NAME",
                        help="The remote (see `tokensafe remote list`).")(f)


@click.group("remote", epilog="Example: tokensafe remote add team --url http://127.0.0.1:8200 --path teams/auth0")
def remote_group():
    """Team vaults on OpenBao or HashiCorp Vault (KV v2): add, list, remove, history."""


@remote_group.command("add", epilog="""\b
Examples:
  printf '%s' "$TOKEN" | tokensafe remote add team --url https://bao.example.com:8200 --path teams/auth0
  tokensafe remote add team --url http://10.0.0.1:8200 --url http://10.0.0.2:8200 --auth approle
  tokensafe remote add team --url https://bao.example.com:8200 --auth env   # BAO_TOKEN at use time""")
@vault_option
@passphrase_fd_option
@click.argument("name")
@click.option("--url", "urls", multiple=True, required=True, metavar="URL",
              help="Server address; repeat for the nodes of a cluster (the client moves on when one fails).")
@click.option("--mount", default="secret", show_default=True, help="Mount path of the KV v2 engine.")
@click.option("--path", "kv_path", default=None, metavar="PATH",
              help="Folder of the environments in the mount (default: tokensafe/NAME).")
@click.option("--namespace", default=None, help="Namespace (Vault Enterprise / OpenBao namespaces).")
@click.option("--auth", "auth", type=click.Choice(service.AUTH_METHODS), default="token", show_default=True,
              help="token: stored, from a hidden prompt or stdin; approle: role id and secret id "
                   "(two lines); env: BAO_TOKEN / VAULT_TOKEN at use time, nothing stored.")
@click.option("--timeout", type=float, default=10.0, show_default=True, metavar="S",
              help="Give up on the remote after S seconds (failover included).")
@click.option("--cacert", default=None, metavar="FILE",
              help="PEM file of CA certificates to trust for this remote (else the system's, or SSL_CERT_FILE).")
def remote_add(vault_path, passphrase_fd, name, urls, mount, kv_path, namespace, auth, timeout, cacert):
    """Add (or replace) a remote; its credentials are kept in the vault, bound to its hosts."""
    cfg = service.check_remote(name, list(urls), mount, kv_path, namespace, auth, timeout, cacert)  # before asking
    creds: dict[str, str] = {}
    if auth == "token":
        (creds["token"],) = _read_lines(["Token (hidden): "])
    elif auth == "approle":
        creds["role_id"], creds["secret_id"] = _read_lines(["Role id (hidden): ", "Secret id (hidden): "])
    out = service.add_remote(make_context(vault_path, passphrase_fd), cfg, creds)
    stored = f"; stored: {', '.join(out.credentials)}" if out.credentials else "; token from BAO_TOKEN/VAULT_TOKEN"
    click.echo(f"Added remote {out.name}: {cfg.mount}/{cfg.path} on {', '.join(out.urls)}{stored}", err=True)
    if any(u.startswith("http://") and not u.startswith(("http://127.", "http://localhost", "http://[::1]"))
           for u in out.urls):
        click.echo("tokensafe: warning: an http:// address sends the token unencrypted; use https://", err=True)


@remote_group.command("list", epilog="Example: tokensafe remote list --json")
@vault_option
@passphrase_fd_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def remote_list(vault_path, passphrase_fd, as_json):
    """List remotes: addresses, mount and path, auth, synced environments — never credentials."""
    remotes = service.list_remotes(make_context(vault_path, passphrase_fd))
    if as_json:
        click.echo(json.dumps([r.to_json() for r in remotes], indent=2))
        return
    if not remotes:
        click.echo("(no remotes; add one with `tokensafe remote add NAME --url URL`)")
    for r in remotes:
        synced = ", ".join(f"{e}@v{v}" for e, v in r.synced.items()) or "-"
        ca = f"  cacert={r.cacert}" if r.cacert else ""
        click.echo(f"{r.name}  {r.mount}/{r.path}  {' '.join(r.urls)}  auth={r.auth}{ca}  synced: {synced}")


@remote_group.command("rm", epilog="Example: tokensafe remote rm team")
@vault_option
@passphrase_fd_option
@click.argument("name")
def remote_rm(vault_path, passphrase_fd, name):
    """Remove a remote and its stored credentials (the server keeps its data)."""
    service.remove_remote(make_context(vault_path, passphrase_fd), name)
    click.echo(f"Removed remote {name}", err=True)


@remote_group.command("history", epilog="Example: tokensafe remote history dev --remote team")
@vault_option
@passphrase_fd_option
@_remote_required
@click.argument("env")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Newest N versions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def remote_history(vault_path, passphrase_fd, remote, env, limit, as_json):
    """The versions of ENV on the remote: when, by whom, deleted — never values."""
    versions = service.history(make_context(vault_path, passphrase_fd), env, remote, limit)
    if as_json:
        click.echo(json.dumps([v.to_json() for v in versions], indent=2))
        return
    for v in versions:
        state = " destroyed" if v.destroyed else (f" deleted {v.deleted}" if v.deleted else "")
        click.echo(f"{'*' if v.current else ' '} v{v.version}  {v.created}  {v.by or '-'}{state}")


def _render_sync(out, verb: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out.to_json(), indent=2))
        return
    if out.replaced is not None:
        if out.replaced:
            click.echo(f"--force: replaced version {out.replaced} on the server, in which someone else had "
                       f"{out.replaced_changes.describe()}", err=True)
        else:
            click.echo(f"--force: replaced your local changes, which had {out.replaced_changes.describe()}", err=True)
    if not out.changes:
        click.echo(f"{out.env} is up to date with {out.remote} (version {out.version})", err=True)
    else:
        click.echo(f"{verb} {out.env} {'to' if verb == 'Pushed' else 'from'} {out.remote} "
                   f"({out.where}, version {out.version}): {out.changes.describe()}", err=True)


@click.command("push", epilog="Example: tokensafe push dev --remote team")
@vault_option
@passphrase_fd_option
@_remote_required
@click.argument("env")
@click.option("--force", is_flag=True, help="Replace a version someone else pushed (it says which).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def push_cmd(vault_path, passphrase_fd, remote, env, force, as_json):
    """Send local environment ENV to a remote, by check-and-set on the version you last synced.

    A change someone else pushed since your last pull or push is refused, with the names
    it touched (never values); pull it first, or --force.
    """
    _render_sync(service.push(make_context(vault_path, passphrase_fd), env, remote, force), "Pushed", as_json)


@click.command("pull", epilog="Example: tokensafe pull dev --remote team && tokensafe run --env dev -- ./sync.sh")
@vault_option
@passphrase_fd_option
@_remote_required
@click.argument("env")
@click.option("--force", is_flag=True, help="Replace local changes that were not pushed (it says which).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pull_cmd(vault_path, passphrase_fd, remote, env, force, as_json):
    """Make local environment ENV what the remote holds (values, kinds and allowed hosts).

    Local changes that were never pushed are refused, with the names they touched; push
    them first, or --force.
    """
    _render_sync(service.pull(make_context(vault_path, passphrase_fd), env, remote, force), "Pulled", as_json)
