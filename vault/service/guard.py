"""The sync guard's use cases: audit, import (with --scrub), restore, watch.

Typed inputs and results, `vault.errors` exceptions, no printing: progress, findings and
watcher events go to callbacks the front end passes in; warnings to `Context.warn`.
On the start-up path of `tokensafe audit` (git hooks, CI): records are `Record`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from vault.errors import UsageError
from vault.record import Record
from vault.service.context import Context

if TYPE_CHECKING:
    from pathlib import Path

    from vault.guard.model import FileError, Finding, ScanStats
    from vault.guard.readers import ScanConfig
    from vault.guard.watcher import Watcher

SEVERITIES = ("low", "medium", "high", "critical")


# Files larger than this are skipped unless the user raises it (--max-size); None: no cap.
DEFAULT_MAX_SIZE = 100 * 1024 * 1024


def vault_fingerprints(ctx: Context) -> tuple[bytes, frozenset[str]] | None:
    """The vault's fingerprint key and the fingerprints of its token-like values; None when
    there is no vault. Unlocks the vault: the key is kept only inside it (finding 10)."""
    from vault.guard.keys import load_known

    if not ctx.path.exists():
        return None
    data = ctx.read()
    if not data.fingerprint_key:
        return None
    known = load_known(ctx.path, data.fingerprint_key)
    if known is None:  # no sidecar yet, or one of the old format: compute in memory
        from vault.store.fingerprints import compute

        known = frozenset(compute(data))
    return data.fingerprint_key, known


def scan_config(ctx: Context, deep: bool = False, max_size: int | None = DEFAULT_MAX_SIZE,
                known: tuple[bytes, frozenset[str]] | None = None) -> ScanConfig:
    """The guard key; with `deep`, the vault's fingerprints too (unlocking the vault unless
    `known` already holds them), so vault values are recognised under any key or none."""
    from vault.guard.keys import load_guard_key
    from vault.guard.readers import ScanConfig

    if deep and known is None:
        known = vault_fingerprints(ctx)
    try:
        key = load_guard_key()
    except OSError as e:  # read-only home (some CI): still scan, with a one-run key
        ctx.warn(f"cannot keep the guard key ({e.strerror}); fingerprints are for this run only "
                 "(set TOKENSAFE_GUARD_KEY to a writable file for stable baselines)")
        from vault import crypto

        key = crypto.new_key()
    if not deep or known is None:
        return ScanConfig(key, max_size=max_size)
    return ScanConfig(key, known[0], known[1], deep=True, max_size=max_size)


# audit ----------------------------------------------------------------------------------

class AuditOptions(Record):
    __slots__ = ("paths", "baseline", "update_baseline", "fail_on", "exclude", "staged", "deep",
                 "workers", "strict", "max_size", "git", "git_range")

    def __init__(self, paths: Sequence[str] = (), baseline: Path | None = None,
                 update_baseline: bool = False, fail_on: str = "low", exclude: Sequence[str] = (),
                 staged: bool = False, deep: bool = False, workers: int | None = None,
                 strict: bool = False, max_size: int | None = DEFAULT_MAX_SIZE, git: bool = False,
                 git_range: str | None = None) -> None:
        self.paths = paths  # files and folders; none means the current folder
        self.baseline = baseline  # findings listed there are silenced
        self.update_baseline = update_baseline  # write the findings to `baseline` instead of reporting
        self.fail_on = fail_on  # the least severity that makes the audit fail
        self.exclude = exclude  # globs: a name, or a path with /
        self.staged = staged  # scan what git is about to commit
        self.deep = deep  # also find vault values standing bare
        self.workers = workers
        self.strict = strict  # a file inside a tree that cannot be read fails the audit (exit 7)
        self.max_size = max_size  # bytes; larger files are skipped and counted
        self.git = git  # scan the history of the repository at paths[0] (default .)
        self.git_range = git_range  # with git: a revision range; None: every branch and tag

    def validate(self) -> None:
        if self.update_baseline and not self.baseline:
            raise UsageError("--update-baseline needs --baseline FILE",
                             "e.g. --baseline .tokensafe-baseline --update-baseline")
        if self.staged and self.paths:
            raise UsageError("--staged scans the git index; it takes no paths",
                             "drop the paths, or drop --staged")
        if self.git and (self.staged or len(self.paths) > 1):
            raise UsageError("--git scans one repository's history",
                             "name at most one repository, without --staged: "
                             "tokensafe audit --git [RANGE] [REPO]")
        if self.git and self.git_range is not None:
            from vault.guard.history import check_range

            check_range(self.git_range)
        if self.fail_on not in SEVERITIES:
            raise UsageError(f"unknown severity {self.fail_on!r}", f"use one of {', '.join(SEVERITIES)}")


class AuditResult(Record):
    __slots__ = ("findings", "stats", "errors", "suppressed", "baseline_written", "failed", "encrypted")

    def __init__(self, findings: list[Finding], stats: ScanStats, errors: list[FileError],
                 suppressed: int = 0, baseline_written: int | None = None, failed: bool = False,
                 encrypted: list | None = None) -> None:
        self.findings = findings  # after the baseline: what is left to report
        self.stats = stats
        self.errors = errors  # files skipped, with the reason
        self.suppressed = suppressed  # findings the baseline silenced
        self.baseline_written = baseline_written  # with update_baseline: how many fingerprints were saved
        self.failed = failed  # a finding at or above fail_on remains (exit 1)
        self.encrypted = [] if encrypted is None else encrypted  # ciphertext meant to be committed: info only


def audit(ctx: Context, opts: AuditOptions,
          progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Scan; `progress(bytes_done, bytes_total)` is called as files finish (not for --staged)."""
    from vault.guard import baseline as bl
    from vault.guard.model import SEVERITY_RANK

    opts.validate()
    check_named_paths(opts.paths)
    cfg = scan_config(ctx, opts.deep, opts.max_size)
    if opts.staged:
        from vault.guard.staged import scan_staged

        result = scan_staged(cfg)
    elif opts.git:
        from vault.guard.history import scan_history

        result = scan_history(cfg, opts.paths[0] if opts.paths else ".", opts.git_range, opts.workers)
    else:
        from vault.guard.engine import scan
        from vault.guard.model import display_path

        roots = tuple(opts.paths) or (".",)
        cfg = cfg.with_roots(tuple(display_path(p) for p in roots))
        result = scan(roots, cfg, tuple(opts.exclude), workers=opts.workers, progress=progress)
    findings = result.findings
    if opts.baseline is not None:
        if opts.update_baseline:
            bl.save(opts.baseline, findings, cfg.guard_key)
            return AuditResult(findings, result.stats, result.errors, baseline_written=len(findings))
        known = bl.load(opts.baseline, cfg.guard_key)
        kept = [f for f in findings if f.fingerprint not in known]
        suppressed = len(findings) - len(kept)
    else:
        kept, suppressed = findings, 0
    threshold = SEVERITY_RANK[opts.fail_on]
    failed = any(SEVERITY_RANK[f.severity] >= threshold for f in kept)
    return AuditResult(kept, result.stats, result.errors, suppressed, failed=failed,
                       encrypted=result.encrypted)


