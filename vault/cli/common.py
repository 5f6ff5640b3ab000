"""Shared pieces of the CLI commands: the --vault option, unlocking, terminal checks.

click is imported inside the option decorators only: the fast path of `get` uses the rest
of this module without it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

from vault.cli.lean import is_tty as is_tty
from vault.cli.lean import parse_plain_options as parse_plain_options
from vault.cli.lean import path_click_refuses as path_click_refuses
from vault.cli.lean import warn as warn
from vault.cli.lean import write_out as write_out
from vault.errors import PolicyError

if TYPE_CHECKING:
    from pathlib import Path

F = TypeVar("F", bound=Callable[..., Any])


def vault_option(f: F) -> F:
    """`--vault PATH` (or TOKENSAFE_VAULT); default under the platform's user data dir."""
    import click

    return click.option(
        "--vault", "vault_path", envvar="TOKENSAFE_VAULT", type=click.Path(dir_okay=False),
        default=None, help="Vault file (default: platform data dir; env TOKENSAFE_VAULT).",
    )(f)


def env_option(f: F) -> F:
    import click

    return click.option("--env", "-e", "env_name", default=None, metavar="ENV",
                        help="Environment (default: the current one).")(f)


def passphrase_fd_option(f: F) -> F:
    import click

    return click.option("--passphrase-fd", type=int, default=None, metavar="N",
                        help="Read the passphrase from file descriptor N.")(f)


def resolve_path(vault_path: str | None) -> Path:
    from vault.service.context import resolve_vault_path

    return resolve_vault_path(vault_path)


def open_store(vault_path: str | None, passphrase_fd: int | None = None,
               new_passphrase_fd: int | None = None):
    """The `vault.store.vaultfile.VaultStore` for --vault, unlocking through the CLI's prompter."""
    return make_context(vault_path, passphrase_fd, new_passphrase_fd).store


REMOTE_META = "tokensafe.remote"


def remote_option(f: F) -> F:
    """`--remote NAME`: read the environment from that team vault; make_context picks it up."""
    import click

    def keep(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        ctx.meta[REMOTE_META] = value

    return click.option("--remote", default=None, metavar="NAME", expose_value=False, callback=keep,
                        help="Read the environment from this remote (OpenBao/Vault KV v2; "
                             "see `tokensafe remote`).")(f)


def make_context(vault_path: str | None, passphrase_fd: int | None = None,
                 new_passphrase_fd: int | None = None):
    """The service Context of one command line (`vault.service.context.Context`)."""
    from vault.service.context import Context

    click = sys.modules.get("click")  # the click-free fast paths have no --remote
    cc = click.get_current_context(silent=True) if click is not None else None
    remote = cc.meta.get(REMOTE_META) if cc is not None else None
    if remote:
        from vault.service.remote import RemoteContext

        return RemoteContext(remote, vault_path, passphrase_fd, warn=warn)
    return Context(vault_path, passphrase_fd, warn=warn, new_passphrase_fd=new_passphrase_fd)


def refuse_tty(reveal: bool, what: str = "secret values", stream: IO[Any] | None = None,
               hint: str | None = None) -> None:
    """Refuse to print secrets to a terminal unless --reveal (they would stay in scrollback)."""
    if not reveal and is_tty(stream):
        raise PolicyError(
            f"refusing to write {what} to a terminal",
            hint or "pipe it into a program (e.g. `| newman run c.json -e /dev/stdin`), or add --reveal",
        )
