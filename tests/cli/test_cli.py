"""The vault commands in-process: exit codes (DESIGN.md), refusals, output, permissions."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PASSPHRASE, PLANTED, create_passphrase_vault

from vault import prompting
from vault.demo_tokens import fake_jwt

DOMAIN = "example.eu.auth0.com"


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No controlling terminal: nothing may wait for a prompt."""
    monkeypatch.setattr(prompting, "has_terminal", lambda: False)


@pytest.fixture
def ts(home: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """ts(*args, input=None, tty=False, env={...}) runs `tokensafe ARGS` in-process."""
    from vault.cli import run

    def invoke(*args: str, input: str | bytes | None = None, tty: bool = False,
               env: dict[str, str | None] | None = None) -> Result:
        with monkeypatch.context() as mp:
            for k, v in (env or {}).items():
                if v is None:
                    mp.delenv(k, raising=False)
                else:
                    mp.setenv(k, v)
            with CliRunner().isolation(input=input) as (out, err, _):
                if tty:
                    mp.setattr(sys.stdout, "isatty", lambda: True)
                code = run(list(args))
                return Result(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


@pytest.fixture
def filled(vault_path: Path) -> Path:
    create_passphrase_vault(vault_path, entries={"auth0_token": PLANTED, "auth0_domain": DOMAIN})
    return vault_path


def tamper(path: Path, at: int = 40) -> bytes:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    return bytes(raw)


# exit codes ---------------------------------------------------------------------------

CODES = [
    # (args, stdin, extra env, expected code, stderr fragment)
    (["frobnicate"], None, {}, 2, "no such command"),
    (["get"], None, {}, 2, "missing argument"),
    (["get", "auth0_token", "--bogus"], None, {}, 2, "--bogus"),
    (["set", "x", "a-value-on-argv"], None, {}, 9, "refusing a value on the command line"),
    (["set", "1bad"], "v", {}, 2, "invalid entry name"),
    (["set", "x", "--allow-host", "not a host"], "v", {}, 2, "invalid host pattern"),
    (["set", "x"], "", {}, 2, "empty value"),
    (["init"], None, {}, 2, "already exists"),
    (["env", "create", "dev"], None, {}, 2, "already exists"),
    (["env", "rm", "dev"], None, {}, 2, "holds 2 entries"),
    (["keys", "rm", "k1"], None, {}, 2, "last keyslot"),
    (["get", "nope"], None, {}, 4, "no entry 'nope'"),
    (["get", "auth0_token", "--env", "prod"], None, {}, 4, "no environment 'prod'"),
    (["rm", "nope"], None, {}, 4, "no entry"),
    (["env", "use", "prod"], None, {}, 4, "no environment"),
    (["keys", "rm", "k9"], None, {}, 4, "no keyslot"),
    (["backup", "restore"], None, {}, 4, "no backup"),
    (["get", "auth0_token"], None, {"TOKENSAFE_PASSPHRASE": "wrong"}, 3, "wrong passphrase or key"),
    (["set", "x"], "v", {"TOKENSAFE_PASSPHRASE": "wrong"}, 3, "wrong passphrase or key"),
    (["list"], None, {"TOKENSAFE_PASSPHRASE": None}, 3, "cannot unlock"),
    (["get", "auth0_token"], None, {"TOKENSAFE_PASSPHRASE": None}, 3, "cannot unlock"),
    (["get", "auth0_token"], None, {"TOKENSAFE_VAULT": "/nonexistent/dir/v.tokensafe"}, 4, "no vault"),
    (["list"], None, {"TOKENSAFE_VAULT": "/nonexistent/dir/v.tokensafe"}, 4, "no vault"),
    (["set", "x"], "v", {"TOKENSAFE_VAULT": "/nonexistent/dir/v.tokensafe"}, 4, "no vault"),
    *[(args, None, {"TOKENSAFE_VAULT": "/nonexistent/dir/v.tokensafe"}, 4, "no vault")
      for args in (["backup", "restore"], ["keys", "list"], ["keys", "add", "recovery"], ["passwd"],
                   ["env", "list"], ["env", "create", "x"], ["rm", "a"])],
]


@pytest.mark.parametrize("args, stdin, env, code, fragment", CODES,
                         ids=[" ".join(c[0]) + f"->{c[3]}" for c in CODES])
def test_exit_codes(ts: Run, filled: Path, args: list[str], stdin: str | None,
                    env: dict, code: int, fragment: str) -> None:
    before = filled.read_bytes()
    r = ts(*args, input=stdin, env=env)
    assert r.code == code, r.err
    assert fragment in r.err
    assert r.err.startswith("tokensafe: error: ") or code == 2 and "Usage" in r.err
    assert PLANTED not in r.out + r.err
    assert "a-value-on-argv" not in r.err  # a refused value is never echoed back
    assert filled.read_bytes() == before  # a failed command writes nothing


def test_errors_carry_a_hint(ts: Run, filled: Path) -> None:
    for args, env in ((["get", "auth0_token"], {"TOKENSAFE_PASSPHRASE": None}),
                      (["get", "nope"], {}), (["set", "x", "v"], {})):
        r = ts(*args, env=env)
        assert "tokensafe: hint: " in r.err, args
    assert "TOKENSAFE_PASSPHRASE" in ts("list", env={"TOKENSAFE_PASSPHRASE": None}).err


@pytest.mark.parametrize("args", [["get", "auth0_token"], ["list"], ["set", "x"], ["rm", "auth0_token"],
                                  ["keys", "list"], ["keys", "add", "recovery"], ["env", "use", "dev"],
                                  ["passwd"]])
def test_tampered_vault_is_exit_5_and_untouched(ts: Run, filled: Path, args: list[str]) -> None:
    bad = tamper(filled)
    r = ts(*args, input="value", env={"TOKENSAFE_NEW_PASSPHRASE": "new pass"})
    assert r.code == 5, r.err
    assert "integrity" in r.err and "backup restore" in r.err
    assert filled.read_bytes() == bad
    assert not filled.with_name(filled.name + ".bak").exists()


def test_truncated_vault_is_exit_5(ts: Run, filled: Path) -> None:
    filled.write_bytes(filled.read_bytes()[:-10])
    assert ts("get", "auth0_token").code == 5
    filled.write_bytes(b"")
    assert ts("get", "auth0_token").code == 5


# set / get / list / rm ------------------------------------------------------------------

def test_set_get_round_trip(ts: Run, vault: Path) -> None:
    assert ts("set", "auth0_token", input=PLANTED + "\n").code == 0
    r = ts("get", "auth0_token")
    assert (r.code, r.out) == (0, PLANTED + "\n")
    assert ts("get", "-n", "auth0_token").out == PLANTED
    assert PLANTED not in r.err
    assert PLANTED.encode() not in vault.read_bytes()


@pytest.mark.parametrize("value", ["ünïcödé ✓ 世界", "with\ttab", "two\nlines", "trailing space ",
                                   "x" * 10000])
def test_values_are_kept_exactly(ts: Run, vault: Path, value: str) -> None:
    assert ts("set", "v", input=value.encode()).code == 0
    assert ts("get", "-n", "v").out == value


def test_set_keeps_created_and_hosts_on_update(ts: Run, vault: Path) -> None:
    ts("set", "t", "--allow-host", "*.auth0.com", input="first-value-1234")
    first = json.loads(ts("list", "--json").out)["environments"][0]["entries"][0]
    assert ts("set", "t", input="second-value-5678").code == 0
    second = json.loads(ts("list", "--json").out)["environments"][0]["entries"][0]
    assert second["allowed_hosts"] == ["*.auth0.com"]
    assert second["created"] == first["created"]
    assert ts("get", "-n", "t").out == "second-value-5678"
    ts("set", "t", "--clear-hosts", input="third")
    assert json.loads(ts("list", "--json").out)["environments"][0]["entries"][0]["allowed_hosts"] == []


GET_FORMS = [
    (["get", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "-n", "auth0_token"], 0, PLANTED),
    (["get", "auth0_token", "-n"], 0, PLANTED),
    (["get", "--env", "dev", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "--env=dev", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "-e", "dev", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "--reveal", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "--", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "--vault", "{vault}", "auth0_token"], 0, PLANTED + "\n"),
    (["get", "--vault={vault}", "-n", "auth0_token"], 0, PLANTED),
    (["get", "--env", "prod", "auth0_token"], 4, ""),
    (["get", "--env"], 2, ""),
    (["get", "auth0_token", "auth0_domain"], 2, ""),
    (["get", "-n=1", "auth0_token"], 2, ""),
    (["get", "--passphrase-fd", "x", "auth0_token"], 2, ""),
    (["get", "--help"], 0, None),
]


@pytest.mark.parametrize("args, code, out", GET_FORMS, ids=[" ".join(a) for a, _, _ in GET_FORMS])
def test_get_command_line_forms(ts: Run, filled: Path, args: list[str], code: int,
                                out: str | None) -> None:
    r = ts(*[a.replace("{vault}", str(filled)) for a in args])
    assert r.code == code, r.err
    if out is not None:
        assert r.out == out
    if code:
        assert PLANTED not in r.out + r.err


def test_set_refuses_value_on_argv_and_stores_nothing(ts: Run, vault: Path) -> None:
    r = ts("set", "x", PLANTED)
    assert r.code == 9
    assert PLANTED not in r.err + r.out
    assert "pipe it in" in r.err
    assert ts("get", "x").code == 4


@pytest.mark.parametrize("args", [["set", f"auth0_token={PLANTED}"], ["set", "auth0_token", PLANTED],
                                  ["set", "--env", "dev", "auth0_token", "--", PLANTED]])
def test_value_typed_on_argv_is_never_echoed(ts: Run, vault: Path, args: list[str]) -> None:
    r = ts(*args, input="from stdin")
    assert r.code == 9
    assert "refusing a value on the command line" in r.err
    assert PLANTED not in r.err + r.out
    assert json.loads(ts("list", "--json").out)["environments"][0]["entries"] == []


def test_get_refuses_a_terminal_without_reveal(ts: Run, filled: Path) -> None:
    r = ts("get", "auth0_token", tty=True)
    assert r.code == 9
    assert PLANTED not in r.out + r.err
    assert "terminal" in r.err and "--reveal" in r.err
    r = ts("get", "--reveal", "auth0_token", tty=True)
    assert (r.code, r.out) == (0, PLANTED + "\n")


def test_get_on_a_real_pty_is_refused(session, filled: Path) -> None:
    """The installed command with its stdout on a pseudo-terminal."""
    import pty
    import shutil
    import subprocess

    leader, follower = pty.openpty()
    try:
        p = subprocess.run([shutil.which("tokensafe"), "get", "auth0_token"], stdout=follower,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=30,
                           env={**session.env, "TOKENSAFE_VAULT": str(filled)})
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 65536)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(follower)
        os.close(leader)
    assert p.returncode == 9, p.stderr
    assert PLANTED.encode() not in shown + p.stderr
    assert b"--reveal" in p.stderr


def test_list_never_shows_values(ts: Run, filled: Path) -> None:
    r = ts("list")
    assert r.code == 0
    assert "auth0_token" in r.out and "auth0_domain" in r.out
    assert PLANTED not in r.out and DOMAIN not in r.out
    doc = json.loads(ts("list", "--json").out)
    entries = {e["name"]: e for e in doc["environments"][0]["entries"]}
    assert set(entries) == {"auth0_token", "auth0_domain"}
    assert entries["auth0_token"]["kind"] == "token" and entries["auth0_domain"]["kind"] == "domain"
    text = json.dumps(doc)
    assert PLANTED not in text and DOMAIN not in text
    assert all("value" not in e for e in entries.values())


def test_rm(ts: Run, filled: Path) -> None:
    assert ts("rm", "auth0_token", "auth0_domain").code == 0
    assert ts("get", "auth0_token").code == 4
    assert "no entries" in ts("list").out


def test_rm_the_same_name_twice(ts: Run, filled: Path) -> None:
    r = ts("rm", "auth0_token", "auth0_token")
    assert r.code == 0, r.err
    assert ts("get", "auth0_token").code == 4
    assert ts("get", "-n", "auth0_domain").out == DOMAIN


def test_rm_is_all_or_nothing(ts: Run, filled: Path) -> None:
    assert ts("rm", "auth0_token", "nope").code == 4
    assert ts("get", "-n", "auth0_token").out == PLANTED


# environments ---------------------------------------------------------------------------

def test_environments(ts: Run, filled: Path) -> None:
    assert ts("env", "create", "prod").code == 0
    assert ts("set", "auth0_token", "--env", "prod", input="prod-token-value-1234").code == 0
    assert ts("get", "-n", "auth0_token").out == PLANTED  # current is still dev
    assert ts("env", "use", "prod").code == 0
    assert ts("get", "-n", "auth0_token").out == "prod-token-value-1234"
    assert ts("get", "-n", "auth0_token", "--env", "dev").out == PLANTED
    envs = json.loads(ts("env", "list", "--json").out)
    assert envs == {"current": "prod", "environments": [{"name": "dev", "entries": 2},
                                                         {"name": "prod", "entries": 1}]}
    assert ts("env", "rm", "prod").code == 2  # holds an entry
    assert ts("env", "rm", "prod", "--force").code == 0
    assert json.loads(ts("env", "list", "--json").out)["current"] == "dev"
    assert ts("env", "create", "bad name").code == 2


# passwd / keys -------------------------------------------------------------------------

def test_passwd(ts: Run, filled: Path) -> None:
    r = ts("passwd", env={"TOKENSAFE_NEW_PASSPHRASE": "new passphrase ✓"})
    assert r.code == 0, r.err
    assert ts("get", "auth0_token").code == 3
    r = ts("get", "-n", "auth0_token", env={"TOKENSAFE_PASSPHRASE": "new passphrase ✓"})
    assert (r.code, r.out) == (0, PLANTED)


def test_passwd_without_new_passphrase_fails_fast(ts: Run, filled: Path) -> None:
    before = filled.read_bytes()
    r = ts("passwd", env={"TOKENSAFE_NEW_PASSPHRASE": None})
    assert r.code == 3 and "TOKENSAFE_NEW_PASSPHRASE" in r.err
    assert filled.read_bytes() == before


def test_passphrase_fd(ts: Run, filled: Path) -> None:
    rfd, wfd = os.pipe()
    os.write(wfd, PASSPHRASE.encode() + b"\n")
    os.close(wfd)
    try:
        r = ts("get", "-n", "auth0_token", "--passphrase-fd", str(rfd),
               env={"TOKENSAFE_PASSPHRASE": None})
    finally:
        os.close(rfd)
    assert (r.code, r.out) == (0, PLANTED)


def test_passphrase_fd_that_is_not_utf8(ts: Run, filled: Path) -> None:
    rfd, wfd = os.pipe()
    os.write(wfd, b"\xff\xfe\n")
    os.close(wfd)
    try:
        r = ts("get", "auth0_token", "--passphrase-fd", str(rfd), env={"TOKENSAFE_PASSPHRASE": None})
    finally:
        os.close(rfd)
    assert r.code == 3 and "not UTF-8" in r.err


def test_keys_add_recovery_then_unlock_with_it(ts: Run, filled: Path, tmp_path: Path) -> None:
    r = ts("keys", "add", "recovery")
    assert r.code == 2 and "--recovery-key-file" in r.err  # stderr is no terminal: never printed there
    rk = tmp_path / "rk.txt"
    r = ts("keys", "add", "recovery", "--recovery-key-file", str(rk))
    assert r.code == 0, r.err
    line = rk.read_text().strip()
    assert line.startswith("TSR1-") and (rk.stat().st_mode & 0o777) == 0o600
    assert line not in r.out and line not in r.err
    keys = json.loads(ts("keys", "list", "--json").out)
    assert [(k["id"], k["type"]) for k in keys["keyslots"]] == [("k1", "passphrase"), ("k2", "recovery")]
    r = ts("get", "-n", "auth0_token",
           env={"TOKENSAFE_PASSPHRASE": None, "TOKENSAFE_RECOVERY_KEY": line.lower()})
    assert (r.code, r.out) == (0, PLANTED)
    r = ts("get", "auth0_token", env={"TOKENSAFE_PASSPHRASE": None,
                                      "TOKENSAFE_RECOVERY_KEY": "TSR1-" + "0000-" * 12 + "0000"})
    assert r.code == 3
    # Now k1 can go, and then k2 is the last one.
    assert ts("keys", "rm", "k1").code == 0
    r = ts("keys", "rm", "k2", env={"TOKENSAFE_RECOVERY_KEY": line})
    assert r.code == 2 and "last keyslot" in r.err
    assert ts("get", "-n", "auth0_token", env={"TOKENSAFE_RECOVERY_KEY": line}).out == PLANTED


def test_keys_add_passphrase(ts: Run, filled: Path) -> None:
    assert ts("keys", "add", "passphrase", env={"TOKENSAFE_NEW_PASSPHRASE": "second"}).code == 0
    assert ts("get", "-n", "auth0_token", env={"TOKENSAFE_PASSPHRASE": "second"}).out == PLANTED
    assert ts("get", "-n", "auth0_token").out == PLANTED


def test_keys_list_needs_no_key(ts: Run, filled: Path) -> None:
    r = ts("keys", "list", env={"TOKENSAFE_PASSPHRASE": None})
    assert r.code == 0 and "passphrase" in r.out and "argon2id" in r.out


def test_keyring_slot_with_no_keyring_is_a_clear_error(ts: Run, filled: Path) -> None:
    r = ts("keys", "add", "keyring")
    assert r.code == 3 and "keyring" in r.err


# init ---------------------------------------------------------------------------------

def test_init_with_passphrase(ts: Run, home: Path) -> None:
    path = home / "new" / "v.tokensafe"
    r = ts("init", "--vault", str(path), "--env", "dev", env={"TOKENSAFE_PASSPHRASE": "pw"})
    assert r.code == 0, r.err
    assert "passphrase" in r.err and "TSR1-" not in r.err  # a passphrase vault needs no recovery key
    keys = json.loads(ts("keys", "list", "--json", "--vault", str(path)).out)
    assert [k["type"] for k in keys["keyslots"]] == ["passphrase"]
    r = ts("set", "--vault", str(path), "t", input="v", env={"TOKENSAFE_PASSPHRASE": "pw"})
    assert r.code == 0
    assert ts("get", "--vault", str(path), "t", env={"TOKENSAFE_PASSPHRASE": "pw"}).out == "v\n"


def test_init_without_passphrase_or_terminal_fails_fast(ts: Run, home: Path) -> None:
    path = home / "new" / "v.tokensafe"
    r = ts("init", "--vault", str(path), env={"TOKENSAFE_PASSPHRASE": None})
    assert r.code == 3 and "TOKENSAFE_PASSPHRASE" in r.err
    assert not path.exists()


def test_init_forced_keyring_without_one(ts: Run, home: Path) -> None:
    path = home / "new" / "v.tokensafe"
    r = ts("init", "--keyring", "--vault", str(path))
    assert r.code == 3 and "keyring" in r.err
    assert not path.exists()


# backup -------------------------------------------------------------------------------

def test_backup_restore(ts: Run, filled: Path) -> None:
    ts("set", "a", input="value-a")
    ts("set", "b", input="value-b")
    r = ts("backup", "restore")
    assert r.code == 0, r.err
    assert ts("get", "-n", "a").out == "value-a"
    assert ts("get", "b").code == 4
    kept = list(filled.parent.glob(filled.name + ".replaced-*"))
    assert len(kept) == 1


def test_backup_restore_twice_in_a_second_keeps_both(ts: Run, filled: Path) -> None:
    ts("set", "a", input="value-a")
    assert ts("backup", "restore").code == 0
    r = ts("backup", "restore")
    assert r.code == 0, r.err
    assert len(list(filled.parent.glob(filled.name + ".replaced-*"))) == 2


def test_backup_restore_after_tampering(ts: Run, filled: Path) -> None:
    ts("set", "a", input="value-a")
    bad = tamper(filled)
    assert ts("get", "a").code == 5
    assert ts("backup", "restore").code == 0
    assert ts("get", "-n", "auth0_token").out == PLANTED
    kept = list(filled.parent.glob(filled.name + ".replaced-*"))
    assert [p.read_bytes() for p in kept] == [bad]  # the damaged file is kept, not lost


def test_backup_restore_refuses_a_tampered_backup(ts: Run, filled: Path) -> None:
    ts("set", "a", input="value-a")
    current = filled.read_bytes()
    tamper(filled.with_name(filled.name + ".bak"))
    assert ts("backup", "restore").code == 5
    assert filled.read_bytes() == current


# permissions ---------------------------------------------------------------------------

def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_init_creates_private_files_even_with_a_lax_umask(ts: Run, home: Path) -> None:
    path = home / "a" / "b" / "v.tokensafe"
    old = os.umask(0)
    try:
        assert ts("init", "--vault", str(path), env={"TOKENSAFE_PASSPHRASE": "pw"}).code == 0
        assert ts("set", "--vault", str(path), "x", input="value-x",
                  env={"TOKENSAFE_PASSPHRASE": "pw"}).code == 0
    finally:
        os.umask(old)
    assert mode(path.parent) == 0o700
    for p in path.parent.iterdir():
        assert mode(p) == 0o600, p.name
    assert {p.name for p in path.parent.iterdir()} == {
        "v.tokensafe", "v.tokensafe.bak", "v.tokensafe.fp", "v.tokensafe.lock",
        "v.tokensafe.access.log", "v.tokensafe.access.log.lock"}  # `set` logs its write (SECURITY.md)


@pytest.mark.parametrize("target, bad_mode, fix", [
    ("file", 0o620, "chmod 600"), ("file", 0o602, "chmod 600"), ("file", 0o666, "chmod 600"),
    ("folder", 0o770, "chmod 700"), ("folder", 0o757, "chmod 700"),
])
@pytest.mark.parametrize("args", [["get", "auth0_token"], ["set", "x"], ["list"]])
def test_writable_by_others_is_refused(ts: Run, filled: Path, target: str, bad_mode: int,
                                       fix: str, args: list[str]) -> None:
    p = filled if target == "file" else filled.parent
    os.chmod(p, bad_mode)
    before = filled.read_bytes()
    r = ts(*args, input="v")
    assert r.code == 9, r.err
    assert "writable by group or others" in r.err
    assert f"hint: others could replace your vault; fix it with: {fix}" in r.err
    assert PLANTED not in r.out
    assert filled.read_bytes() == before
    os.chmod(p, 0o600 if target == "file" else 0o700)
    assert ts(*args, input="v").code == 0


def test_a_symlinked_vault_is_written_where_it_lives(ts: Run, filled: Path, home: Path) -> None:
    link = home / "link.tokensafe"
    link.symlink_to(filled)
    assert ts("set", "--vault", str(link), "via_link", input="value-l").code == 0
    assert link.is_symlink() and os.path.samefile(link, filled)
    assert ts("get", "-n", "via_link").out == "value-l"  # the real file has it
    assert not (home / "link.tokensafe.lock").exists()
    assert ts("set", "via_real", input="value-r").code == 0
    assert ts("get", "--vault", str(link), "-n", "via_real").out == "value-r"


def test_a_readable_folder_is_accepted_but_a_readable_vault_is_not(ts: Run, filled: Path) -> None:
    os.chmod(filled.parent, 0o755)
    assert ts("get", "-n", "auth0_token").out == PLANTED
    os.chmod(filled, 0o644)  # others could copy it and guess offline (#15 finding 6)
    r = ts("get", "-n", "auth0_token")
    assert r.code == 9 and "chmod 600" in r.err and PLANTED not in r.out + r.err


@pytest.mark.skipif(os.geteuid() != 0 and not os.environ.get("CI"), reason="needs root to chown")
def test_vault_owned_by_another_user_is_refused(ts: Run, filled: Path) -> None:
    os.chown(filled, 4242, 4242)
    r = ts("get", "auth0_token")
    assert r.code == 9 and "belongs to another user" in r.err and "hint:" in r.err
    os.chown(filled, os.getuid(), os.getgid())
    os.chown(filled.parent, 4242, 4242)
    assert ts("get", "auth0_token").code == 9


def test_init_refuses_a_folder_others_can_write(ts: Run, home: Path) -> None:
    folder = home / "shared"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o777)
    r = ts("init", "--vault", str(folder / "v.tokensafe"), env={"TOKENSAFE_PASSPHRASE": "pw"})
    assert r.code == 9 and "chmod 700" in r.err
    assert not (folder / "v.tokensafe").exists()


