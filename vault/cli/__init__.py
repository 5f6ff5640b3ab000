"""The `tokensafe` command: the command table and the one place errors become exit codes.

Subcommands are imported only when invoked (see `app.py`), so `tokensafe get` does not pay
for httpx, watchdog or the detectors; the plain forms of `get` and `run` do not even import
click (see FAST).
"""

from __future__ import annotations

import sys

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
    "audit": "vault.cli.guard_cmds:audit_cmd",
    "watch": "vault.cli.guard_cmds:watch_cmd",
    "import": "vault.cli.guard_cmds:import_cmd",
    "restore": "vault.cli.guard_cmds:restore_cmd",
    "run": "vault.cli.inject_cmds:run_cmd",
    "inject": "vault.cli.inject_cmds:inject_cmd",
    "export": "vault.cli.inject_cmds:export_cmd",
    "request": "vault.cli.inject_cmds:request_cmd",
    "send": "vault.cli.send_cmds:send_cmd",
}


# Click-free fast paths: name -> "module:function(args) -> exit code, or None to hand the
# command line to click". Each understands only the plain forms of its command and shares
# the command's body with the click command, so the two cannot disagree.
FAST: dict[str, str] = {
    "get": "vault.cli.getvalue:fast_get",
    "run": "vault.cli.runfast:fast_run",
}


def err(message: str, hint: str | None = None) -> None:
    sys.stderr.write(f"tokensafe: error: {message}\n")
    if hint:
        sys.stderr.write(f"tokensafe: hint: {hint}\n")
    sys.stderr.flush()


def run(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code (the CLI's only exception-to-code map)."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(args)
    except TokensafeError as e:
        err(e.message, e.hint)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `tokensafe get x | head -c1`): not an error of ours.
        _silence_stdout()
        return 0


def _dispatch(args: list[str]) -> int:
    target = FAST.get(args[0]) if args else None
    if target is not None:
        import importlib

        module, attr = target.split(":")
        code = getattr(importlib.import_module(module), attr)(args[1:])
        if code is not None:  # None: a form only the full parser handles
            return code
    import click

    from vault.cli.app import cli

    try:
        rv = cli.main(args=args, prog_name="tokensafe", standalone_mode=False)
    except click.exceptions.Abort:
        err("aborted")
        return 130
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        err(e.format_message(), "see `tokensafe COMMAND --help`")
        return 2 if isinstance(e, click.UsageError) else e.exit_code
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
