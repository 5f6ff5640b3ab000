"""`tokensafe audit`: its one implementation, and a click-free fast path for its plain forms.

An audit in CI or in a git hook pays its start-up on every run; importing click and building
the command table is ~16 ms of it (a fifth of an audit of an empty folder). As for `get` and
`run`, the fast path understands exactly the forms below and hands anything else (--help,
--git, --deep, --max-size, mistakes) to click; both call `audit_command`, so the two cannot
disagree on what a command line means or does. Colour and the progress bar (a terminal) import
click when they are needed, on either path.

    tokensafe audit [--json | --sarif] [--fail-on S] [--exclude GLOB]… [--strict] [--staged]
                    [--baseline FILE [--update-baseline]] [--workers N] [--vault P] [PATH]…
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from vault.cli.lean import is_tty, parse_plain_options, path_click_refuses

# option -> (key, takes a value); --exclude may repeat, the others keep their last value.
_OPTIONS = {
    "--json": ("as_json", False),
    "--sarif": ("as_sarif", False),
    "--fail-on": ("fail_on", True),
    "--exclude": ("exclude", True),
    "--strict": ("strict", False),
    "--workers": ("workers", True),
    "--vault": ("vault_path", True),
    "--staged": ("staged", False),
    "--baseline": ("baseline", True),
    "--update-baseline": ("update_baseline", False),
}
_SEVERITIES = ("low", "medium", "high", "critical")  # click.Choice: exact, case-sensitive
_UNSET = object()  # max_size not given: the service's default


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """What `click.echo` writes, without importing click for the common case. click writes a
    str as it is to sys.stdout/stderr when the stream has an encoding other than ASCII and an
    error handler (outside Windows), and any text that is plain ASCII comes out the same
    whatever wrapper it picks; an escape sequence (click strips those off a non-terminal)
    or an odd stream goes through click.echo itself, byte for byte."""
    if nl:
        text += "\n"
    stream = sys.stderr if err else sys.stdout
    if "\x1b" not in text and (text.isascii() or _written_as_is(stream)):
        stream.write(text)
        stream.flush()
        return
    import click

    click.echo(text, err=err, nl=False)


def _written_as_is(stream: object) -> bool:
    """Whether click.echo writes to `stream` itself (click._compat._force_correct_text_stream)."""
    encoding, errors = getattr(stream, "encoding", None), getattr(stream, "errors", None)
    if sys.platform.startswith("win") or not encoding or errors is None:
        return False
    import codecs

    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return False


def warn(msg: str) -> None:
    echo(f"tokensafe: warning: {msg}", err=True)


def audit_command(paths: Sequence[str], as_json: bool = False, as_sarif: bool = False,
                  baseline: str | None = None, update_baseline: bool = False,
                  fail_on: str = "low", exclude: Sequence[str] = (), staged: bool = False,
                  git_range: str | None = None, deep: bool = False, strict: bool = False,
                  workers: int | None = None, max_size: int | None | object = _UNSET,
                  vault_path: str | None = None) -> int:
    """The body of `tokensafe audit`; returns its exit code."""
    from vault.cli.common import make_context
    from vault.errors import UsageError
    from vault.guard import report
    from vault.service.guard import DEFAULT_MAX_SIZE, AuditOptions, audit

    if as_json and as_sarif:
        raise UsageError("--json and --sarif are exclusive", "pick one output format")
    if baseline:
        from pathlib import Path  # only here: pathlib is ~3 ms of every audit's start-up

    opts = AuditOptions(tuple(paths), Path(baseline) if baseline else None, update_baseline,
                        fail_on, tuple(exclude), staged, deep, workers, strict,
                        DEFAULT_MAX_SIZE if max_size is _UNSET else max_size,  # type: ignore[arg-type]
                        git=git_range is not None, git_range=git_range or None)
    opts.validate()  # before a progress bar appears
    bar = _Progress() if not (staged or git_range is not None or as_json or as_sarif) and is_tty(sys.stderr) else None
    try:
        result = audit(make_context(vault_path), opts, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    for e in result.errors:
        warn(f"skipped {e.path}: {e.reason}")
    if result.baseline_written is not None:
        echo(f"tokensafe: wrote {result.baseline_written} fingerprints to {baseline}", err=True)
        return 0
    findings = result.findings
    if as_sarif:
        echo(report.render_sarif(findings, result.stats, result.errors), nl=False)
    elif as_json:
        echo(report.render_json(findings, result.stats, result.errors, result.suppressed,
                                result.encrypted), nl=False)
    elif staged and not result.failed and not result.errors:
        pass  # a git hook that lets a commit through says nothing
    else:
        style = None
        if is_tty(sys.stdout):
            import click

            style = click.style
        echo(report.render_text(findings, result.stats, result.errors, style, result.encrypted), nl=False)
        if result.suppressed:
            echo(f"({result.suppressed} known findings silenced by {baseline})")
        if staged and result.failed:
            _staged_hint(baseline)
    if any(f.detector.startswith("auth0") and not f.facts.get("expired") for f in findings):
        from vault.cli.auth0_cmds import LEAKED_HINT

        echo(f"tokensafe: hint: {LEAKED_HINT}", err=True)
    if strict and result.errors:
        from vault.errors import FileSystemError

        n = len(result.errors)
        raise FileSystemError(f"{n} file{'s' if n != 1 else ''} could not be read (--strict)",
                              "see the warnings above; fix their permissions or --exclude them")
    return 1 if result.failed else 0


def _staged_hint(baseline: str | None) -> None:
    """What to do when the pre-commit hook stops a commit: fix it, or allow it on purpose."""
    base = baseline or ".tokensafe-baseline"
    echo("tokensafe: error: commit stopped: the staged files hold the tokens above", err=True)
    echo("tokensafe: hint: move a token into the vault (`tokensafe import FILE --scrub`, or "
         "`tokensafe set NAME` and edit the file), then `git add` the file again", err=True)
    echo("tokensafe: hint: not a secret? end its line with a `tokensafe:allow` comment, or record "
         f"the findings in a baseline: `tokensafe audit --staged --baseline {base} "
         "--update-baseline` (and add --baseline to the hook)", err=True)


class _Progress:
    """A byte-based progress bar on stderr, only on a terminal (so never on the fast path)."""

    def __init__(self) -> None:
        self.bar = None

    def update(self, n: int, total: int) -> None:
        if self.bar is None:
            import click

            self.bar = click.progressbar(length=max(total, 1), label="scanning", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def parse_plain(args: list[str]) -> dict | None:
    """The keyword arguments of `audit_command` for a plain `audit` command line, else None."""
    parsed = parse_plain_options(args, _OPTIONS, repeatable=("exclude",))
    if parsed is None:
        return None
    kw, paths = parsed
    if kw.get("as_json") and kw.get("as_sarif"):
        return None  # the full parser's path, which says they are exclusive
    if "baseline" in kw and path_click_refuses(kw["baseline"]):
        return None  # click.Path(dir_okay=False): a folder or an unreadable file
    if kw.get("fail_on", "low") not in _SEVERITIES:
        return None
    if "workers" in kw:
        w = kw["workers"]
        if not (w.isascii() and w.isdigit() and 1 <= int(w) <= 256):
            return None  # click.IntRange(1, 256) says what is wrong
        kw["workers"] = int(w)
    kw["paths"] = tuple(paths)
    return kw


def fast_audit(args: list[str]) -> int | None:
    kw = parse_plain(args)
    if kw is None:
        return None
    try:
        code = audit_command(**kw)
    except KeyboardInterrupt:  # as the click path says it: a new line, then "aborted"
        from vault.cli import err
        from vault.errors import ExitStatus

        echo("", err=True)
        err("aborted")
        return ExitStatus.INTERRUPTED
    from vault.cli import lean

    # Workers reaped, threads joined, files closed, the report flushed: the interpreter's
    # teardown would only free what the scan built.
    lean.nothing_to_finalize = True
    return code
