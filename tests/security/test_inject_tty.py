"""#9 finding 14: with masking on, a child cannot write around it through /dev/tty (it runs
without a controlling terminal); what remains is documented in SECURITY.md."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import subprocess
import sys
import termios

import pytest

from tests.inject.conftest import PLANTED, make_vault
from tests.realparts import drain_pty

pytestmark = pytest.mark.e2e

CHILD = ("import os,sys\n"
         "try:\n"
         "    fd = os.open('/dev/tty', os.O_WRONLY)\n"
         "    os.write(fd, b'via-tty:' + os.environ['AUTH0_TOKEN'].encode() + b'\\n')\n"
         "    print('tty-open', flush=True)\n"
         "except OSError as e:\n"
         "    print('no-tty', e.errno, flush=True)\n"
         "print('stdout:', os.environ['AUTH0_TOKEN'], flush=True)\n")


def _on_a_terminal(session, *args: str) -> bytes:
    """Run the installed command with a fresh pseudo-terminal as its controlling terminal."""
    master, slave = pty.openpty()

    def controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([shutil.which("tokensafe"), *args], stdin=slave, stdout=slave, stderr=slave,
                         env=session.env, cwd=session.cwd, preexec_fn=controlling_tty)
    os.close(slave)
    return drain_pty(master, p, timeout=30)


@pytest.mark.parametrize("redirect", [False, True])
def test_a_masked_child_cannot_reach_the_terminal_directly(session, redirect) -> None:
    make_vault(session, {"dev": {"auth0_token": PLANTED}}, "dev")
    args = ["run", "--", sys.executable, "-c", CHILD]
    if redirect:  # stdout a pipe, not the terminal: the child gets pipes, still no terminal
        args = ["run", "--", "sh", "-c", f"{sys.executable} -c \"$0\" | cat", CHILD]
    buf = _on_a_terminal(session, *args)
    assert PLANTED.encode() not in buf, buf
    assert b"no-tty" in buf and b"stdout: <redacted:auth0_token>" in buf, buf


def test_no_mask_keeps_the_terminal(session) -> None:
    """--no-mask execs the child: it is tokensafe, with its terminal (and no masking, as documented)."""
    make_vault(session, {"dev": {"auth0_token": "not-the-planted-value-123456"}}, "dev")
    buf = _on_a_terminal(session, "run", "--no-mask", "--", sys.executable, "-c", CHILD)
    assert b"tty-open" in buf, buf


@pytest.mark.parametrize("mask", [True, False])
def test_line_endings_on_a_terminal_are_translated_once(session, mask) -> None:
    """Masked output passes through a second pseudo-terminal; only the user's terminal may
    turn "\\n" into "\\r\\n" (shared/findings: 2 million "\\r\\r\\n" in a 200 MB capture)."""
    make_vault(session, {"dev": {"auth0_token": PLANTED}}, "dev")
    args = ["run", "--", "printf", "a\\nb\\n"] if mask else ["run", "--no-mask", "--", "printf", "a\\nb\\n"]
    buf = _on_a_terminal(session, *args)
    assert buf.endswith(b"a\r\nb\r\n"), buf
    assert b"\r\r" not in buf, buf
