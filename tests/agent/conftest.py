"""A vault with a planted token, the installed command, and agents that never outlive a test.

Agent sockets live in a short folder made for the test under /tmp (a Unix socket path must
fit in 108 bytes; pytest's tmp_path can be longer). Every agent a test starts is recorded
and killed (SIGKILL) at teardown, whatever the test did.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PLANTED, Session, create_passphrase_vault


class Agents:
    """Starts agents through `tokensafe unlock` and remembers their pids for teardown."""

    def __init__(self, session: Session, nopass: Session, vault: Path, runtime: Path) -> None:
        self.session = session  # has TOKENSAFE_PASSPHRASE
        self.nopass = nopass  # the same, without any way to unlock but the agent
        self.vault = vault
        self.runtime = runtime
        self.pids: list[int] = []

    def unlock(self, *args: str):
        r = self.session("unlock", *args)
        pid = self.status().get("pid")
        if pid:
            self.pids.append(int(pid))
        return r

    def status(self) -> dict:
        r = self.session("unlock", "--status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def folder(self) -> Path:
        return self.runtime / "tokensafe"

    def socket(self) -> Path:
        return Path(self.status()["socket"])

    def wait_locked(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.status()["running"]:
                return
            time.sleep(0.1)
        raise AssertionError("the agent did not lock in time")

    def kill_all(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def agents(session: Session, home: Path) -> Iterator[Agents]:
    vault = home / "vaultdir" / "vault.tokensafe"
    create_passphrase_vault(vault, entries={"auth0_token": PLANTED, "auth0_domain": "example.eu.auth0.com"})
    runtime = Path(tempfile.mkdtemp(prefix="tsa-", dir="/tmp"))
    session.env["XDG_RUNTIME_DIR"] = str(runtime)
    env = {k: v for k, v in session.env.items() if k != "TOKENSAFE_PASSPHRASE"}
    nopass = Session(env, session.cwd, session.transcript)
    a = Agents(session, nopass, vault, runtime)
    try:
        yield a
    finally:
        a.kill_all()
        shutil.rmtree(runtime, ignore_errors=True)
