"""Shared pieces of the CLI commands: the --vault option, unlocking, terminal checks.

click is imported inside the option decorators only: the fast path of `get` uses the rest
of this module without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from vault.errors import PolicyError

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


def path_click_refuses(path: str) -> bool:
    """What click.Path(dir_okay=False) would reject: a directory, or a file we cannot read.

    The click-free fast paths hand such a --vault to click, so both say the same thing.
    """
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return False  # need not exist
    return stat.S_ISDIR(st.st_mode) or not os.access(path, os.R_OK)


def parse_plain_options(args: list[str], table: dict[str, tuple[str, bool]],
                        repeatable: tuple[str, ...] = ()) -> tuple[dict, list[str]] | None:
    """Parse the plain forms a click-free fast path accepts: (keyword args, positionals).

    `table` maps an option to (key, takes a value). None means "not plain": --help, unknown
    options, `-eprod`, a flag given `=x`, an empty or dash-led value, a non-numeric fd, or a
    --vault that click would refuse — the full parser then decides and explains.
    """
    kw: dict = {"vault_path": os.environ.get("TOKENSAFE_VAULT") or None}
    lists: dict[str, list[str]] = {k: [] for k in repeatable}
    rest: list[str] = []
    it = iter(args)
    for a in it:
        opt, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if opt in table:
            key, takes = table[opt]
            if not takes:
                if eq:
                    return None
                kw[key] = True
                continue
            value = inline if eq else next(it, None)
            if value is None or value == "" or (not eq and value.startswith("-")):
                return None
            if key in lists:
                lists[key].append(value)
            else:
                kw[key] = value
        elif a.startswith("-") or a == "":
            return None
        else:
            rest.append(a)
    kw.update({k: v for k, v in lists.items() if v})
    if "passphrase_fd" in kw:
        fd = kw["passphrase_fd"]
        if not (fd.isascii() and fd.isdigit()):
            return None
        kw["passphrase_fd"] = int(fd)
    if kw["vault_path"] and path_click_refuses(kw["vault_path"]):
        return None
    return kw, rest


def resolve_path(vault_path: str | None) -> Path:
    from vault.service.context import resolve_vault_path

    return resolve_vault_path(vault_path)


def open_store(vault_path: str | None, passphrase_fd: int | None = None,
               new_passphrase_fd: int | None = None):
    """The `vault.store.vaultfile.VaultStore` for --vault, unlocking through the CLI's prompter."""
    return make_context(vault_path, passphrase_fd, new_passphrase_fd).store


def warn(text: str) -> None:
    """A `tokensafe: warning: …` line on stderr (the Context's warning sink for the CLI)."""
    sys.stderr.write(f"tokensafe: warning: {text}\n")
    sys.stderr.flush()


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



def is_tty(stream: IO[Any] | None = None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def refuse_tty(reveal: bool, what: str = "secret values", stream: IO[Any] | None = None,
               hint: str | None = None) -> None:
    """Refuse to print secrets to a terminal unless --reveal (they would stay in scrollback)."""
    if not reveal and is_tty(stream):
        raise PolicyError(
            f"refusing to write {what} to a terminal",
            hint or "pipe it into a program (e.g. `| newman run c.json -e /dev/stdin`), or add --reveal",
        )


def write_out(text: str | bytes) -> None:
    """Write to stdout as bytes, without an encoding surprise."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
    else:
        out.write(data)
    sys.stdout.flush()
