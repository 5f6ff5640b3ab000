"""`tokensafe run` end to end: masking, argv, exit codes, signals, stdin, volume, nesting."""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest

from tests.realparts import drain_pty

from .conftest import PLANTED

pytestmark = pytest.mark.e2e
PY = sys.executable

LEAKY_CHILD = r"""
import base64, json, os, sys, time, urllib.parse
t = os.environ["AUTH0_TOKEN"]
forms = [t, base64.b64encode(t.encode()).decode(), base64.urlsafe_b64encode(t.encode()).decode(),
         urllib.parse.quote(t, safe=""), json.dumps(t)[1:-1]]
for f in forms:
    half = len(f) // 2
    sys.stdout.write("form:" + f[:half]); sys.stdout.flush()  # split across two writes
    time.sleep(0.02)
    sys.stdout.write(f[half:] + "\n"); sys.stdout.flush()
sys.stderr.write("err:" + t + "\n")
sys.exit(7)
"""


def test_child_gets_env_output_masked_exit_code_passed(ts) -> None:
    r = ts("run", "--", PY, "-c", LEAKY_CHILD)
    assert r.returncode == 7
    out = r.stdout.decode()
    assert out.count("form:<redacted:auth0_token>\n") == 5, out
    assert r.stderr.decode() == "err:<redacted:auth0_token>\n"
    ts.assert_no_leak(PLANTED)


def test_names_are_upper_cased_or_as_is_and_only_filters(ts, server) -> None:
    show = "import os,json; print(json.dumps({k: len(v) for k, v in os.environ.items() if 'auth0' in k.lower() or 'client' in k.lower()}))"
    r = ts("run", "--", PY, "-c", show)
    assert json.loads(r.stdout) == {"AUTH0_DOMAIN": len(server.host), "AUTH0_TOKEN": len(PLANTED),
                                    "CLIENT_ID": 20}
    r = ts("run", "--as-is", "--only", "auth0_token", "--", PY, "-c", show)
    assert json.loads(r.stdout) == {"auth0_token": len(PLANTED)}
    r = ts("run", "--only", "nope", "--", "true")
    assert r.returncode == 4


def test_passphrase_and_marker(ts) -> None:
    r = ts("run", "--", PY, "-c", "import os; print(os.environ.get('TOKENSAFE_PASSPHRASE'), os.environ['TOKENSAFE_RUN'])")
    assert r.stdout.decode().split() == ["None", "1"]


def test_templates_in_argv_refused_before_anything_runs(ts, tmp_path) -> None:
    marker = tmp_path / "ran"
    r = ts("run", "--", "sh", "-c", f"touch {marker}; echo {{{{auth0_token}}}}")
    assert r.returncode == 9 and not marker.exists()
    assert b"refusing {{" in r.stderr and b"inject" in r.stderr
    ts.assert_no_leak(PLANTED)


def test_secret_not_in_any_cmdline(ts) -> None:
    probe = ("import os; me=open('/proc/self/cmdline','rb').read(); "
             "parent=open(f'/proc/{os.getppid()}/cmdline','rb').read(); print((me+parent).hex())")
    r = ts("run", "--", PY, "-c", probe)
    assert r.returncode == 0
    cmdlines = bytes.fromhex(r.stdout.decode().strip())
    assert b"tokensafe" in cmdlines and b"run" in cmdlines
    assert PLANTED.encode() not in cmdlines


def test_child_reads_stdin(ts) -> None:
    r = ts("run", "--", "cat", input=b"hello " + PLANTED.encode() + b" bye\n")
    assert r.stdout == b"hello <redacted:auth0_token> bye\n"


def test_no_mask_execs_the_child(ts) -> None:
    r = ts("run", "--no-mask", "--", "sh", "-c", 'printf %s "$AUTH0_TOKEN"; exit 5')
    assert r.returncode == 5 and r.stdout == PLANTED.encode()


def test_a_lot_of_output(ts) -> None:
    child = ("import os,sys; t=os.environ['AUTH0_TOKEN'].encode(); "
             "block=(b'x'*997+b' '+t+b'\\n'); w=sys.stdout.buffer\n"
             "for _ in range(40000): w.write(block)\n")
    r = ts("run", "--", PY, "-c", child, timeout=120)
    assert r.returncode == 0
    assert PLANTED.encode() not in r.stdout
    assert r.stdout.count(b"<redacted:auth0_token>\n") == 40000
    assert len(r.stdout) == 40000 * (997 + 1 + len(b"<redacted:auth0_token>") + 1)


def test_exit_by_signal_is_128_plus_n(ts) -> None:
    r = ts("run", "--", "sh", "-c", "kill -KILL $$")
    assert r.returncode == 128 + signal.SIGKILL


def test_command_not_found(ts) -> None:
    r = ts("run", "--", "no-such-command-tokensafe")
    assert r.returncode == 2 and b"command not found" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1])
def test_signals_are_forwarded(ts, sig) -> None:
    child = ("import signal,sys,time\n"
             "def h(n,f):\n print('got', n, flush=True); sys.exit(42)\n"
             f"signal.signal({int(sig)}, h)\nprint('ready', flush=True)\ntime.sleep(30)\n")
    p = subprocess.Popen([shutil.which("tokensafe"), "run", "--", PY, "-c", child],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=ts.env, start_new_session=True)
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(sig)
    out, _ = p.communicate(timeout=20)
    assert p.returncode == 42
    assert out == f"got {int(sig)}\n".encode()


