"""Run the installed `tokensafe` on a pseudo-terminal that is its controlling terminal.

Passphrase prompts (`getpass` on /dev/tty) are answered and counted, so a test can assert
how many times a command asked. Everything the command wrote to the terminal is kept.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import subprocess
import termios
import time
from pathlib import Path

PROMPT = re.compile(rb"passphrase: ", re.I)


def _controlling_tty() -> None:  # runs in the child, after setsid (start_new_session)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProc:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, answer: str | None,
                 pass_fds: tuple[int, ...] = ()) -> None:
        exe = shutil.which("tokensafe")
        assert exe
        self.argv = [exe, *args]
        self.answer = answer  # None: leave prompts unanswered
        master, slave = os.openpty()
        self.p = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                  start_new_session=True, preexec_fn=_controlling_tty, pass_fds=pass_fds)
        os.close(slave)
        self.master = master
        self.out = bytearray()
        self.prompts = 0
        self._seen = 0  # bytes of `out` already searched for prompts

    def _pump(self, wait: float) -> bool:
        """Read what is there (waiting up to `wait` s); answer prompts. False at end of output."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the terminal has closed it
            return False
        if not chunk:
            return False
        self.out += chunk
        for m in PROMPT.finditer(bytes(self.out), self._seen):
            self.prompts += 1
            self._seen = m.end()
            if self.answer is not None:
                os.write(self.master, self.answer.encode() + b"\n")
        return True

    def expect(self, pattern: bytes, timeout: float = 30, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, bytes(self.out))) < count:
            if time.monotonic() > deadline or not self._pump(0.1):
                raise AssertionError(f"{pattern!r} x{count} not seen; got {bytes(self.out)!r}")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.p.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._pump(0.1):
            if time.monotonic() > deadline:
                self.p.kill()
                raise AssertionError(f"still running; got {bytes(self.out)!r}")
            if self.p.poll() is not None:
                while self._pump(0.05):  # drain
                    pass
                break
        code = self.p.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code

    @property
    def text(self) -> str:
        return bytes(self.out).decode("utf-8", "replace").replace("\r\n", "\n")


def pty_run(session, *args: str, answer: str | None = None, timeout: float = 60,
            env: dict[str, str] | None = None) -> tuple[int, str, int]:
    """(exit status, terminal output, prompts) of one command; recorded in the session."""
    proc = PtyProc(list(args), {**session.env, **(env or {})}, session.cwd, answer)
    code = proc.wait(timeout)
    session.transcript.append((proc.argv, b"", bytes(proc.out)))  # terminal output: as stderr
    return code, proc.text, proc.prompts
