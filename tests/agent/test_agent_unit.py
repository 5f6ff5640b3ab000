"""Pieces of the agent in-process: where sockets live, errors across the wire, the wall clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import PLANTED, create_passphrase_vault
from vault import errors
from vault.agent import client, protocol, server
from vault.service import accesslog


def test_runtime_dir_from_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert protocol.runtime_dir() == tmp_path / "tokensafe"


def test_runtime_dir_fallback_is_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert protocol.runtime_dir() == Path(f"/tmp/tokensafe-{os.getuid()}")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/dir")  # not absolute: ignored
    assert protocol.runtime_dir() == Path(f"/tmp/tokensafe-{os.getuid()}")


def test_one_socket_per_vault(tmp_path: Path) -> None:
    a = protocol.socket_path(tmp_path / "a.vault")
    b = protocol.socket_path(tmp_path / "b.vault")
    assert a != b and a == protocol.socket_path(tmp_path / "a.vault")
    assert a.name.startswith("agent-") and a.suffix == ".sock"


def test_private_dir_checks(tmp_path: Path) -> None:
    d = protocol.check_private_dir(tmp_path / "new", create=True)
    assert d.stat().st_mode & 0o777 == 0o700
    (tmp_path / "open").mkdir(mode=0o755)
    (tmp_path / "open").chmod(0o755)
    with pytest.raises(errors.PolicyError, match="not private"):
        protocol.check_private_dir(tmp_path / "open")
    (tmp_path / "link").symlink_to(tmp_path / "new")
    with pytest.raises(errors.PolicyError, match="not a folder"):
        protocol.check_private_dir(tmp_path / "link")


def test_errors_cross_the_wire_with_their_status() -> None:
    for cls in (errors.NotFoundError, errors.UsageError, errors.BusyError, errors.PolicyError):
        reply = protocol.error_reply(cls("msg", "hint"))
        with pytest.raises(cls) as info:
            protocol.raise_error(reply)
        assert info.value.message == "msg" and info.value.hint == "hint"
    protocol.raise_error({"ok": True})  # a success raises nothing


def test_invoking_command() -> None:
    assert client.invoking_command(["tokensafe", "get", "x"]) == "tokensafe get"
    assert client.invoking_command(["tokensafe", "run", "-e", "dev", "--", "/usr/bin/curl", "-s"]) == "curl"
    assert client.invoking_command(["tokensafe", "--debug", "set", "y"]) == "tokensafe set"


def test_no_agent_costs_one_lstat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert client.connect(tmp_path / "v") is None
    assert not (tmp_path / "tokensafe").exists()  # looking creates nothing


def test_client_imports_nothing_heavy() -> None:
    # socket and json are imported only once a socket is there to talk to
    code = ("import sys, vault.agent.client, pathlib; vault.agent.client.connect(pathlib.Path('/nonexistent/v')); "
            "print(','.join(m for m in ('hashlib', 'cryptography', 'vault.store', 'vault.crypto', 'click', "
            "'socket', 'json') "
            "if m in sys.modules) or 'none')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "none"


def _agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, for_s: float, idle_s: float) -> server.Agent:
    run = Path(tempfile.mkdtemp(prefix="tsu-", dir="/tmp"))  # short: a socket path has 108 bytes
    request.addfinalizer(lambda: shutil.rmtree(run, ignore_errors=True))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    opened = create_passphrase_vault(tmp_path / "v.vault", entries={"auth0_token": PLANTED})
    return server.Agent(tmp_path / "v.vault", bytearray(opened.data_key), for_s, idle_s)


def test_deadlines_are_on_the_wall_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         request: pytest.FixtureRequest) -> None:
    """A laptop asleep past the deadline: the monotonic clock may not move, the wall clock does."""
    agent = _agent(tmp_path, monkeypatch, request, for_s=3600, idle_s=600)
    assert not agent.expired()
    now = server.time.time()
    monkeypatch.setattr(server.time, "time", lambda: now + 601)  # woke up 10 minutes later
    assert agent.expired()
    agent.last_use = now + 601
    assert not agent.expired()  # used since: only the idle limit moved
    monkeypatch.setattr(server.time, "time", lambda: now + 3601)
    agent.last_use = now + 3601
    assert agent.expired()  # the absolute limit holds however busy it is


def test_held_key_refuses_once_wiped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     request: pytest.FixtureRequest) -> None:
    agent = _agent(tmp_path, monkeypatch, request, 60, 60)
    assert agent.store.read().data.env("dev").get("auth0_token").value.reveal() == PLANTED
    agent.bind()
    agent.shutdown()
    assert not any(agent.key)
    assert not agent.sock_path.exists()
    with pytest.raises(errors.LockedError):
        agent.store.read()


def test_changed_names() -> None:
    from vault.store.model import Entry, VaultData

    a = VaultData(current="dev")
    a.ensure_env("dev").entries["x"] = Entry.new("x", "1", now=1)
    b = VaultData.from_bytes(a.to_bytes())
    b.env("dev").entries["y"] = Entry.new("y", "2", now=1)
    b.ensure_env("prod")
    assert accesslog.changed(accesslog.snapshot(a), accesslog.snapshot(b)) == (["dev", "prod"], ["y"])
    assert accesslog.changed(accesslog.snapshot(a), accesslog.snapshot(a)) == ([], [])


# the wire format without `json`: the same bytes and values as json's own codec -----------

MESSAGES = [
    {"op": "get", "name": "auth0_token", "env": None, "command": "tokensafe get"},
    {"ok": True, "value": "é ☃ \U0001f511 \"quoted\" \\ \n\t\x00\x7f"},
    {"ok": False, "error": "NotFoundError", "message": "no tok", "hint": None},
    {"pid": 12, "started": 1.5, "n": -3, "big": 10**30, "t": True, "f": False},
    {"nested": {"a": [1, 2.5, None, "x"]}, "op": "status"},
    {},
]


@pytest.mark.parametrize("message", MESSAGES)
def test_encode_writes_what_json_writes(message: dict) -> None:
    import json

    assert protocol.encode(message) == json.dumps(message, separators=(",", ":")).encode() + b"\n"
    assert protocol.decode(protocol.encode(message)) == message


@pytest.mark.parametrize("line", [b'{"a":1} \r\n', b' [1,"x",{"b":null}]\n', b'"\\ud83d\\udd11"\n',
                                  b'{"a":1e400,"b":-0.0,"c":12345678901234567890}\n'])
def test_decode_reads_what_json_reads(line: bytes) -> None:
    import json

    assert protocol.decode(line) == json.loads(line)


@pytest.mark.parametrize("line", [b"", b"\n", b"{", b'{"a":1}{"b":2}\n', b'{"a":NaN}\n', b'{"a":Infinity}\n',
                                  b"{'a':1}\n", b'{"a":"\xff"}\n', b'{"a":"\x01"}\n', b"nul\n", b"[1,]\n"])
def test_decode_refuses_what_is_not_one_json_value(line: bytes) -> None:
    with pytest.raises(ValueError):
        protocol.decode(line)


def test_receive_turns_garbage_and_deep_nesting_into_peer_gone() -> None:
    class Lines:
        def __init__(self, line: bytes) -> None:
            self.line = line

        def readline(self, limit: int) -> bytes:
            return self.line

    for line in (b"[" * 100_000 + b"\n", b"\xff\xfe\n", b"[1]\n", b'{"a":NaN}\n'):
        with pytest.raises(protocol.PeerGone):
            protocol.receive(Lines(line))


# tokensafe's data folder without platformdirs (vault/dirs.py) ------------------------------

@pytest.mark.skipif(sys.platform != "linux", reason="the worked-out case is Linux's XDG rule")
@pytest.mark.parametrize("xdg", [None, "/srv/data", "/srv/data/", "", "   ", "relative/share"])
def test_data_folder_is_platformdirs_answer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            xdg: str | None) -> None:
    """The vault file, the guard key and the quarantine all sit where platformdirs says."""
    from platformdirs import user_data_dir

    from vault.guard.keys import guard_key_path
    from vault.guard.watcher import quarantine_dir
    from vault.store.paths import default_vault_file

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ANDROID_DATA", raising=False)
    monkeypatch.delenv("TOKENSAFE_GUARD_KEY", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
    data = user_data_dir("tokensafe", appauthor=False)
    for got, expected in ((default_vault_file(), os.path.join(data, "vault.tokensafe")),
                          (guard_key_path(), os.path.join(data, "guard.key")),
                          (quarantine_dir(), os.path.join(data, "quarantine"))):
        assert os.path.normpath(got) == os.path.normpath(expected)


def test_resolve_vault_file_expands_home_and_links(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from vault.service.context import Context
    from vault.store.paths import resolve_vault_file

    monkeypatch.setenv("HOME", str(tmp_path))
    real = tmp_path / "real" / "v.tokensafe"
    real.parent.mkdir()
    (tmp_path / "link").symlink_to(real.parent)
    for given in ("~/link/v.tokensafe", str(tmp_path / "link" / "v.tokensafe"), None):
        assert resolve_vault_file(given) == str(Context(given).path)
    assert resolve_vault_file("~/link/v.tokensafe") == str(real)
