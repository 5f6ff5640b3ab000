"""The `tokensafe` command: a lazy click group and the one place errors become exit codes.

Subcommands are imported only when invoked, so `tokensafe get` does not pay for httpx,
watchdog or the detectors.
"""

from __future__ import annotations

import importlib
import sys

import click

from vault.errors import TokensafeError

# name -> "module:attribute". One line per command; aliases point at the same target.
COMMANDS: dict[str, str] = {
    "init": "vault.cli.vault_cmds:init_cmd",
    "set": "vault.cli.vault_cmds:set_cmd",
    "get": "vault.cli.vault_cmds:get_cmd",
    "list": "vault.cli.vault_cmds:list_cmd",
    "rm": "vault.cli.vault_cmds:rm_cmd",
    "env": "vault.cli.vault_cmds:env_group",
    "passwd": "vault.cli.keys_cmds:passwd_cmd",
    "keys": "vault.cli.keys_cmds:keys_group",
    "backup": "vault.cli.vault_cmds:backup_group",
    "demo": "vault.cli.demo:demo_cmd",
    "run": "vault.cli.inject_cmds:run_cmd",
    "inject": "vault.cli.inject_cmds:inject_cmd",
    "export": "vault.cli.inject_cmds:export_cmd",
    "request": "vault.cli.inject_cmds:request_cmd",
    "send": "vault.cli.inject_cmds:send_cmd",
}


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
        # Listing every command imports every module; fine for --help, never for `get`.
        super().format_commands(ctx, formatter)


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


def err(message: str, hint: str | None = None) -> None:
    click.echo(f"tokensafe: error: {message}", err=True)
    if hint:
        click.echo(f"tokensafe: hint: {hint}", err=True)


def run(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code (the CLI's only exception-to-code map)."""
    try:
        rv = cli.main(args=argv, prog_name="tokensafe", standalone_mode=False)
    except TokensafeError as e:
        err(e.message, e.hint)
        return e.exit_code
    except click.exceptions.Abort:
        err("aborted")
        return 130
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        err(e.format_message(), "see `tokensafe COMMAND --help`")
        return 2 if isinstance(e, click.UsageError) else e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `tokensafe get x | head -c1`): not an error of ours.
        _silence_stdout()
        return 0
    return rv if isinstance(rv, int) else 0


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))
