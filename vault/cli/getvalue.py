"""`tokensafe get`: its one implementation, and a click-free fast path for its plain forms.

`get` runs in hot loops of scripts (`tokensafe get t | docker login --password-stdin -u me`),
and importing click costs ~25 ms of a ~150 ms budget. The fast path understands exactly the
forms below and hands anything else (--help, --reveal, unknown options, mistakes) to click,
so the two can never disagree on what a command line means.
"""

from __future__ import annotations

from vault.cli.common import make_context, parse_plain_options, refuse_tty, write_out
from vault.service.entries import get_value

# option -> (key, takes a value)
_OPTIONS = {
    "--vault": ("vault_path", True),
    "--env": ("env_name", True),
    "-e": ("env_name", True),
    "--passphrase-fd": ("passphrase_fd", True),
    "-n": ("no_newline", False),
}


def print_value(name: str, vault_path: str | None = None, env_name: str | None = None,
                passphrase_fd: int | None = None, reveal: bool = False, no_newline: bool = False) -> None:
    refuse_tty(reveal, f"the value of {name}", hint=(
        f"pipe it into a program that reads it on stdin (e.g. `tokensafe get {name} | pbcopy`), "
        "or add --reveal"))
    value = get_value(make_context(vault_path, passphrase_fd), name, env_name)
    write_out(value if no_newline else value + "\n")


def parse_plain(args: list[str]) -> dict | None:
    """The keyword arguments of `print_value` for a plain `get` command line, else None."""
    parsed = parse_plain_options(args, _OPTIONS)
    if parsed is None or len(parsed[1]) != 1:
        return None
    kw, (name,) = parsed
    kw["name"] = name
    return kw


def fast_get(args: list[str]) -> int | None:
    kw = parse_plain(args)
    if kw is None:
        return None
    print_value(**kw)
    return 0
