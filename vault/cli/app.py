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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each description to what fits on one line, often mid-sentence; show the
        # first sentence whole and let the formatter wrap it.
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, first_sentence(cmd)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def first_sentence(cmd: click.Command) -> str:
    """A command's short help: its `short_help`, else its docstring's first sentence."""
    if cmd.short_help:
        return cmd.short_help
    text = " ".join((cmd.help or "").split("\n\n")[0].split())
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text.rstrip(".") + ("." if text else "")


# \b keeps click from rewrapping the table.
EPILOG = ("\b\nExit statuses (`run` exits with its command's status):\n"
          + exit_status_table())


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EPILOG)
@click.version_option(package_name="tokensafe", prog_name="tokensafe")
@click.option("--debug", is_flag=True,
              help=f"Print the traceback of an error (also {DEBUG_ENV}=1); vault values are masked.")
@click.option("--vault", "vault_path", metavar="PATH", default=None, expose_value=True,
              help="Vault file for the command that follows (as its own --vault; env TOKENSAFE_VAULT).")
def cli(debug: bool, vault_path: str | None) -> None:
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
    if vault_path:  # likewise; the subcommands read it from TOKENSAFE_VAULT
        import os

        os.environ["TOKENSAFE_VAULT"] = vault_path


@click.command("help", epilog="Example: tokensafe help env list")
@click.argument("command", nargs=-1, metavar="[COMMAND]…")
@click.pass_context
def help_cmd(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of COMMAND (or of tokensafe itself)."""
    top = ctx.find_root()
    group: click.Command = top.command
    sub = top
    for i, name in enumerate(command):
        if not isinstance(group, click.Group):
            raise click.UsageError(f"`{sub.command_path}` has no subcommands", ctx)
        found = group.get_command(sub, name)
        if found is None:
            raise click.exceptions.NoSuchCommand(name, possibilities=group.list_commands(sub),
                                                 ctx=sub if i else top)
        sub = click.Context(found, info_name=name, parent=sub)
        group = found
    click.echo(sub.get_help())