def test_nesting_refused_unless_allowed(ts) -> None:
    exe = shutil.which("tokensafe")
    r = ts("run", "--", exe, "run", "--", "true")
    assert r.returncode == 9
    assert b"inside another" in r.stderr
    # Allowed: the inner run gets past the check (and, without the passphrase, which is
    # never handed to a child, stops at unlocking).
    r = ts("run", "--", exe, "run", "--allow-nested", "--", "true")
    assert b"inside another" not in r.stderr
    assert r.returncode == 3


def test_terminal_child_sees_a_terminal_and_output_is_masked(ts) -> None:
    master, slave = pty.openpty()
    child = ("import os,sys; print('tty' if sys.stdout.isatty() else 'pipe', "
             "'\\x1b[31m'+os.environ['AUTH0_TOKEN']+'\\x1b[0m', flush=True)")
    p = subprocess.Popen([shutil.which("tokensafe"), "run", "--", PY, "-c", child],
                         stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=ts.env)
    os.close(slave)
    buf = drain_pty(master, p)
    assert p.returncode == 0
    assert b"tty \x1b[31m<redacted:auth0_token>\x1b[0m" in buf, buf
    assert PLANTED.encode() not in buf


def test_every_encoding_masked_in_bulk(ts) -> None:
    t = PLANTED.encode()
    forms = [t, base64.b64encode(t), base64.urlsafe_b64encode(t).rstrip(b"="),
             urllib.parse.quote(PLANTED, safe="").encode(), json.dumps(PLANTED)[1:-1].encode(),
             base64.b64encode(b"user:" + t)]
    r = ts("run", "--", "cat", input=b"\n".join(forms) + b"\n")
    assert r.stdout.count(b"<redacted:auth0_token>") == len(forms)
    for f in forms[:-1]:
        assert f not in r.stdout


def test_reader_going_away_ends_the_child_like_a_plain_pipe(ts) -> None:
    exe = shutil.which("tokensafe")
    r = subprocess.run(["sh", "-c", f"{exe} run -- yes | head -n 2"], capture_output=True,
                       env=ts.env, timeout=60)
    assert r.stdout == b"y\ny\n"
    p = subprocess.Popen([exe, "run", "--", "yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=ts.env)
    assert p.stdout.read(4) == b"y\ny\n"
    p.stdout.close()
    assert p.wait(timeout=30) == 128 + signal.SIGPIPE


def test_passphrase_fd_is_read_and_not_inherited(ts) -> None:
    exe = shutil.which("tokensafe")
    env = {k: v for k, v in ts.env.items() if k != "TOKENSAFE_PASSPHRASE"}
    r, w = os.pipe()
    os.write(w, ts.env["TOKENSAFE_PASSPHRASE"].encode())
    os.close(w)
    probe = f"import os; print(os.path.exists('/proc/self/fd/{r}'))"
    p = subprocess.run([exe, "run", "--passphrase-fd", str(r), "--no-mask", "--", PY, "-c", probe],
                       pass_fds=(r,), capture_output=True, env=env, timeout=60)
    os.close(r)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"False\n"


def test_interactive_child_on_a_terminal_prompts_and_reads(ts) -> None:
    """stdin, stdout and stderr all a terminal: the prompt shows at once (not held back),
    the child reads the answer from the terminal, and its reply is masked."""
    master, slave = pty.openpty()
    child = ("import os,sys; sys.stdout.write('name? '); sys.stdout.flush(); n=sys.stdin.readline().strip(); "
             "print('hi', n, os.environ['AUTH0_TOKEN'], sys.stdin.isatty(), sys.stdout.isatty(), flush=True)")
    p = subprocess.Popen([shutil.which("tokensafe"), "run", "--", PY, "-c", child],
                         stdin=slave, stdout=slave, stderr=slave, env=ts.env, start_new_session=True)
    os.close(slave)
    buf = b""

    def read_until(marker: bytes) -> None:
        nonlocal buf
        deadline = time.time() + 20
        while marker not in buf and time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    buf += os.read(master, 65536)
                except OSError:
                    return

    read_until(b"name? ")
    assert b"name? " in buf
    os.write(master, b"alice\n")
    read_until(b"True True")
    p.wait(timeout=20)
    os.close(master)
    assert p.returncode == 0
    assert b"hi alice <redacted:auth0_token> True True" in buf, buf
    assert PLANTED.encode() not in buf


def test_ctrl_c_on_the_terminal_reaches_the_child_once(ts) -> None:
    """The terminal sends SIGINT to the whole foreground group; tokensafe must not add a
    second one (a child that counts them, like a REPL, would see two)."""
    import fcntl
    import termios

    master, slave = pty.openpty()

    def controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = ("import signal,sys,time\nn=[0]\n"
             "def h(s,f): n[0]+=1\n"
             "signal.signal(signal.SIGINT,h)\nprint('ready',flush=True)\n"
             "t=time.time()\nwhile time.time()-t<3 and n[0]==0: time.sleep(0.05)\n"
             "time.sleep(0.5)\nprint('count',n[0],flush=True)\n")
    p = subprocess.Popen([shutil.which("tokensafe"), "run", "--", PY, "-c", child],
                         stdin=slave, stdout=slave, stderr=slave, env=ts.env, preexec_fn=controlling_tty)
    os.close(slave)
    buf = b""
    deadline = time.time() + 20
    sent = False
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        if b"ready" in buf and not sent:
            os.write(master, b"\x03")  # Ctrl-C, as typed
            sent = True
        if p.poll() is not None and not ready:
            break
    p.wait(timeout=20)
    os.close(master)
    assert b"count 1" in buf, buf
    assert p.returncode == 0
