"""Start the real parts benchmarks need: a private D-Bus session with gnome-keyring."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def secret_service(home: Path, password: str = "bench") -> Iterator[dict[str, str]]:
    """Yield environment variables that point `keyring` at a fresh, unlocked Secret Service."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        raise RuntimeError("needs Debian's dbus and gnome-keyring (apt-get install dbus gnome-keyring)")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_RUNTIME_DIR": str(home / "run")}
    for sub in (".local/share", ".config", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                         env=env, capture_output=True, text=True, check=True, timeout=10).stdout.split()
    address, dbus_pid = out[0], int(out[1])
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    kr = subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"],
                        input=password, env=env, capture_output=True, text=True, timeout=10)
    pids = [dbus_pid]
    for line in kr.stdout.splitlines():
        k, _, v = line.partition("=")
        if k == "GNOME_KEYRING_CONTROL":
            env[k] = v
        if k == "GNOME_KEYRING_PID" and v.isdigit():
            pids.append(int(v))
    time.sleep(0.2)
    try:
        yield env
    finally:
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