def test_help_has_examples(ts: Run, home: Path) -> None:
    for cmd in ("init", "set", "get", "list", "rm", "passwd"):
        r = ts(cmd, "--help")
        assert r.code == 0 and "Example" in r.out, cmd


def test_python_dash_m_vault_is_the_same_command(session, filled: Path) -> None:
    import subprocess

    env = {**session.env, "TOKENSAFE_VAULT": str(filled)}
    r = subprocess.run([sys.executable, "-m", "vault", "get", "-n", "auth0_token"], env=env,
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout) == (0, PLANTED.encode()), r.stderr
    r = subprocess.run([sys.executable, "-m", "vault", "get", "nope"], env=env,
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 4 and r.stderr.startswith(b"tokensafe: error: ")


def test_jwt_expiry_is_shown_and_never_enforced(ts: Run, vault: Path) -> None:
    expired = fake_jwt({"sub": "client@clients", "exp": 1000000000})
    assert ts("set", "old_token", input=expired).code == 0
    entry = json.loads(ts("list", "--json").out)["environments"][0]["entries"][0]
    assert (entry["kind"], entry["expires"]) == ("jwt", 1000000000)
    assert "(expired)" in ts("list").out
    assert ts("get", "-n", "old_token").out == expired  # shown, never enforced
    assert expired.split(".")[1] not in ts("list").out + json.dumps(entry)
