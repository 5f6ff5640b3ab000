"""Run `tokensafe watch` as a real process and read its lines as they come."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path


class WatchProc:
    def __init__(self, env: dict[str, str], cwd: Path, *args: str, notify: bool = False) -> None:
        exe = shutil.which("tokensafe")
        assert exe
        self.argv = [exe, "watch", "--json", *([] if notify else ["--no-notify"]), *args]
        self.p = subprocess.Popen(self.argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.lines: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.out = bytearray()
        self.err = bytearray()
        self.ready = threading.Event()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        assert self.ready.wait(20), bytes(self.err)

    def _read_out(self) -> None:
        assert self.p.stdout
        for line in self.p.stdout:
            t = time.monotonic()
            self.out += line
            self.lines.put((t, json.loads(line)))

    def _read_err(self) -> None:
        assert self.p.stderr
        for line in self.p.stderr:
            self.err += line
            if b"watching" in line:
                self.ready.set()

    def take(self, n: int, timeout: float = 20) -> list[tuple[float, dict]]:
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            try:
                got.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return got

    def quiet(self, seconds: float) -> list[dict]:
        time.sleep(seconds)
        out = []
        while not self.lines.empty():
            out.append(self.lines.get()[1])
        return out

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.p.send_signal(sig)
        code = self.p.wait(timeout=15)
        time.sleep(0.1)
        return code
