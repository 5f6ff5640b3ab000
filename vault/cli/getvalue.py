"""`tokensafe get`: its one implementation, and a click-free fast path for its plain forms.

`get` runs in hot loops of scripts (`tokensafe get t | docker login --password-stdin -u me`),
and importing click costs ~25 ms of a ~150 ms budget. The fast path understands exactly the
forms below and hands anything else (--help, --reveal, unknown options, mistakes) to click,
so the two can never disagree on what a command line means.

With an unlock agent running, the fast path asks it before importing the service layer
(pathlib, typing, the store): a `get` through the agent then costs about what the
interpreter's own start-up does. Without one, or for a terminal (which `print_value`
refuses with its usual message), it goes on to `print_value`.
"""

from __future__ import annotations

from vault.cli.lean import is_tty, parse_plain_options, warn, write_out

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
    from vault.cli.common import make_context, refuse_tty
    from vault.service.entries import get_value

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


def through_agent(name: str, vault_path: str | None = None, env_name: str | None = None,
                  passphrase_fd: int | None = None, no_newline: bool = False) -> bool:
    """Print NAME's value if the vault's unlock agent answers; False: nothing was printed.

    Only what `print_value` would do through the agent: a terminal or --passphrase-fd (whose
    descriptor `print_value` must read) takes the long way, and so does a vault without an
    agent. An agent's error (no such name, another user's socket) is raised as it would be there.
    """
    if passphrase_fd is not None or is_tty():
        return False
    from vault.agent import client
    from vault.store.paths import resolve_vault_file

    value = client.value_at(resolve_vault_file(vault_path), name, env_name, warn)
    if value is None:
        return False
    write_out(value if no_newline else value + "\n")
    from vault.cli import lean

    lean.nothing_to_finalize = True  # the socket is closed; nothing else was opened
    return True


def fast_get(args: list[str]) -> int | None:
    kw = parse_plain(args)
    if kw is None:
        return None
    if not through_agent(**kw):
        print_value(**kw)
    return 0
