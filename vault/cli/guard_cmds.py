"""`audit`, `watch`, `import`, `restore`: parse, call vault.service.guard, render.

`audit`'s body is in auditfast.py, shared with its click-free fast path."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vault.cli.common import env_option, make_context, passphrase_fd_option, vault_option

SEVERITY_CHOICE = click.Choice(["low", "medium", "high", "critical"])


def _warn(msg: str) -> None:
    click.echo(f"tokensafe: warning: {msg}", err=True)


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    """`--max-size 100M` -> bytes; `0` -> no cap; None (flag not given) -> the default."""
    from vault.service.guard import DEFAULT_MAX_SIZE

    if value is None:
        return DEFAULT_MAX_SIZE
    v = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = v[-1:] if v[-1:] in _UNITS else ""
    num = v[:-1] if unit else v
    if not num.isdigit():
        raise click.BadParameter(f"{value!r} is not a size; e.g. 100M, 2G, 500K or 0 for no cap")
    n = int(num) * _UNITS[unit]
    return n or None


def max_size_option(f):
    return click.option(
        "--max-size", callback=_size, metavar="SIZE",
        help="Skip files larger than SIZE (K, M, G; default 100M; 0: no cap). Skipped files "
             "are listed and counted.")(f)


@click.command("audit")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON document with a `findings` list.")
@click.option("--sarif", "as_sarif", is_flag=True, help="SARIF 2.1.0 (code scanning).")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Silence findings listed here.")
@click.option("--update-baseline", is_flag=True, help="Write the current findings to --baseline.")
@click.option("--fail-on", type=SEVERITY_CHOICE, default="low", show_default=True,
              help="Exit 1 when a finding at or above this severity remains.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files/folders matching GLOB (name, or path with /). Repeatable.")
@click.option("--staged", is_flag=True, help="Scan what git is about to commit.")
@click.option("--git", "git_range", is_flag=False, flag_value="", default=None, metavar="[RANGE]",
              help="Scan the history of the repository (PATH, default .): every blob of RANGE "
                   "(default: all branches and tags) once.")
@click.option("--deep", is_flag=True,
              help="Also recognise values of your vault, under any key or bare (unlocks the "
                   "vault; several times slower).")
@click.option("--strict", is_flag=True,
              help="A file that cannot be read inside a folder is an error (exit 7), not a warning.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, hidden=True)
@max_size_option
@vault_option
def audit_cmd(paths: tuple[str, ...], as_json: bool, as_sarif: bool, baseline: str | None,
              update_baseline: bool, fail_on: str, exclude: tuple[str, ...], staged: bool,
              git_range: str | None, deep: bool, strict: bool, workers: int | None, max_size: int | None, vault_path: str | None) -> int:
    """Find tokens in files and folders (default: the current folder).

    Findings show where, which detector, how severe, a redacted preview and a keyed
    fingerprint; never the value. Exit 1 when a finding at or above --fail-on remains.
    A line containing `tokensafe:allow` is never reported. A named path that does not
    exist fails with exit 4, one that cannot be read with exit 7; a file inside a folder
    that cannot be read is a warning (--strict: exit 7 after the report). Devices, FIFOs,
    sockets and /proc or /sys files are never read; files over --max-size are skipped; both
    are counted.

    \b
    Examples:
      tokensafe audit ~/Downloads ./postman
      tokensafe audit --sarif . > tokensafe.sarif
      tokensafe audit --baseline .tokensafe-baseline --update-baseline .
      tokensafe audit --staged            # as a git pre-commit hook
      tokensafe audit --git               # every commit of every branch, each blob once
      tokensafe audit --git v1.0..HEAD ../repo
      tokensafe audit --max-size 1G ~/exports
    """
    from vault.cli.auditfast import audit_command

    return audit_command(paths, as_json, as_sarif, baseline, update_baseline, fail_on, exclude,
                         staged, git_range, deep, strict, workers, max_size, vault_path)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@env_option
@click.option("--scrub", is_flag=True,
              help="Then rewrite FILE with {{vault:name}} in place of its secret values.")
@click.option("--overwrite", is_flag=True, help="Replace entries that hold a different value.")
@click.option("--all", "import_all", is_flag=True,
              help="Also import plain values (ids, emails); default: secrets, domains and URLs.")
@click.option("--format", "fmt", type=click.Choice(["postman", "dotenv"]), default=None,
              help="Input format (default: detected).")
@vault_option
@passphrase_fd_option
def import_cmd(file: str, env_name: str | None, scrub: bool, overwrite: bool, import_all: bool,
               fmt: str | None, vault_path: str | None, passphrase_fd: int | None) -> int:
    """Move the values of a Postman environment/globals export or a .env file into the vault.

    With --scrub the file is then rewritten atomically, each secret value replaced by a
    {{vault:name}} reference; its original bytes stay encrypted in the vault, and
    `tokensafe restore FILE` puts them back. Nothing is scrubbed before its value is
    safely in the vault.

    \b
    Examples:
      tokensafe import ~/Downloads/prod.postman_environment.json --env prod --scrub
      tokensafe import .env --env dev
      tokensafe restore ~/Downloads/prod.postman_environment.json
    """
    from vault.guard.scrub import reference
    from vault.service.guard import ImportOptions, import_file

    out = import_file(make_context(vault_path, passphrase_fd),
                      ImportOptions(Path(file), env_name, scrub, overwrite, import_all, fmt))
    for note in out.notes:
        click.echo(f"tokensafe: {note}", err=True)
    added = [n for n in out.imported if n not in out.replaced]
    click.echo(f"imported {len(out.imported)} value(s) into environment {out.env!r}"
               + (f": {', '.join(out.imported)}" if out.imported else ""))
    click.echo(f"added: {', '.join(added) or '-'}; unchanged: {', '.join(out.unchanged) or '-'}"
               + (f"; replaced (--overwrite): {', '.join(out.replaced)}" if out.replaced else ""))
    if out.left:
        click.echo(f"left in the file (not secret; --all imports them too): {', '.join(out.left)}")
    if scrub:
        if out.scrubbed:
            click.echo(f"scrubbed {file}: {', '.join(out.scrubbed)} now read "
                       + ", ".join(reference(n) for n in out.scrubbed[:3])
                       + (" …" if len(out.scrubbed) > 3 else ""))
            click.echo(f"the original is kept encrypted in the vault: tokensafe restore {file}")
        else:
            click.echo(f"nothing to scrub in {file}: no secret values found")
    return 0


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite changes made to FILE since it was scrubbed.")
@vault_option
@passphrase_fd_option
def restore_cmd(file: str, force: bool, vault_path: str | None, passphrase_fd: int | None) -> int:
    """Bring back a file scrubbed by `import --scrub` or `watch --action scrub`, byte for byte.

    \b
    Example:
      tokensafe restore ~/Downloads/prod.postman_environment.json
    """
    from vault.service.guard import restore_file

    restore_file(make_context(vault_path, passphrase_fd), Path(file), force)
    click.echo(f"restored {file}")
    return 0


@click.command("watch")
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, as findings come.")
@click.option("--action", type=click.Choice(["report", "quarantine", "scrub"]), default="report",
              show_default=True, help="What to do with a file that holds a token.")
@click.option("--quarantine-dir", type=click.Path(file_okay=False), default=None,
              help="Private folder for --action quarantine (default: in the tokensafe data dir).")
@click.option("--no-notify", is_flag=True, help="No desktop notifications (notify-send).")
@max_size_option
@vault_option
@passphrase_fd_option
def watch_cmd(paths: tuple[str, ...], as_json: bool, action: str, quarantine_dir: str | None,
              no_notify: bool, max_size: int | None, vault_path: str | None,
              passphrase_fd: int | None) -> int:
    """Watch folders; report each token-bearing file the moment it is written.

    Default folders: your Downloads folder and the current one. Files written, changed or
    renamed into place are scanned once writes settle. --action quarantine moves such a file
    into a private 0700 folder; --action scrub does what `import --scrub` does with the
    flagged values, each file's into a new environment `from-NAME` (never one you already
    have: a watched folder is untrusted), {{vault:name}} references left behind;
    `tokensafe restore FILE` undoes it. Symlinks are never followed.
    Stops cleanly on Ctrl-C or SIGTERM.

    \b
    Examples:
      tokensafe watch
      tokensafe watch ~/Downloads ~/work --action quarantine
      tokensafe watch --json ~/Downloads | jq .
    """
    import json
    import signal
    import threading

    from vault.guard import report
    from vault.guard.model import Finding, display_path
    from vault.service.guard import WatchOptions, watch

    lock = threading.Lock()

    def emit(obj: dict, text: str) -> None:
        with lock:
            click.echo(json.dumps(obj) if as_json else text)
            sys.stdout.flush()

    def on_finding(f: Finding) -> None:
        emit({"event": "finding", **f.to_json()},
             f"{f.path}:{f.line}:{f.column}  {f.severity.upper()}  {f.detector}  {f.preview}  "
             f"{report.describe_facts(f.facts)}".rstrip())

    def on_action(what: str, p: Path, detail: str) -> None:
        shown = display_path(str(p))
        emit({"event": what, "path": shown, "detail": detail},
             f"{shown}: {what}" + (f" to {detail}" if what == "quarantined" else f" ({detail})")
             + ("; `tokensafe restore` brings it back" if what == "scrubbed" else ""))

    def on_error(e) -> None:
        _warn(f"{e.path}: {e.reason}")

    opts = WatchOptions([Path(p) for p in paths], action, Path(quarantine_dir) if quarantine_dir else None,
                        notify=not no_notify, max_size=max_size)
    w = watch(make_context(vault_path, passphrase_fd), opts, on_finding, on_action, on_error)
    stops = {signal.SIGINT, signal.SIGTERM}
    posix = hasattr(signal, "sigwait")
    if posix:
        # Block the signals in every thread and take them with sigwait: no handler runs in
        # the middle of a lock, so a stop can never deadlock, and idle means asleep.
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    else:  # pragma: no cover - Windows
        stop = threading.Event()
        for sig in stops:
            signal.signal(sig, lambda *_: stop.set())
    w.start()
    where = ", ".join(display_path(str(p)) for p in w.folders)
    extra = f"; quarantine: {w.quarantine_dir}" if action == "quarantine" else ""
    click.echo(f"tokensafe: watching {where} (action: {action}{extra}); Ctrl-C stops", err=True)
    try:
        if posix:
            signal.sigwait(stops)
        else:  # pragma: no cover
            while not stop.wait(1.0):
                pass
    finally:
        w.stop()
    click.echo("tokensafe: stopped", err=True)
    return 0
