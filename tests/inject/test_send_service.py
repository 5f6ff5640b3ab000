"""`vault.service.send` called directly, as any front end would: typed options in, a typed
plan out, nothing sent and no CLI involved."""

from __future__ import annotations

import pytest

from vault.errors import NotFoundError, PolicyError, UsageError
from vault.service.send import SendOptions, Unbound, plan, select
from vault.store.model import Entry, Environment

from .conftest import DATA

PATHS = DATA / "auth0-path-variables.postman_collection.json"


def env(**entries: str | tuple[str, list[str]]) -> Environment:
    e = Environment("dev")
    for name, spec in entries.items():
        value, hosts = spec if isinstance(spec, tuple) else (spec, [])
        e.entries[name] = Entry.new(name, value, hosts)
    return e


DEV = env(auth0_domain="tenant.eu.auth0.com", auth0_token="tok-0123456789abcdef", client_id="cid-42")


def test_a_selection_is_planned_in_collection_order() -> None:
    opts = SendOptions(PATHS, ("Clients", "Database/Signup using a username\\/password"), {"id": "c1"})
    p = plan(opts, select(opts), DEV)
    assert [(r.method, r.url) for r in p.requests] == [
        ("GET", "https://tenant.eu.auth0.com/api/v2/clients/c1"),  # --var beats url.variable's {{client_id}}
        ("DELETE", "https://tenant.eu.auth0.com/api/v2/clients/c1"),
        ("GET", "https://tenant.eu.auth0.com/api/v2/client-grants?client_id=cid-42"),
        ("POST", "https://tenant.eu.auth0.com/dbconnections/signup")]
    assert p.requests[0].used == {"auth0_domain", "auth0_token", "client_id"} and p.unbound == []


def test_every_request_without_its_path_variables_is_named_at_once() -> None:
    opts = SendOptions(PATHS, ("Users",))
    with pytest.raises(UsageError) as e:
        plan(opts, select(opts), DEV)
    assert e.value.message == ("2 requests have path variables without a value: Users/Remove roles from a user "
                               "(:id), Users/Unlink a user identity (:id :user_id)")
    assert e.value.hint.startswith("give a value with --var id=VALUE --var user_id=VALUE;")
    kept = SendOptions(PATHS, ("Users",), keep_path_vars=True)
    assert [r.url.rsplit("/v2/", 1)[1] for r in plan(kept, select(kept), DEV).requests] == [
        "users/auth0%7Cdefault", "users/:id/roles", "users/:id/identities/google-oauth2/:user_id"]


def test_hosts_are_checked_for_the_whole_plan() -> None:
    opts = SendOptions(PATHS, ("Clients",), {"id": "x"})
    elsewhere = env(auth0_domain="tenant.eu.auth0.com", auth0_token=("t" * 20, ["other.example"]),
                    client_id="cid-42")
    with pytest.raises(PolicyError, match="refusing to send 'auth0_token' to 'tenant.eu.auth0.com'"):
        plan(opts, select(opts), elsewhere)


def test_unbound_entries_are_refused_or_reported(tmp_path) -> None:
    col = tmp_path / "c.json"
    col.write_text('{"item": [{"name": "r", "request": {"url": "https://api.example/x?c={{client_id}}"}}]}')
    no_domain = env(client_id="cid-42")  # no auth0_domain: client_id is bound to no host
    with pytest.raises(PolicyError, match="bound to no host"):
        plan(SendOptions(col), select(SendOptions(col)), no_domain)
    opts = SendOptions(col, allow_unbound=True)
    assert plan(opts, select(opts), no_domain).unbound == [Unbound("r", "client_id", "api.example")]


def test_nothing_to_send_and_no_such_item() -> None:
    with pytest.raises(NotFoundError, match="no item 'Nope'"):
        select(SendOptions(PATHS, ("Nope",)))
    assert len(select(SendOptions(PATHS)).items) == 10  # every request when no address is given