def check_named_paths(paths: Sequence[str]) -> None:
    """A path the user named must exist and be readable: a typo must not pass as "0 findings".

    NotFoundError (exit 4) for a missing path, FileSystemError (exit 7) for one that cannot
    be read. Files inside a named folder that cannot be read stay warnings (see --strict).
    """
    import os

    from vault.errors import FileSystemError, NotFoundError

    for p in paths:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            if os.path.islink(p):
                raise NotFoundError(f"no such file or folder: {p} (a symlink to a missing target)",
                                    "check where the link points") from None
            raise NotFoundError(f"no such file or folder: {p}", _nearby(p)) from None
        except OSError as e:
            raise FileSystemError(f"cannot read {p}: {e.strerror}",
                                  "check the path and its permissions") from None
        import stat

        need = os.R_OK | (os.X_OK if stat.S_ISDIR(st.st_mode) else 0)
        if not os.access(p, need):
            raise FileSystemError(f"cannot read {p}: permission denied",
                                  "check its permissions, or audit another path")


def _nearby(path: str) -> str:
    """"did you mean …?" from the names beside a missing path, else a plain hint."""
    import difflib
    import os

    folder, name = os.path.split(os.path.normpath(path))
    try:
        names = os.listdir(folder or ".")
    except OSError:
        names = []
    close = difflib.get_close_matches(name, [n for n in names if n != name], n=1, cutoff=0.7)
    if close:
        return f"did you mean {os.path.join(folder, close[0]) if folder else close[0]}?"
    return "check the path; audit takes files and folders that exist"


