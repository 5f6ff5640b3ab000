"""The click group: subcommands load lazily from the table in `vault.cli.COMMANDS`."""

from __future__ import annotations

import importlib

import click

from vault.cli import COMMANDS, DEBUG_ENV, set_debug
from vault.errors import exit_status_table


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


# \b keeps click from rewrapping the table.
EPILOG = ("\b\nExit statuses (`run` exits with its command's status):\n"
          + exit_status_table())


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EPILOG)
@click.version_option(package_name="tokensafe", prog_name="tokensafe")
@click.option("--debug", is_flag=True,
              help=f"Print the traceback of an error (also {DEBUG_ENV}=1); vault values are masked.")
def cli(debug: bool) -> None:
    """Keep API tokens in an encrypted vault and inject them only at the moment of use.

    \b
    Quick start:
      tokensafe init
      tokensafe set auth0_token          # value from a hidden prompt or stdin
      tokensafe get auth0_token | cmd    # raw value into a pipe
      tokensafe demo                     # a walk through in a throwaway vault
    """
    if debug:  # usually stripped by vault.cli.run before click sees it
        set_debug()
