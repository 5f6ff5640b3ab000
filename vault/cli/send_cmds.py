"""`tokensafe send`: parse → `vault.service.send` → render. Everything shown is masked."""

from __future__ import annotations

from pathlib import Path

import click

from vault.cli.common import (
    env_option,
    passphrase_fd_option,
    remote_option,
    vault_option,
    write_out,
)
from vault.cli.inject_cmds import (
    _error_masker,
    _http_options,
    _masked_errors,
    _send_and_show,
    _warn,
)
from vault.errors import UsageError


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in pairs:
        if "=" not in kv:
            # Only the part before a colon is echoed: the rest may be a value.
            raise UsageError(f"--var needs K=V, got {kv.split(':')[0]!r}…", "e.g. --var 'id=auth0|123'")
        k, v = kv.split("=", 1)
        out[k] = v
    return out


@click.command("send", epilog="""\b
Examples:
  tokensafe send auth0-management.json --list
  tokensafe send auth0-management.json 'Users/Get a user' --var 'id=auth0|123'
  tokensafe send auth0-authentication.json 'Database/Signup using a username\\/password'
  tokensafe send auth0-management.json id:0c2b6f3e-…  # by the id --list shows""")
@vault_option
@env_option
@remote_option
@passphrase_fd_option
@click.argument("collection", type=click.Path(dir_okay=False))
@click.argument("items", nargs=-1, metavar="[ITEM]...")
@click.option("--var", "variables", multiple=True, metavar="K=V",
              help="A variable (also :path variables); beats the vault and the collection.")
@click.option("--keep-path-vars", is_flag=True,
              help="Send a :name path segment without a value as it is (newman's way) instead of refusing.")
@click.option("--files-from", "files_from", multiple=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Files to upload may also come from DIR (default: the collection's folder only).")
@click.option("--list", "list_only", is_flag=True, help="Print every item's address and exit.")
@click.option("--dry-run", is_flag=True, help="Show the resolved requests (secrets masked); send nothing.")
@click.option("-i", "--include", is_flag=True, help="Show status lines and headers.")
@_http_options
def send_cmd(vault_path, env_name, passphrase_fd, collection, items, variables, keep_path_vars, files_from,
             list_only, dry_run, include, cacert, max_time, connect_timeout, allow_unbound, proxy, fail):
    """Send requests of a Postman Collection v2.0/v2.1 with values from the vault.

    \b
    ITEM is an address; no ITEM sends every request, a folder its requests in order:
      Users/Get a user        folder path: names joined by /
      Get a user              a name that only one item has
      'a username\\/password'  a / inside a name is written \\/ (and a \\ as \\\\)
      id:ID                   the item's Postman id (--list shows ids where the file has them)

    Precedence: --var, then the vault environment, then collection variables. A :name
    path segment takes its value from --var or the collection's path variables, never
    from the vault; one without a value is refused before anything is sent (sending it
    empty can turn DELETE /clients/:id into DELETE /clients/), unless --keep-path-vars.
    Pre-request and test scripts are not executed. Files a request uploads (form-data
    files, file bodies) come only from the collection's folder or a --files-from DIR, never
    through a symlink out of it, never from tokensafe's own folders.
    """
    from vault.inject.mask import Masker
    from vault.service import send

    if list_only:
        from vault.formats.collection import listing, load

        write_out(listing(load(collection)))
        return 0
    from vault.cli.common import make_context

    ctx = make_context(vault_path, passphrase_fd)
    opts = send.SendOptions(Path(collection), tuple(items), _parse_vars(variables),
                            keep_path_vars=keep_path_vars, allow_unbound=allow_unbound,
                            files_from=tuple(Path(d) for d in files_from), vault_path=ctx.path)
    selection = send.select(opts)
    env = send.load_env(ctx, env_name)  # auth0_token renewed first when it needs it
    masker = Masker(env.values())
    if selection.scripts:
        click.echo(f"tokensafe: note: {selection.scripts} pre-request/test script(s) apply here; "
                   "tokensafe does not execute scripts", err=True)
    with _masked_errors(_error_masker(env)):
        plan = send.plan(opts, selection, env)
        for u in plan.unbound:
            _warn(f"--allow-unbound: sending {u.entry!r} to {u.host!r}, a host no rule allows")
        if dry_run:
            for req in plan.requests:
                write_out(masker.mask(f"# {req.name}\n{req.describe()}\n".encode("utf-8", "surrogatepass")))
            return 0
        # Summary lines name the hosts, as host-binding errors do; everything else is masked.
        # A kind-url value with a path (a webhook) is masked there too: only bare hosts show.
        return _send_and_show(plan.requests, masker, include, max_time, connect_timeout, fail, cacert, summary=True,
                              summary_masker=_error_masker(env), proxy=proxy)
