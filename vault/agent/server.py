"""The unlock agent: holds one vault's data key in memory and answers its user on a socket.

Started by `tokensafe unlock` as `python -m vault.agent --vault PATH --for S --idle S`,
with the data key (32 bytes) on stdin — never in argv or the environment, which other
processes can read. It binds its socket, prints `ready PID` and forks away (the starter
waits for that line). It never sends the key: clients ask for a value, the vault's
decrypted data, or an edit, and the agent reads or writes the vault itself — through
`VaultStore`, so writes stay atomic and locked — logging each answer first (no log, no
answer). Only peers of our own uid (SO_PEERCRED) are served.

It locks — wipes the key, removes its socket, exits — at the absolute deadline (`--for`),
after `--idle` seconds without a request, on `tokensafe lock`, on SIGTERM, or when its
socket file disappears. Deadlines are wall-clock times (`time.time()`), checked on every
request and twice a second, so a laptop that slept past them is locked when it wakes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from vault.agent import protocol
from vault.agent.protocol import PeerGone, error_reply, receive, send
from vault.errors import (
    BusyError,
    FileSystemError,
    IntegrityError,
    LockedError,
    TokensafeError,
    UsageError,
)
from vault.service import accesslog
from vault.service.context import Context
from vault.store.model import VaultData

KEY_LEN = 32
TICK_S = 0.5
CONN_TIMEOUT_S = 120.0  # a client that goes quiet mid-request is dropped
SHUTDOWN_WAIT_S = 2.0  # per request still being answered when the agent locks


def harden() -> None:
    """No core dumps, no ptrace or /proc/PID/mem by other processes of the user (best effort)."""
    import resource

    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def lock_in_memory(key: bytearray) -> None:
    """Keep the key's pages out of swap where mlock is allowed (best effort)."""
    try:
        import ctypes

        buf = (ctypes.c_char * len(key)).from_buffer(key)
        ctypes.CDLL(None, use_errno=True).mlock(ctypes.addressof(buf), ctypes.c_size_t(len(key)))
        del buf  # release the view; the pages stay locked
    except (OSError, AttributeError, ValueError, BufferError):
        pass


class HeldKey:
    """Stands in for a store Unlocker: the key we were given, while we hold it."""

    def __init__(self, key: bytearray) -> None:
        self.key = key

    def unlock(self, header: Any) -> tuple[bytes, str]:
        if not any(self.key):
            raise LockedError("the unlock agent has locked")
        return bytes(self.key), "agent"


class _Aborted(Exception):
    """The client of an edit did not commit: nothing is written."""


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


