"""`tokensafe run`: a child process with the secrets in its environment, output masked.

Shape follows aws-vault's `exec`: copy the environment, drop what must not leak (the vault
passphrase), add the entries, forward signals, return the child's exit code, refuse to
nest. With masking on, the child's stdout and stderr go through pipes (or a pseudo-terminal
when ours is a terminal, so colours and prompts keep working) and every secret is replaced
before it reaches our own stdout/stderr. The child's stdin is ours, untouched.

A masked child runs in a new session, without a controlling terminal: it cannot open
`/dev/tty` to write around the masking (its stdout may still be a pseudo-terminal of ours,
which we read and mask). Terminal signals therefore reach only us, and we forward them to
the child's process group: Ctrl-C (once), Ctrl-\\, Ctrl-Z (we stop with it), window size.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vault.errors import PolicyError, UsageError
from vault.inject.envnames import env_map
from vault.inject.envpolicy import SECRET_SETTINGS, split_allowed
from vault.inject.mask import Masker

NEST_MARKER = "TOKENSAFE_RUN"
# Never handed to a child: the vault's own unlock material. Other TOKENSAFE_* settings
# (TOKENSAFE_VAULT, TOKENSAFE_LOCK_WAIT …) are paths and numbers, kept so that a nested
# `tokensafe` (--allow-nested) opens the same vault the same way.
STRIPPED = SECRET_SETTINGS
TEMPLATE_ARG = re.compile(r"\{\{[^{}]*}}")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
             signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT, signal.SIGTSTP)
CHUNK = 1 << 20


@dataclass
class RunSpec:
    argv: Sequence[str]
    # Secrets stay out of repr (test failures, tracebacks): field(repr=False).
    values: Mapping[str, str] = field(repr=False)  # vault name -> value, for the child
    mask_values: Mapping[str, str] | None = field(default=None, repr=False)  # default: values
    as_is: bool = False
    mask: bool = True
    allow_nested: bool = False
    allow_env: Sequence[str] = ()  # denied variable names the user lets through (vault.inject.envpolicy)


def check_argv(argv: Sequence[str]) -> None:
    if not argv:
        raise UsageError("no command given", "usage: tokensafe run [OPTIONS] -- CMD ARGS…")
    for arg in argv:
        if TEMPLATE_ARG.search(arg):
            raise PolicyError(
                "refusing {{…}} in the command's arguments: argv is visible to every user (ps, /proc)",
                "the child gets each entry as an environment variable (auth0_token as AUTH0_TOKEN): "
                "hand it on through stdin, never as an argument; for files or pipes use `tokensafe inject`",
            )


def check_nesting(allow_nested: bool, environ: Mapping[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    if environ.get(NEST_MARKER) and not allow_nested:
        raise PolicyError("refusing to run inside another `tokensafe run`",
                          "the variables are already set here; add --allow-nested if you mean it")


def child_vars(spec: RunSpec) -> tuple[dict[str, str], list[str]]:
    """(the variables the entries set, the denied names left out: see vault.inject.envpolicy)."""
    return split_allowed({var: v for var, (_, v) in env_map(spec.values, spec.as_is).items()},
                         spec.allow_env)


def child_env(spec: RunSpec, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for k in STRIPPED:
        env.pop(k, None)
    env.update(child_vars(spec)[0])
    env[NEST_MARKER] = str(int(env.get(NEST_MARKER, "0") or 0) + 1)
    return env


def _exit_code(status: int) -> int:
    return 128 - status if status < 0 else status


def _write_all(fd: int, parts: list[bytes | memoryview]) -> bool:
    """writev every piece, resuming after partial writes (pieces are views: no copying).

    False when our reader has gone away (EPIPE)."""
    parts = [p for p in parts if len(p)]
    while parts:
        try:
            n = os.writev(fd, parts[:1024])  # IOV_MAX
        except InterruptedError:
            continue
        except BrokenPipeError:
            return False
        while n and parts:
            if n >= len(parts[0]):
                n -= len(parts.pop(0))
            else:
                parts[0] = memoryview(parts[0])[n:]
                n = 0
    return True


def _big_pipe() -> tuple[int, int]:
    r, w = os.pipe()
    try:  # fewer, larger reads: masking cost is per read as much as per byte
        import fcntl

        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, CHUNK)
    except (OSError, AttributeError):
        pass
    return r, w


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _copy_winsize(src: int, dst: int) -> None:
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def _raw_output(slave: int) -> None:
    """Turn off output processing on the child's terminal: the user's own terminal already
    turns "\n" into "\r\n", and doing it on both sides wrote "\r\r\n" into captures."""
    import termios

    try:
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    except (OSError, termios.error):
        pass


def run(spec: RunSpec) -> int:
    """Run the child; return its exit code (128+N when a signal N ended it)."""
    check_argv(spec.argv)
    check_nesting(spec.allow_nested)
    env = child_env(spec)
    argv = list(spec.argv)
    if not spec.mask:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # Nothing left to do for us: become the child (signals and exit code are native).
            os.execvpe(argv[0], argv, env)
        except FileNotFoundError:
            raise UsageError(f"command not found: {argv[0]}", "check the name and your PATH") from None
        except PermissionError:
            raise UsageError(f"cannot execute {argv[0]}: permission denied") from None
    masker = Masker(spec.values if spec.mask_values is None else spec.mask_values)
    return _run_masked(argv, env, masker)


def _run_masked(argv: list[str], env: dict[str, str], masker: Masker) -> int:
    out_tty, err_tty = _isatty(1), _isatty(2)
    fds_to_close: list[int] = []
    routes: dict[int, int] = {}  # our read end -> our output fd
    if out_tty:
        import pty

        master, slave = pty.openpty()
        _copy_winsize(1, slave)
        _raw_output(slave)
        child_out = slave
        child_err = slave if err_tty else None
        routes[master] = 1
        fds_to_close.append(slave)
        pty_master: int | None = master
    else:
        pty_master = None
        r, w = _big_pipe()
        routes[r] = 1
        child_out = w
        child_err = None
        fds_to_close.append(w)
    if child_err is None:
        r, w = _big_pipe()
        routes[r] = 2
        child_err = w
        fds_to_close.append(w)

    import subprocess  # here, not at the top: `--no-mask` execs without it

    try:
        # start_new_session: no controlling terminal, so no /dev/tty around the masking.
        proc = subprocess.Popen(argv, env=env, stdin=None, stdout=child_out, stderr=child_err,
                                close_fds=True, restore_signals=True, start_new_session=True)
    except FileNotFoundError:
        raise UsageError(f"command not found: {argv[0]}", "check the name and your PATH") from None
    except PermissionError:
        raise UsageError(f"cannot execute {argv[0]}: permission denied") from None
    finally:
        for fd in set(fds_to_close):
            os.close(fd)

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGWINCH and pty_master is not None:
            _copy_winsize(1, pty_master)
        # The child leads its own session and group (see the module docstring): the
        # terminal's signals reach it only through us, to the whole group as a terminal would.
        # SIGTSTP would be discarded (the child's group is orphaned: its parent, we, are in
        # another session), so Ctrl-Z stops the child with SIGSTOP, then us.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGSTOP if signum == signal.SIGTSTP else signum)
        if signum == signal.SIGTSTP:
            os.kill(os.getpid(), signal.SIGSTOP)  # SIGCONT (forwarded) resumes both

    old = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        _pump(routes, masker)
        status = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return _exit_code(status)


def _pump(routes: dict[int, int], masker: Masker) -> None:
    """Copy every read end to its output through its own mask stream until all reach EOF."""
    import selectors

    maskers = {fd: masker.stream() for fd in routes}
    sel = selectors.DefaultSelector()
    for fd in routes:
        sel.register(fd, selectors.EVENT_READ)
    open_fds = set(routes)
    while open_fds:
        for key, _ in sel.select():
            fd = key.fd
            try:
                chunk = os.read(fd, CHUNK)
            except InterruptedError:
                continue
            except OSError as e:
                if e.errno != errno.EIO:  # EIO: the pty's last writer closed
                    raise
                chunk = b""
            m = maskers[fd]
            if chunk:
                if _write_all(routes[fd], m.feed_parts(chunk)):
                    continue
                # Our reader went away (`… | head`): closing our end gives the child
                # SIGPIPE/EPIPE on its next write, as it would get without tokensafe.
            else:
                _write_all(routes[fd], [m.flush()])
            sel.unregister(fd)
            os.close(fd)
            open_fds.discard(fd)
    sel.close()
