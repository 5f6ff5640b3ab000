"""The real OS keyring: gnome-keyring's Secret Service on a private D-Bus session bus.

Each test starts its own `dbus-daemon` and `gnome-keyring-daemon` (HOME, XDG_DATA_HOME and
XDG_RUNTIME_DIR private to the test), so the user's real keyring is never touched. Also: no
D-Bus at all, and a "Secret Service" that accepts connections and never answers.
Missing daemons skip the tests locally and fail them under CI (CI must run every test).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PLANTED, files_containing
from realparts import secret_service_daemons

pytestmark = [pytest.mark.e2e, pytest.mark.keyring]

HANG_BOUND_S = 15  # "does not hang", not a performance figure


@dataclass
class SecretService:
    address: str
    env: dict[str, str]  # for the tokensafe command: keyring on, no passphrase


@contextlib.contextmanager
def running_secret_service(session, home: Path, unlock: bool = True) -> Iterator[SecretService]:
    """The shared daemons, with `session` pointed at them (keyring on, no passphrase)."""
    with secret_service_daemons(home, unlock) as d:
        env = {**session.env, "DBUS_SESSION_BUS_ADDRESS": d.address, "XDG_RUNTIME_DIR": str(d.run_dir)}
        for var in ("PYTHON_KEYRING_BACKEND", "TOKENSAFE_PASSPHRASE", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        session.env = env
        yield SecretService(d.address, env)


@pytest.fixture
def secret_service(session, home: Path) -> Iterator[SecretService]:
    with running_secret_service(session, home) as ss:
        yield ss


@pytest.fixture
def locked_secret_service(session, home: Path) -> Iterator[SecretService]:
    with running_secret_service(session, home, unlock=False) as ss:
        yield ss


def keyring_cmd(env: dict[str, str], code: str) -> str:
    """Run python with `keyring` against the test's Secret Service (as another app would)."""
    r = subprocess.run([sys.executable, "-c", f"import keyring\n{code}"], env=env, capture_output=True,
                       timeout=HANG_BOUND_S, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


RK = "recovery-key.txt"  # --recovery-key-file: stderr is not a terminal here


def recovery_key_of(session) -> str:
    path = Path(session.cwd) / RK
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return path.read_text().strip()


def test_init_and_get_with_no_passphrase_at_all(secret_service: SecretService, session) -> None:
    assert "TOKENSAFE_PASSPHRASE" not in session.env
    r = session("init", timeout=HANG_BOUND_S)
    assert r.returncode == 2 and b"--recovery-key-file" in r.stderr  # never into a captured stderr
    assert not Path(session.env["TOKENSAFE_VAULT"]).exists()
    r = session("init", "--recovery-key-file", RK, timeout=HANG_BOUND_S)
    assert r.returncode == 0, r.stderr.decode()
    assert b"keyring" in r.stderr and b"No OS keyring" not in r.stderr
    recovery = recovery_key_of(session)
    assert recovery.encode() not in r.stderr

    slots = json.loads(session("keys", "list", "--json").stdout)["keyslots"]
    assert [s["type"] for s in slots] == ["keyring", "recovery"]
    account = slots[0]["detail"].split("account=")[1]
    assert account.startswith("tokensafe-") and len(account) == len("tokensafe-") + 32  # a random handle
    stored = keyring_cmd(session.env, f"print(keyring.get_password('tokensafe', {account!r}))")
    assert len(stored.strip()) == 44  # base64 of 32 random bytes

    assert session("set", "auth0_token", input=PLANTED).returncode == 0
    r = session("get", "-n", "auth0_token", timeout=HANG_BOUND_S)
    assert (r.returncode, r.stdout) == (0, PLANTED.encode()), r.stderr.decode()
    assert b"passphrase" not in r.stderr.lower()
    assert b"keyring" in session("keys", "list").stdout

    # The keyring entry goes away: no way in without the recovery key, and that one works.
    keyring_cmd(session.env, f"keyring.delete_password('tokensafe', {account!r})")
    r = session("get", "auth0_token", timeout=HANG_BOUND_S)
    assert r.returncode == 3
    assert b"TOKENSAFE_RECOVERY_KEY" in r.stderr
    r = session("get", "-n", "auth0_token", env={"TOKENSAFE_RECOVERY_KEY": recovery})
    assert (r.returncode, r.stdout) == (0, PLANTED.encode()), r.stderr.decode()
    session.assert_no_leak(PLANTED)
    # Nor is the token stored in the keyring's files: only the slot key is.
    keyrings = list(Path(session.env["HOME"]).rglob("*.keyring"))
    assert keyrings, "gnome-keyring kept its files outside the test's HOME"
    assert files_containing(Path(session.env["HOME"]), PLANTED.encode()) == []


@pytest.mark.parametrize("flags, env, slots, shows_recovery", [
    (["--no-recovery"], {}, ["keyring"], False),
    (["--passphrase"], {"TOKENSAFE_PASSPHRASE": "pw"}, ["keyring", "passphrase"], False),
    (["--no-keyring"], {"TOKENSAFE_PASSPHRASE": "pw"}, ["passphrase"], False),
    (["--recovery-key-file", RK], {"TOKENSAFE_PASSPHRASE": "pw"}, ["keyring", "recovery"], True),
])
def test_init_slot_choices(secret_service: SecretService, session, flags: list[str],
                           env: dict[str, str], slots: list[str], shows_recovery: bool) -> None:
    r = session("init", *flags, env=env, timeout=HANG_BOUND_S)
    assert r.returncode == 0, r.stderr.decode()
    assert b"TSR1-" not in r.stderr
    assert (Path(session.cwd) / RK).exists() is shows_recovery
    got = json.loads(session("keys", "list", "--json").stdout)["keyslots"]
    assert [s["type"] for s in got] == slots


def test_keys_add_and_rm_keyring_slot(secret_service: SecretService, session, vault: Path) -> None:
    """A passphrase vault gains a keyring slot; removing the slot removes the keyring entry."""
    env_pw = {"TOKENSAFE_PASSPHRASE": "correct horse battery staple", "TOKENSAFE_VAULT": str(vault)}
    assert session("keys", "add", "keyring", env=env_pw).returncode == 0
    slots = json.loads(session("keys", "list", "--json", env=env_pw).stdout)["keyslots"]
    assert [s["type"] for s in slots] == ["passphrase", "keyring"]
    account = slots[1]["detail"].split("account=")[1]
    session("set", "t", input="value-t", env=env_pw)
    r = session("get", "-n", "t", env={"TOKENSAFE_VAULT": str(vault)})
    assert (r.returncode, r.stdout) == (0, b"value-t"), r.stderr.decode()
    assert session("keys", "rm", "k2", env=env_pw).returncode == 0
    # Kept by default (copies and backups of the vault still use it); --purge deletes it.
    assert keyring_cmd(session.env, f"print(keyring.get_password('tokensafe', {account!r}))").strip() != "None"
    assert session("get", "t", env={"TOKENSAFE_VAULT": str(vault)}).returncode == 3
    assert session("keys", "add", "keyring", env=env_pw).returncode == 0
    again = json.loads(session("keys", "list", "--json", env=env_pw).stdout)["keyslots"]
    assert [s["id"] for s in again] == ["k1", "k2"] and again[1]["detail"].split("account=")[1] != account
    r = session("keys", "rm", "k2", "--purge", env=env_pw)
    assert r.returncode == 0 and b"copies and backups" in r.stderr
    account = again[1]["detail"].split("account=")[1]
    assert keyring_cmd(session.env, f"print(keyring.get_password('tokensafe', {account!r}))").strip() == "None"
    assert session("get", "t", env={"TOKENSAFE_VAULT": str(vault)}).returncode == 3


def test_no_dbus_session_falls_back_to_passphrase_fast(session) -> None:
    gone = ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "TOKENSAFE_PASSPHRASE")
    env = {k: v for k, v in session.env.items() if k not in gone}
    session.env = env
    t = time.monotonic()
    r = session("init", env={"TOKENSAFE_PASSPHRASE": "pw"}, timeout=HANG_BOUND_S)
    took = time.monotonic() - t
    assert r.returncode == 0, r.stderr.decode()
    assert b"No OS keyring" in r.stderr
    assert took < 10
    keys = json.loads(session("keys", "list", "--json").stdout)["keyslots"]
    assert [k["type"] for k in keys] == ["passphrase"]
    # Without a passphrase either: a clear exit 3, at once.
    Path(env["TOKENSAFE_VAULT"]).unlink()
    t = time.monotonic()
    r = session("init", timeout=HANG_BOUND_S)
    assert r.returncode == 3 and b"TOKENSAFE_PASSPHRASE" in r.stderr
    assert time.monotonic() - t < 10
    r = session("init", "--keyring", timeout=HANG_BOUND_S)
    assert r.returncode == 3 and b"keyring" in r.stderr


