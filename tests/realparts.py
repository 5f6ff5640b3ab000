"""Real parts for tests and benchmarks: a private D-Bus session with gnome-keyring on it.

The daemons get their own HOME, XDG dirs and runtime folder, so the user's real keyring is
never touched. Missing daemons skip a test locally and fail it under CI (CI runs every test).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

KEYRING_PASSWORD = b"test keyring password"


def need(*exes: str) -> None:
    missing = [e for e in exes if shutil.which(e) is None]
    if missing:
        msg = f"not installed: {', '.join(missing)} (Debian: apt-get install dbus gnome-keyring)"
        if "pytest" not in sys.modules:  # a bench: let it fall back
            raise RuntimeError(msg)
        import pytest

        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                      interface="org.freedesktop.DBus")
    with open_dbus_connection(bus=address) as conn:
        reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (name,)), timeout=5)
    return bool(reply.body[0])


@dataclass
class Daemons:
    address: str  # DBUS_SESSION_BUS_ADDRESS
    run_dir: Path  # XDG_RUNTIME_DIR


@contextlib.contextmanager
def secret_service_daemons(home: Path, unlock: bool = True) -> Iterator[Daemons]:
    """A private session bus with gnome-keyring's Secret Service on it (unlocked, or not)."""
    need("dbus-daemon", "gnome-keyring-daemon")
    run_dir = Path(tempfile.mkdtemp(prefix="ts-kr-"))  # short: unix socket paths are limited
    os.chmod(run_dir, 0o700)
    daemon_env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "GNOME_KEYRING"))}
    daemon_env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
                      XDG_CONFIG_HOME=str(home / ".config"), XDG_RUNTIME_DIR=str(run_dir))
    daemon_env.pop("DISPLAY", None)
    daemon_env.pop("WAYLAND_DISPLAY", None)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                            f"--address=unix:path={run_dir}/bus"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                           env=daemon_env)
    procs = [bus]
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        assert address.startswith("unix:"), "dbus-daemon did not start"
        daemon_env["DBUS_SESSION_BUS_ADDRESS"] = address
        gk = subprocess.Popen(["gnome-keyring-daemon", "--foreground",
                               "--unlock" if unlock else "--start", "--components=secrets"],
                              stdin=subprocess.PIPE if unlock else subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=daemon_env)
        procs.append(gk)
        if unlock:
            assert gk.stdin is not None
            gk.stdin.write(KEYRING_PASSWORD)
            gk.stdin.close()
        deadline = time.monotonic() + 10
        while not _name_has_owner(address, "org.freedesktop.secrets"):
            assert gk.poll() is None, "gnome-keyring-daemon exited"
            assert time.monotonic() < deadline, "gnome-keyring did not register on the bus"
            time.sleep(0.05)
        yield Daemons(address, run_dir)
    finally:
        for p in reversed(procs):
            _stop(p)
        shutil.rmtree(run_dir, ignore_errors=True)


@contextlib.contextmanager
def secret_service_env(home: Path) -> Iterator[dict[str, str]]:
    """The environment for a `tokensafe` that uses the private Secret Service (for benches)."""
    with secret_service_daemons(home) as d:
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
        env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
                   XDG_CONFIG_HOME=str(home / ".config"), XDG_RUNTIME_DIR=str(d.run_dir),
                   DBUS_SESSION_BUS_ADDRESS=d.address)
        yield env


def drain_pty(master: int, proc: subprocess.Popen, timeout: float = 20.0) -> bytes:
    """Everything `proc` writes to the terminal whose master side is `master`, until it exits
    (or `timeout`); then waits for it and closes `master`."""
    import select

    buf = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave side closed
                break
            if not chunk:
                break
            buf += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(master)
    return buf