# import / restore -----------------------------------------------------------------------

class ImportOptions(Record):
    __slots__ = ("path", "env", "scrub", "overwrite", "import_all", "format")

    def __init__(self, path: Path, env: str | None = None, scrub: bool = False,
                 overwrite: bool = False, import_all: bool = False, format: str | None = None) -> None:
        self.path = path
        self.env = env  # default: the current environment
        self.scrub = scrub  # then rewrite the file with {{vault:name}} references
        self.overwrite = overwrite  # replace entries that hold a different value
        self.import_all = import_all  # plain values (ids, emails) too
        self.format = format  # "postman" | "dotenv"; default: detected


class ImportResult(Record):
    __slots__ = ("env", "imported", "unchanged", "replaced", "left", "scrubbed", "notes")

    def __init__(self, env: str, imported: list[str], unchanged: list[str], replaced: list[str],
                 left: list[str], scrubbed: list[str], notes: list[str] | None = None) -> None:
        self.env = env
        self.imported = imported  # names stored (new or replaced)
        self.unchanged = unchanged  # already in the vault with the same value
        self.replaced = replaced  # of `imported`: held another value before (only with overwrite)
        self.left = left  # plain values left in the file
        self.scrubbed = scrubbed  # names whose values the file now references (empty: not rewritten)
        self.notes = [] if notes is None else notes  # remarks about the file's contents


def import_file(ctx: Context, opts: ImportOptions) -> ImportResult:
    """Move a Postman environment/globals or .env file's values into the vault; maybe scrub it.

    Nothing is scrubbed before its value reads back from the vault.
    """
    from vault.guard import scrub as sc
    from vault.guard.readers import FileScanner

    if opts.format not in (None, "postman", "dotenv"):
        raise UsageError(f"unknown import format {opts.format!r}", "use postman or dotenv")
    plan = sc.plan_import(opts.path, FileScanner(scan_config(ctx)), opts.format)
    from vault.inject.hosts import bindings_for

    out = sc.commit(plan, ctx.edit, ctx.read, opts.env, opts.scrub, opts.overwrite, opts.import_all,
                    bind=bindings_for)
    return ImportResult(out.env, out.imported, out.unchanged, out.replaced, out.left, out.scrubbed,
                        list(plan.notes))


def restore_file(ctx: Context, path: Path, force: bool = False) -> str:
    """Put back the original bytes of a scrubbed file; returns the path the vault knew it by."""
    from vault.guard import scrub as sc

    return sc.restore(path, ctx.edit, force)


# watch ----------------------------------------------------------------------------------

WATCH_ACTIONS = ("report", "quarantine", "scrub")


