"""The `tokensafe` command: the command table and the one place errors become exit codes.

Subcommands are imported only when invoked (see `app.py`), so `tokensafe get` does not pay
for httpx, watchdog or the detectors; the plain forms of `get` and `run` do not even import
click (see FAST).

`run` maps every exception to the table in `vault.errors.ExitStatus`: a TokensafeError to
its own status, an OSError no command expected to a one-line file-system (7) or network (8)
error, anything else to a one-line internal error (70) whose traceback `--debug` or
TOKENSAFE_DEBUG=1 shows. Text from unexpected exceptions is masked with every secret value
this process held (`vault.secret.remembered`), since no one vetted it for secrets.
"""

from __future__ import annotations

import os
import sys

from vault.errors import ExitStatus, TokensafeError, from_os_error

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
    "auth0": "vault.cli.auth0_cmds:auth0_group",
    "status": "vault.cli.auth0_cmds:status_cmd",
    "hosts": "vault.cli.hosts_cmds:hosts_group",
    "help": "vault.cli.app:help_cmd",
    "remote": "vault.cli.remote_cmds:remote_group",
    "push": "vault.cli.remote_cmds:push_cmd",
    "pull": "vault.cli.remote_cmds:pull_cmd",
    "unlock": "vault.cli.agent_cmds:unlock_cmd",
    "lock": "vault.cli.agent_cmds:lock_cmd",
    "log": "vault.cli.agent_cmds:log_cmd",
}


# Click-free fast paths: name -> "module:function(args) -> exit code, or None to hand the
# command line to click". Each understands only the plain forms of its command and shares
# the command's body with the click command, so the two cannot disagree.
FAST: dict[str, str] = {
    "get": "vault.cli.getvalue:fast_get",
    "run": "vault.cli.runfast:fast_run",
    "audit": "vault.cli.auditfast:fast_audit",
}


def err(message: str, hint: str | None = None) -> None:
    sys.stderr.write(f"tokensafe: error: {message}\n")
    if hint:
        sys.stderr.write(f"tokensafe: hint: {hint}\n")
    sys.stderr.flush()


DEBUG_ENV = "TOKENSAFE_DEBUG"
_debug = False  # set by a leading --debug (run strips it, so the fast paths work too)


def set_debug() -> None:
    """Show tracebacks of errors (the group's --debug, when click parses it)."""
    global _debug
    _debug = True


def _debug_wanted() -> bool:
    return _debug or os.environ.get(DEBUG_ENV, "").lower() not in ("", "0", "false", "no")


