"""`tokensafe run`: its one implementation, and a click-free fast path for its plain forms.

`run` wraps every invocation of a script or tool, so its start-up is paid over and over;
importing click and building the command table costs ~25 ms of it. As for `get`, the fast
path understands exactly the forms below and hands anything else (--help, -h, unknown
options, a command without `--`, mistakes) to click, and both call `run_command`, so the two
can never disagree on what a command line means or does.

    tokensafe run [--env E|-e E] [--only N[,M]]… [--as-is] [--no-mask] [--allow-nested]
                  [--allow-env N[,M]]… [--vault P] [--passphrase-fd N] -- CMD ARGS…
"""

from __future__ import annotations

from collections.abc import Sequence

from vault.cli.common import parse_plain_options

# option -> (key, takes a value); --only may repeat, the others keep their last value.
_OPTIONS = {
    "--vault": ("vault_path", True),
    "--env": ("env_name", True),
    "-e": ("env_name", True),
    "--passphrase-fd": ("passphrase_fd", True),
    "--only": ("only", True),
    "--as-is": ("as_is", False),
    "--no-mask": ("no_mask", False),
    "--allow-nested": ("allow_nested", False),
    "--allow-env": ("allow_env", True),
}


def run_command(argv: Sequence[str], vault_path: str | None = None, env_name: str | None = None,
                passphrase_fd: int | None = None, only: Sequence[str] = (), as_is: bool = False,
                no_mask: bool = False, allow_nested: bool = False, allow_env: Sequence[str] = ()) -> int:
    """The body of `tokensafe run`; returns the child's exit code (or does not return: exec)."""
    from vault.cli.common import make_context
    from vault.service.inject import RunOptions, run

    return run(make_context(vault_path, passphrase_fd),
               RunOptions(argv, env_name, only, as_is, mask=not no_mask, allow_nested=allow_nested,
                          allow_env=allow_env))


def parse_plain(args: list[str]) -> dict | None:
    """The keyword arguments of `run_command` for a plain `run` command line, else None."""
    if "--" not in args:
        return None  # `run CMD` without `--`, `run --help`: the full parser decides
    cut = args.index("--")
    argv = args[cut + 1:]
    parsed = parse_plain_options(args[:cut], _OPTIONS, repeatable=("only", "allow_env"))
    if parsed is None or parsed[1] or not argv:
        return None  # a positional before `--` is not a plain form either
    kw = parsed[0]
    kw["argv"] = argv
    return kw


def fast_run(args: list[str]) -> int | None:
    kw = parse_plain(args)
    if kw is None:
        return None
    return run_command(**kw)
