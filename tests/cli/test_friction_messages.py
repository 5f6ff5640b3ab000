"""Messages users see (#14, item 9 and friends), in-process: one row per message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PLANTED, create_passphrase_vault


@pytest.mark.parametrize(("value", "kind"), [
    ("127.0.0.1:8443", "domain"),
    ("localhost:3000", "domain"),
    ("localhost", "domain"),
    ("[::1]:8443", "domain"),
    ("tenant.eu.auth0.com", "domain"),
    ("tenant.eu.auth0.com:443", "domain"),
    ("https://tenant.eu.auth0.com", "url"),
    ("hello world", "text"),
    ("1.2.3.4.5", "text"),
])
def test_host_with_port_is_a_domain(value: str, kind: str) -> None:
    from vault.store.model import detect_kind

    assert detect_kind(value)[0] == kind


@pytest.mark.parametrize(("args", "code", "message", "hint"), [
    (["lsit"], 2, "no such command 'lsit'", "did you mean `tokensafe list`?"),
    (["env", "lst"], 2, "no such command 'lst'", "did you mean `tokensafe env list`?"),
    (["hosts", "ad"], 2, "no such command 'ad'", "did you mean `tokensafe hosts add`?"),
    (["frobnicate"], 2, "no such command 'frobnicate'", "see `tokensafe --help` for the commands"),
    (["get"], 2, "missing argument 'NAME'", "see `tokensafe get --help`"),
    (["get", "--bogus", "x"], 2, "no such option '--bogus'", "see `tokensafe get --help`"),
    (["help", "nope"], 2, "no such command 'nope'", "see `tokensafe --help` for the commands"),
    (["get", "auth0_tokne"], 4, "no entry 'auth0_tokne' in environment 'dev'",
     "did you mean auth0_token? (`tokensafe list` shows the names)"),
    (["rm", "auth0_tokn"], 4, "no entry 'auth0_tokn' in environment 'dev'",
     "did you mean auth0_token? (`tokensafe list` shows the names)"),
])
def test_usage_messages(cli, vault_path: Path, args, code, message, hint) -> None:
    create_passphrase_vault(vault_path, "dev", {"auth0_token": PLANTED})
    r = cli(args)
    assert r.code == code
    assert r.stderr == f"tokensafe: error: {message}\ntokensafe: hint: {hint}\n"


def test_help_command_and_global_vault(cli, vault_path: Path, monkeypatch) -> None:
    create_passphrase_vault(vault_path, "dev", {"auth0_token": PLANTED})
    r = cli(["help", "hosts", "add"])
    assert r.code == 0 and r.stdout.startswith("Usage: tokensafe hosts add [OPTIONS] NAME HOST…")
    monkeypatch.delenv("TOKENSAFE_VAULT")
    r = cli(["--vault", str(vault_path), "env", "list"])
    assert (r.code, r.stdout) == (0, "* dev (1 entry)\n")
    r = cli([f"--vault={vault_path}", "list"])
    assert r.code == 0 and "auth0_token" in r.stdout


def test_list_marks_the_implicit_binding_without_showing_the_domain(cli, vault_path: Path) -> None:
    create_passphrase_vault(vault_path, "dev", {"auth0_token": PLANTED, "auth0_domain": "t.eu.auth0.com",
                                                "other": "x" * 20})
    r = cli(["list"])
    assert "auth0_domain's host (implicit)" in r.stdout and "t.eu.auth0.com" not in r.stdout
    r = cli(["rm", "auth0_domain"])
    assert "- (none)" in cli(["list"]).stdout


def test_hosts_add_keeps_the_implicit_host_and_rm_explains(cli, vault_path: Path) -> None:
    create_passphrase_vault(vault_path, "dev", {"auth0_token": PLANTED, "auth0_domain": "t.eu.auth0.com"})
    r = cli(["hosts", "rm", "auth0_token", "t.eu.auth0.com"])
    assert r.code == 2
    assert "its binding to auth0_domain is implicit" in r.stderr
    r = cli(["hosts", "add", "auth0_token", "127.0.0.1:8443"])
    assert r.code == 0
    assert r.stderr == ("auth0_token was bound to auth0_domain (t.eu.auth0.com); that host stays allowed\n"
                        "allowed 127.0.0.1:8443 for auth0_token in dev; it may go to: "
                        "127.0.0.1:8443, t.eu.auth0.com\n")
    r = cli(["hosts", "add", "auth0_token", "not a host"])
    assert r.code == 2 and "invalid host pattern" in r.stderr
    r = cli(["hosts", "list", "--json"])
    import json

    doc = json.loads(r.stdout)
    assert {e["name"]: e["source"] for e in doc["entries"]} == {"auth0_domain": "auth0_domain",
                                                                 "auth0_token": "own"}
    assert PLANTED not in r.stdout + r.stderr


def test_refusing_hints_name_hosts_add() -> None:
    from vault.errors import PolicyError
    from vault.inject.hosts import HostPolicy
    from vault.store.model import Entry, Environment

    env = Environment("dev", {"auth0_token": Entry.new("auth0_token", PLANTED, ["a.example.com"]),
                              "free": Entry.new("free", "x" * 20)})
    with pytest.raises(PolicyError) as e:
        HostPolicy.for_env(env).check("https://b.example.com/x", ["auth0_token"])
    assert e.value.hint == "check the URL; if this host is right, `tokensafe hosts add auth0_token b.example.com`"
    with pytest.raises(PolicyError) as e:
        HostPolicy.for_env(env).check("https://b.example.com/x", ["free"])
    assert e.value.hint is not None and e.value.hint.startswith("`tokensafe hosts add free b.example.com` binds it")


def test_watch_reasons_have_no_class_names() -> None:
    from vault.errors import LockedError
    from vault.guard.watcher import _reason

    assert _reason(LockedError("wrong passphrase or key", "try again")) == "wrong passphrase or key (try again)"
    assert _reason(PermissionError(13, "Permission denied")) == "permission denied"
    assert _reason(ValueError("x")).startswith("unexpected error, please report it")


def test_top_level_descriptions_are_whole_sentences() -> None:
    import click

    from vault.cli.app import cli as group
    from vault.cli.app import first_sentence

    ctx = click.Context(group, info_name="tokensafe")
    for name in group.list_commands(ctx):
        text = first_sentence(group.get_command(ctx, name))
        assert text.endswith(".") and not text.endswith("..."), (name, text)