def test_a_locked_keyring_falls_back_or_fails_fast(locked_secret_service: SecretService,
                                                   session) -> None:
    """No one can type the keyring's password here: init must not wait for a prompt."""
    session.env["TOKENSAFE_KEYRING_TIMEOUT"] = "3"
    t = time.monotonic()
    r = session("init", env={"TOKENSAFE_PASSPHRASE": "pw"}, timeout=HANG_BOUND_S)
    assert r.returncode == 0, r.stderr.decode()
    assert time.monotonic() - t < 10
    slots = json.loads(session("keys", "list", "--json").stdout)["keyslots"]
    assert [s["type"] for s in slots] == ["passphrase"]
    Path(session.env["TOKENSAFE_VAULT"]).unlink()
    t = time.monotonic()
    r = session("init", timeout=HANG_BOUND_S)
    assert r.returncode == 3 and b"hint:" in r.stderr
    assert time.monotonic() - t < 10
    assert not Path(session.env["TOKENSAFE_VAULT"]).exists()


@pytest.mark.parametrize("timeout", ["abc", "-1", ""])
def test_a_bad_keyring_timeout_value_is_ignored(session, timeout: str) -> None:
    r = session("init", env={"TOKENSAFE_KEYRING_TIMEOUT": timeout}, timeout=HANG_BOUND_S)
    assert r.returncode == 0, r.stderr.decode()[-1000:]


