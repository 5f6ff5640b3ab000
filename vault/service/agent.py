"""Use cases of the unlock agent: unlock (start one), its status, lock (stop it), the access log.

`start_agent` unlocks in the calling process — so any passphrase prompt happens in the
foreground, through the Context's prompter — then starts `python -m vault.agent` in a new
session and hands it the data key through a pipe (never argv or the environment, which
other processes can read). It returns once the agent listens, or raises what stopped it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vault.agent import client, protocol
from vault.errors import FileSystemError, IntegrityError, UsageError
from vault.record import Record
from vault.service import accesslog
from vault.service.context import Context

START_TIMEOUT_S = 15.0
# Secrets the agent must not inherit: it has the key, and its environment is readable in /proc.
_SCRUB_ENV = ("TOKENSAFE_PASSPHRASE", "TOKENSAFE_RECOVERY_KEY", "TOKENSAFE_NEW_PASSPHRASE")


class AgentStatus(Record):
    __slots__ = ("running", "pid", "vault", "started", "expires_at", "idle_s", "locks_at", "socket", "already")

    def __init__(self, running: bool, pid: int = 0, vault: str = "", started: float = 0.0,
                 expires_at: float = 0.0, idle_s: float = 0.0, locks_at: float = 0.0,
                 socket: str = "", already: bool = False) -> None:
        self.running = running
        self.pid = pid
        self.vault = vault
        self.started = started
        self.expires_at = expires_at  # absolute deadline (--for)
        self.idle_s = idle_s
        self.locks_at = locks_at  # the earlier of the deadline and the idle limit
        self.socket = socket
        self.already = already  # unlock found it running and started nothing


def agent_status(ctx: Context, quiet: bool = False) -> AgentStatus:
    """Whether an agent runs for the vault, and when it locks. `quiet`: no note about a stale one."""
    reply = client.ask(ctx.path, {"op": "status"}, None if quiet else ctx.warn)
    sock = str(protocol.socket_path(ctx.path))
    if reply is None:
        return AgentStatus(False, vault=str(ctx.path), socket=sock)
    return AgentStatus(True, int(reply["pid"]), str(reply["vault"]), float(reply["started"]),
                       float(reply["expires_at"]), float(reply["idle_s"]), float(reply["locks_at"]), sock)


def start_agent(ctx: Context, for_s: float, idle_s: float) -> AgentStatus:
    """Unlock the vault and leave an agent holding its key; a running agent is left as it is."""
    if for_s <= 0 or idle_s <= 0:
        raise UsageError("--for and --idle must be longer than zero", "e.g. tokensafe unlock --for 15m --idle 5m")
    current = agent_status(ctx, quiet=True)  # a stale socket is removed silently: we start anew
    if current.running:
        current.already = True
        return current
    protocol.check_private_dir(protocol.runtime_dir(), create=True)
    opened = ctx.store.read()  # prompts here, in the foreground, if a secret is needed
    ctx.log_access(accesslog.mac_key(opened.data_key, opened.data.log_key), "unlock", "", [], "ok")  # who left a key-holding agent behind
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vault.agent", "--vault", str(ctx.path), "--for", repr(for_s), "--idle", repr(idle_s)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        cwd="/", env=env, start_new_session=True, close_fds=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:
            proc.stdin.write(opened.data_key)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        line = _read_line(proc, START_TIMEOUT_S)
    finally:
        proc.stdout.close()
    if proc.wait(timeout=START_TIMEOUT_S) != 0 or not line.startswith("ready "):
        if line.startswith("error BusyError "):  # another `unlock` won the race: use its agent
            raced = agent_status(ctx, quiet=True)
            if raced.running:
                raced.already = True
                return raced
        _raise_start_error(line)
    status = agent_status(ctx)
    if not status.running:
        raise FileSystemError("the unlock agent started but does not answer", "run `tokensafe unlock` again")
    return status


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise FileSystemError("the unlock agent did not start in time", "run `tokensafe unlock` again")
    return proc.stdout.readline(4096).decode("utf-8", "replace").strip()


def _raise_start_error(line: str) -> None:
    from vault import errors

    _, kind, message = (line.split(" ", 2) + ["", ""])[:3] if line.startswith("error ") else ("", "", "")
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.TokensafeError):
        hint = ("`tokensafe unlock --status` shows it; `tokensafe lock` stops it"
                if cls is errors.BusyError else None)
        raise cls(message or "the unlock agent could not start", hint)
    raise FileSystemError("the unlock agent could not start", "run `tokensafe unlock` again")


def stop_agent(ctx: Context) -> bool:
    """Lock: the agent wipes its key and exits. False if none was running."""
    reply = client.ask(ctx.path, {"op": "stop"}, None)  # a stale socket is just removed
    if reply is None:
        return False
    path = protocol.socket_path(ctx.path)
    deadline = time.monotonic() + 5
    while os.path.lexists(path) and time.monotonic() < deadline:  # gone once it has wiped the key
        time.sleep(0.02)
    return True


# the access log -------------------------------------------------------------------------

def log_records(ctx: Context, env: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
    """The access log's records, oldest first (unverified: `verify_log` checks them)."""
    start = accesslog.parse_time(since) if since else None
    out = []
    for r in accesslog.read_records(accesslog.log_path(ctx.path)):
        if env is not None and env not in str(r.get("env", "")).split(","):
            continue
        if start is not None and accesslog.parse_time(str(r.get("time", "1970-01-01"))) < start:
            continue
        out.append(r)
    return out


def verify_log(ctx: Context) -> accesslog.Verdict:
    """Check the log's chain and its head: through the agent if it runs, else by unlocking."""
    reply = client.ask(ctx.path, {"op": "verify"}, ctx.warn)
    if reply is not None:
        return accesslog.Verdict(**reply["verdict"])
    opened = ctx.store.read()
    return accesslog.verify(accesslog.log_path(ctx.path),
                            accesslog.mac_key(opened.data_key, opened.data.log_key), opened.data.log_head)


def require_intact(verdict: accesslog.Verdict) -> None:
    if not verdict.ok:
        raise IntegrityError(f"the access log is broken at {verdict.where}: {verdict.reason}",
                             "records from there on cannot be trusted; keep the file for inspection")


def log_path(ctx: Context) -> Path:
    return accesslog.log_path(ctx.path)