class Agent:
    def __init__(self, vault: Path, key: bytearray, for_s: float, idle_s: float) -> None:
        self.vault = vault
        self.key = key
        self.started = time.time()
        self.expires_at = self.started + for_s
        self.idle_s = idle_s
        self.last_use = self.started
        # The store a command's Context would use (whatever backend it picks), opened with our key.
        self.store = Context(vault).store
        self.store.unlocker = HeldKey(key)  # type: ignore[assignment]
        data = self.store.read().data  # proves the key opens this vault
        self.log = accesslog.AccessLog(accesslog.log_path(vault), accesslog.mac_key(bytes(key), data.log_key))
        self.saved_head = data.log_head
        self._log_lock = threading.Lock()
        self.stopping = threading.Event()
        self.sock: socket.socket | None = None
        self.sock_path = protocol.socket_path(vault)
        self._sock_ino = 0
        self._pid_fd = -1
        self._workers: list[threading.Thread] = []

    # deadlines ------------------------------------------------------------------------

    def locks_at(self) -> float:
        return min(self.expires_at, self.last_use + self.idle_s)

    def expired(self) -> bool:
        return time.time() >= self.locks_at()

    # setting up -----------------------------------------------------------------------

    def bind(self) -> None:
        """Take the vault's agent lock (one agent per vault), then listen on a fresh socket."""
        import fcntl

        folder = protocol.check_private_dir(protocol.runtime_dir(), create=True)
        lock = protocol.pid_lock_path(self.vault)
        self._pid_fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._pid_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError("an unlock agent already runs for this vault",
                            "`tokensafe unlock --status` shows it; `tokensafe lock` stops it") from None
        if len(os.fsencode(str(self.sock_path))) > 107:  # sun_path holds 108 bytes with its NUL
            raise FileSystemError(f"the agent socket path {self.sock_path} is too long for a Unix socket",
                                  "point XDG_RUNTIME_DIR at a shorter folder, e.g. /run/user/$UID")
        if os.path.lexists(self.sock_path):  # stale: its agent is gone, since we hold the lock
            os.unlink(self.sock_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # born 0600: no window in which others could connect
        try:
            sock.bind(str(self.sock_path))
        finally:
            os.umask(old)
        os.chmod(self.sock_path, 0o600)
        sock.listen(32)
        sock.settimeout(TICK_S)
        self.sock = sock
        self._sock_ino = os.lstat(self.sock_path).st_ino
        assert folder == self.sock_path.parent

    # serving --------------------------------------------------------------------------

    def serve(self) -> None:
        assert self.sock is not None
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = self.sock.accept()
                except TimeoutError:
                    pass
                else:
                    worker = threading.Thread(target=self._handle, args=(conn,), daemon=True)
                    worker.start()
                    self._workers = [w for w in self._workers if w.is_alive()] + [worker]
                self._tick()
        finally:
            self.shutdown()

    def _tick(self) -> None:
        if self.expired() or not self._socket_is_ours():
            self.stopping.set()

    def _socket_is_ours(self) -> bool:
        try:
            return os.lstat(self.sock_path).st_ino == self._sock_ino
        except OSError:
            return False

    def checkpoint(self) -> None:
        """Remember the log's head in the vault (so that cutting the log's tail shows).

        Done when the agent stops; every write through the agent carries the head as well.
        Not on a timer: each vault write moves `VAULT.bak` along, and `backup restore`
        should keep undoing the user's last change, not an agent's bookkeeping.
        """
        if self.log.head() in ({}, self.saved_head):
            return  # nothing of ours since the vault last remembered a head
        try:
            head = accesslog.sync_head(self.log.path)  # the file's tail: direct writers append too
        except (TokensafeError, OSError):
            return
        try:
            with self.store.edit() as opened:
                opened.data.log_head = head
            self.saved_head = head
        except (TokensafeError, OSError):
            pass  # retried at the next tick; the log itself is intact

    def shutdown(self) -> None:
        for worker in self._workers:  # let answers and writes in flight finish (briefly)
            worker.join(timeout=SHUTDOWN_WAIT_S)
        try:
            self.checkpoint()
        finally:
            for i in range(len(self.key)):  # wipe: our copy at least
                self.key[i] = 0
            if self._socket_is_ours():
                with contextlib.suppress(OSError):
                    os.unlink(self.sock_path)
            if self.sock is not None:
                self.sock.close()
            if self._pid_fd >= 0:
                os.close(self._pid_fd)

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(CONN_TIMEOUT_S)
            pid, uid, _ = protocol.peer_credentials(conn)
            peer = {"pid": pid, "uid": uid, "exe": _exe(pid)}
            if uid != os.getuid():
                self._record(peer, {}, "connect", "", [], f"refused: uid {uid} is not the agent's user")
                send(conn, {"ok": False, "error": "PolicyError",
                            "message": "the unlock agent answers its own user only", "hint": None})
                return
            reader = conn.makefile("rb")
            request = receive(reader)
            self._dispatch(conn, reader, peer, request)
        except (PeerGone, OSError):
            pass
        finally:
            conn.close()

    def _dispatch(self, conn: socket.socket, reader: Any, peer: dict[str, Any], req: dict[str, Any]) -> None:
        op = req.get("op")
        if op == "status":
            send(conn, {"ok": True, "pid": os.getpid(), "vault": str(self.vault), "started": self.started,
                        "expires_at": self.expires_at, "idle_s": self.idle_s, "locks_at": self.locks_at()})
            return
        if op == "stop":
            send(conn, {"ok": True})
            self.stopping.set()
            return
        if op not in ("get", "read", "edit", "verify"):
            send(conn, error_reply(UsageError(f"the unlock agent does not know {op!r}")))
            return
        if self.expired():
            self.stopping.set()
            send(conn, error_reply(LockedError("the unlock agent's time is up; it has locked")))
            return
        self.last_use = time.time()
        try:
            getattr(self, f"_op_{op}")(conn, reader, peer, req)
        except IntegrityError:
            # Our key no longer opens the vault (rotated, or the file was changed): step
            # aside; the client unlocks the usual way and reports whatever is wrong.
            self.stopping.set()
            send(conn, error_reply(LockedError("the vault no longer opens with the agent's key; it has locked")))
        except TokensafeError as e:
            send(conn, error_reply(e))

    def _record(self, peer: dict[str, Any], req: dict[str, Any], verb: str, env: str,
                names: list[str], outcome: str) -> None:
        """Append one record; an answer is sent only after its record is written."""
        command = req.get("command")
        fields = {"verb": verb, "env": env, "names": names,
                  "command": command[:200] if isinstance(command, str) else "",
                  "pid": peer["pid"], "uid": peer["uid"], "exe": peer["exe"], "outcome": outcome}
        try:
            with self._log_lock:
                self.log.append(fields)
        except OSError as e:
            raise FileSystemError(f"cannot write the access log ({e.strerror or type(e).__name__})",
                                  "nothing is handed out unlogged; free space or fix the log's permissions") from None

    def _failed(self, peer: dict[str, Any], req: dict[str, Any], verb: str, env: str,
                names: list[str], e: TokensafeError) -> None:
        self._record(peer, req, verb, env, names, f"error: {type(e).__name__}")

    def _op_get(self, conn: socket.socket, reader: Any, peer: dict[str, Any], req: dict[str, Any]) -> None:
        name = str(req.get("name") or "")
        env_name = req.get("env") if isinstance(req.get("env"), str) else None
        try:
            data = self.store.read().data
            env = data.env(env_name)
            value = env.get(name).value.reveal()
        except TokensafeError as e:
            self._failed(peer, req, "get", env_name or "", [name], e)
            raise
        self._record(peer, req, "get", env.name, [name], "ok")
        send(conn, {"ok": True, "value": value})

    def _op_read(self, conn: socket.socket, reader: Any, peer: dict[str, Any], req: dict[str, Any]) -> None:
        try:
            data = self.store.read().data
        except TokensafeError as e:
            self._failed(peer, req, "read", "*", ["*"], e)
            raise
        self._record(peer, req, "read", "*", ["*"], "ok")
        send(conn, {"ok": True, "vault": data.to_bytes(with_log_key=False).decode()})

    def _op_edit(self, conn: socket.socket, reader: Any, peer: dict[str, Any], req: dict[str, Any]) -> None:
        try:
            with self.store.edit() as opened:
                before = VaultData.from_bytes(opened.data.to_bytes())
                # Whoever edits sees every value: that is a read, logged before the answer.
                self._record(peer, req, "read", "*", ["*"], "ok (to edit)")
                send(conn, {"ok": True, "vault": opened.data.to_bytes(with_log_key=False).decode()})
                answer = receive(reader)
                if answer.get("op") != "commit" or not isinstance(answer.get("vault"), str):
                    raise _Aborted
                after = VaultData.from_bytes(answer["vault"].encode())
                after.log_head = accesslog.sync_head(self.log.path) or before.log_head
                after.log_key = before.log_key  # the client never saw it
                opened.data = after
        except _Aborted:
            return
        except PeerGone:
            return  # nothing written: the client went away before committing
        except TokensafeError as e:
            self._failed(peer, req, "write", "*", ["*"], e)
            raise
        self.saved_head = after.log_head
        envs, names = accesslog.changed(accesslog.snapshot(before), accesslog.snapshot(after))
        self._record(peer, req, "write", ",".join(envs), names, "ok")
        send(conn, {"ok": True})

    def _op_verify(self, conn: socket.socket, reader: Any, peer: dict[str, Any], req: dict[str, Any]) -> None:
        remembered = self.store.read().data.log_head  # direct writers move it too
        with self._log_lock:
            verdict = self.log.verify(remembered)
        send(conn, {"ok": True, "verdict": verdict.as_dict()})


def _read_key() -> bytearray:
    key = bytearray(KEY_LEN)
    view = memoryview(key)
    got = 0
    while got < KEY_LEN:
        n = sys.stdin.buffer.readinto(view[got:])
        if not n:
            break
        got += n
    view.release()
    if got != KEY_LEN:
        raise UsageError("the unlock agent expects the data key on its standard input")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vault.agent")
    parser.add_argument("--vault", required=True)
    parser.add_argument("--for", dest="for_s", type=float, required=True)
    parser.add_argument("--idle", dest="idle_s", type=float, required=True)
    args = parser.parse_args(argv)
    harden()
    out = sys.stdout
    try:
        key = _read_key()
        lock_in_memory(key)
        agent = Agent(Path(args.vault), key, args.for_s, args.idle_s)
        agent.bind()
    except TokensafeError as e:
        out.write(f"error {type(e).__name__} {e.message}\n")
        out.flush()
        return 1
    except OSError as e:
        out.write(f"error FileSystemError cannot start the unlock agent: {e.strerror or e}\n")
        out.flush()
        return 1
    pid = os.fork()  # the starter waits for our first process; the second one serves
    if pid:
        out.write(f"ready {pid}\n")
        out.flush()
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    agent.serve()
    return 0