def run(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code (the CLI's only exception-to-code map)."""
    global _debug
    from vault.secret import forget

    forget()
    from vault.cli import lean

    lean.nothing_to_finalize = False  # a fast path sets it again if it may
    args = sys.argv[1:] if argv is None else list(argv)
    _debug = False
    args = _global_options(args)
    try:
        return _dispatch(args)
    except TokensafeError as e:
        # Messages of our own errors are written without values (and an error about hosts
        # must name the host), so they are shown as they are.
        _traceback(e)
        err(e.message, e.hint)
        return e.exit_code
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `tokensafe get x | head -c1`): not an error of ours.
        _silence_stdout()
        return ExitStatus.OK
    except OSError as e:  # e.g. `inject -o /missing/dir/x`: the system's reason, one line
        _traceback(e)
        mapped = from_os_error(e)
        err(_masked(mapped.message), mapped.hint)
        return mapped.exit_code
    except Exception as e:  # a bug: one masked line, the traceback only when asked for
        _traceback(e)
        err(f"internal error: {_one_line(e)}",
            "this is a bug in tokensafe; please report it"
            + (" with the traceback above" if _debug_wanted()
               else f"; re-run with --debug (or {DEBUG_ENV}=1) to see the traceback"))
        return ExitStatus.INTERNAL


def _global_options(args: list[str]) -> list[str]:
    """Take the global options given before the command name: --debug and --vault PATH.

    `tokensafe --vault X list` means `tokensafe list --vault X`: the path goes where every
    command looks for it (TOKENSAFE_VAULT), so the fast paths see it too; an option after
    the command name still wins. Anything else is left for click to judge.
    """
    global _debug
    while args:
        if args[0] == "--debug":
            _debug = True
            args = args[1:]
        elif args[0] == "--vault" and len(args) > 1 and args[1] and not args[1].startswith("-"):
            os.environ["TOKENSAFE_VAULT"] = args[1]
            args = args[2:]
        elif args[0].startswith("--vault=") and len(args[0]) > len("--vault="):
            os.environ["TOKENSAFE_VAULT"] = args[0][len("--vault="):]
            args = args[1:]
        else:
            break
    return args


def _one_line(e: BaseException, limit: int = 500) -> str:
    """`Type: message`, masked first (a value may span lines), then on one line, cut short."""
    text = " ".join(_masked(str(e)).split())
    text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _masked(text: str) -> str:
    """`text` with every secret this process held, raw or encoded, replaced by `***`."""
    from vault.secret import remembered

    values = remembered()
    if not values:
        return text
    import re

    from vault.inject.mask import forms  # the encodings `run` masks in a child's output

    patterns = sorted({f for v in values for f in forms(v)}, key=len, reverse=True)
    if not patterns:
        return text
    # Longest first: the alternation then prefers a whole form over a shorter one inside it.
    rx = re.compile(b"|".join(re.escape(p) for p in patterns))
    return rx.sub(b"***", text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


def _traceback(e: BaseException) -> None:
    """With --debug or TOKENSAFE_DEBUG=1, the traceback, masked like the message."""
    if not _debug_wanted():
        return
    import traceback

    sys.stderr.write(_masked("".join(traceback.format_exception(e))))
    sys.stderr.flush()


def _dispatch(args: list[str]) -> int:
    target = FAST.get(args[0]) if args else None
    if target is not None:
        module, attr = target.split(":")  # __import__: importlib costs the fast paths ~1 ms
        code = getattr(__import__(module, fromlist=[attr]), attr)(args[1:])
        if code is not None:  # None: a form only the full parser handles
            return code
    import click

    from vault.cli.app import cli

    try:
        rv = cli.main(args=args, prog_name="tokensafe", standalone_mode=False)
    except click.exceptions.Abort:
        err("aborted")
        return ExitStatus.INTERRUPTED
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.UsageError as e:
        message, hint = _usage_message(e)
        err(message, hint)
        return ExitStatus.USAGE
    except click.FileError as e:
        err(e.format_message())
        return ExitStatus.FILESYSTEM
    except click.ClickException as e:  # no command should raise a bare one: a bug
        err(e.format_message())
        return ExitStatus.INTERNAL
    return rv if isinstance(rv, int) else ExitStatus.OK


def _usage_message(e) -> tuple[str, str]:
    """click's usage error as ours read: a lowercase line, then "did you mean" or where help is."""
    from click.exceptions import NoSuchCommand, NoSuchOption

    ctx = e.ctx
    if isinstance(e, NoSuchCommand | NoSuchOption):
        possible = e.possibilities
        if isinstance(e, NoSuchCommand) and not possible and ctx is not None:
            import difflib

            # A lazily loaded group has no `commands` dict for click to compare with.
            possible = difflib.get_close_matches(e.command_name, ctx.command.list_commands(ctx))
        if possible:
            path = getattr(ctx, "command_path", "") or "tokensafe"
            shown = [f"`{path} {p}`" if isinstance(e, NoSuchCommand) else f"`{p}`" for p in possible]
            return _lower_first(e.message), f"did you mean {' or '.join(shown)}?"
        return _lower_first(e.message), _help_hint(ctx)
    return _lower_first(e.format_message()), _help_hint(ctx)


def _help_hint(ctx) -> str:
    """"see `tokensafe get --help`": the command the user typed, or the top-level help."""
    path = getattr(ctx, "command_path", "") or "tokensafe"
    if path == "tokensafe":
        return "see `tokensafe --help` for the commands"
    return f"see `{path} --help`"


def _lower_first(message: str) -> str:
    """click's "Missing argument 'NAME'." as ours read: lowercase, no final period."""
    message = message.rstrip(".") if message.endswith(".") and not message.endswith("..") else message
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return message


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    code = int(run(argv))
    from vault.cli import lean

    if lean.nothing_to_finalize:  # the interpreter's teardown is a fifth of a `get` through the agent
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # a closed pipe: let sys.exit deal with it as it always does
        else:
            os._exit(code)
    sys.exit(code)