@contextlib.contextmanager
def silent_bus() -> Iterator[str]:
    """A unix socket that accepts D-Bus clients and never says a word."""
    d = Path(tempfile.mkdtemp(prefix="ts-mute-"))
    path = str(d / "bus")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            held.append(conn)  # read nothing, answer nothing

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"unix:path={path}"
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()
        shutil.rmtree(d, ignore_errors=True)


def test_a_keyring_that_never_answers_does_not_hang(session) -> None:
    gone = ("PYTHON_KEYRING_BACKEND", "TOKENSAFE_PASSPHRASE")
    env = {k: v for k, v in session.env.items() if k not in gone}
    session.env = env
    with silent_bus() as address:
        env.update(DBUS_SESSION_BUS_ADDRESS=address, TOKENSAFE_KEYRING_TIMEOUT="1")
        t = time.monotonic()
        r = session("init", env={"TOKENSAFE_PASSPHRASE": "pw"}, timeout=HANG_BOUND_S)
        assert r.returncode == 0, r.stderr.decode()
        assert b"did not answer" in r.stderr or b"No OS keyring" in r.stderr
        assert time.monotonic() - t < 10
        slots = json.loads(session("keys", "list", "--json").stdout)["keyslots"]
        assert [s["type"] for s in slots] == ["passphrase"]
        t = time.monotonic()
        r = session("init", "--keyring", "--vault", str(Path(env["TOKENSAFE_VAULT"]).with_name("v2")),
                    timeout=HANG_BOUND_S)
        assert r.returncode == 3 and b"keyring" in r.stderr
        assert time.monotonic() - t < 10


def test_wedged_keyring_on_a_keyring_vault_falls_back_to_recovery(
        secret_service: SecretService, session) -> None:
    r = session("init", "--recovery-key-file", RK, timeout=HANG_BOUND_S)
    assert r.returncode == 0, r.stderr.decode()
    recovery = recovery_key_of(session)
    assert session("set", "t", input="value-t").returncode == 0
    with silent_bus() as address:
        mute = {"DBUS_SESSION_BUS_ADDRESS": address, "TOKENSAFE_KEYRING_TIMEOUT": "1"}
        t = time.monotonic()
        r = session("get", "t", env=mute, timeout=HANG_BOUND_S)
        assert r.returncode == 3, r.stderr.decode()
        assert b"keyring" in r.stderr and b"TOKENSAFE_RECOVERY_KEY" in r.stderr
        r = session("get", "-n", "t", env={**mute, "TOKENSAFE_RECOVERY_KEY": recovery},
                    timeout=HANG_BOUND_S)
        assert (r.returncode, r.stdout) == (0, b"value-t"), r.stderr.decode()
        assert time.monotonic() - t < 2 * 10