class WatchOptions(Record):
    __slots__ = ("paths", "action", "quarantine_dir", "notify", "max_size")

    def __init__(self, paths: Sequence[Path] = (), action: str = "report",
                 quarantine_dir: Path | None = None, notify: bool = True,
                 max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        self.paths = paths  # folders; none means Downloads and the current folder
        self.action = action  # report | quarantine | scrub
        self.quarantine_dir = quarantine_dir  # default: in the tokensafe data dir
        self.notify = notify  # desktop notifications
        self.max_size = max_size  # bytes; larger files are skipped


class WatchSession(Record):
    """A watcher built and checked, not yet started: the front end starts and stops it."""

    __slots__ = ("watcher", "folders", "action", "quarantine_dir")

    def __init__(self, watcher: Watcher, folders: list[Path], action: str,
                 quarantine_dir: Path | None) -> None:
        self.watcher = watcher
        self.folders = folders
        self.action = action
        self.quarantine_dir = quarantine_dir  # where quarantined files go (action quarantine only)

    def start(self) -> None:
        self.watcher.start()

    def stop(self) -> None:
        self.watcher.stop()


def watch(ctx: Context, opts: WatchOptions, on_finding: Callable[[Finding], None],
          on_action: Callable[[str, Path, str], None],
          on_error: Callable[[FileError], None]) -> WatchSession:
    """Set up watching; events arrive on the callbacks (from the watcher's threads).

    on_action gets (what, path, detail): "quarantined" (detail: where to) or "scrubbed"
    (detail: the references left) and the like. With action scrub the vault is unlocked
    now, so that a wrong key fails at start rather than on the first leaked file, and each
    file's flagged values go into a new environment named after it (`from-NAME`), never
    into one the user has: a watched folder is untrusted, its domains must not decide
    where the user's tokens may go (finding 2).
    """
    from vault.guard import watcher

    if opts.action not in WATCH_ACTIONS:
        raise UsageError(f"unknown action {opts.action!r}", f"use one of {', '.join(WATCH_ACTIONS)}")
    from pathlib import Path

    dirs = [Path(p) for p in opts.paths] if opts.paths else watcher.default_paths()
    missing = [str(p) for p in dirs if not p.is_dir()]
    if missing:
        raise UsageError(f"not a folder: {', '.join(missing)}", "watch takes folders to watch")
    from vault.errors import LockedError

    try:  # few files: look for vault values under any key, and bare, too
        known = vault_fingerprints(ctx)
    except LockedError:
        if opts.action == "scrub":
            raise
        ctx.warn("the vault stays locked: values already in it are not recognised as such")
        known = None
    cfg = scan_config(ctx, deep=known is not None, max_size=opts.max_size, known=known)
    import os

    from vault.guard.model import display_path

    cfg = cfg.with_roots(tuple(display_path(r) for d in dirs for r in (str(d), os.path.abspath(d))))
    qdir = (opts.quarantine_dir or watcher.quarantine_dir()) if opts.action == "quarantine" else None
    scrub_fn = None
    if opts.action == "scrub":
        from vault.guard import scrub as sc
        from vault.guard.readers import FileScanner
        from vault.inject.hosts import bindings_for

        ctx.read()  # unlock once now: fail at start, not on the first leaked file
        scanner = FileScanner(cfg)

        def scrub_fn(p: Path) -> str:
            data = sc.read_file(p, follow=False)  # never through a link (finding 7)
            fmt = sc.detect_format(p, data[:4096])
            plan = (sc.plan_import(p, scanner, follow=False) if fmt != "other"
                    else sc.plan_findings(p, scanner, follow=False))
            out = sc.commit(plan, ctx.edit, ctx.read, sc.env_for_file(p), scrub=True, rename=True,
                            follow=False, only_secret=True, new_env=True, bind=bindings_for)
            refs = ", ".join(sc.reference(n) for n in out.scrubbed)
            return f"{refs} in environment {out.env!r}" if refs else "nothing to scrub"

    if opts.notify:
        import shutil

        if shutil.which("notify-send") is None:
            ctx.warn("no desktop notifications: notify-send is not installed (Debian/Ubuntu: "
                     "libnotify-bin); findings are printed here only")
    w = watcher.Watcher(dirs, cfg, watcher.Sink(on_finding, on_action, on_error), opts.action,
                        qdir, scrub_fn, notify=opts.notify)
    return WatchSession(w, dirs, opts.action, qdir)
