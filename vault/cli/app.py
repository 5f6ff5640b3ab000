"""The click group: subcommands load lazily from the table in `vault.cli.COMMANDS`."""

from __future__ import annotations

import importlib

import click

from vault.cli import COMMANDS


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tokensafe", prog_name="tokensafe")
def cli() -> None:
    """Keep API tokens in an encrypted vault and inject them only at the moment of use.

    \b
    Quick start:
      tokensafe init
      tokensafe set auth0_token          # value from a hidden prompt or stdin
      tokensafe get auth0_token | cmd    # raw value into a pipe
      tokensafe demo                     # a walk through in a throwaway vault
    """
