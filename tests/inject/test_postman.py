"""The collection format (vault.formats.collection) and the request builder
(vault.inject.postman), on every shared fixture and our own."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest

from vault.errors import NotFoundError, UsageError
from vault.formats import collection
from vault.formats.collection import escape, split_path
from vault.inject import postman
from vault.inject.template import Layer, Resolver

from .conftest import DATA, FIXTURES

VAULT = {"auth0_domain": "tenant.eu.auth0.com", "auth0_token": "tok-123456789", "client_id": "cid",
         "client_secret": "csecret"}


def resolver(overrides: dict[str, str] | None = None, col: collection.Collection | None = None) -> Resolver:
    return Resolver([Layer("--var", overrides or {}), Layer("vault", VAULT, secret=True),
                     Layer("collection", col.variables if col else {})], dynamic=True)


def build_all(col: collection.Collection, overrides: dict[str, str] | None = None, keep_unknown=True,
              keep_path_vars=True):
    out = []
    for it in col.root.requests():
        r = resolver(overrides, col)
        r.keep_unknown = keep_unknown
        out.append(postman.build(it, r, overrides, DATA, keep_path_vars=keep_path_vars))
    return out


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.json") if p.name != "collection.v2.1.0.draft-07.bundled.json")


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_every_shared_fixture_parses_or_is_refused_clearly(path: Path) -> None:
    doc = json.loads(path.read_text())
    if isinstance(doc, dict) and "item" in doc:
        col = collection.parse(doc, path.name)
        reqs = build_all(col)
        assert reqs, path.name
        for req in reqs:
            assert req.url.startswith(("http://", "https://"))
            assert req.method in ("GET", "POST")
    else:
        with pytest.raises(UsageError):
            collection.parse(doc, path.name)


def test_schema_examples_build_what_postman_sends() -> None:
    bearer = build_all(collection.load(FIXTURES / "example-v2.1.0-bearerAuthTest.json"))[0]
    # An explicit Authorization header wins over the auth helper, as in Postman.
    assert [v for k, v in bearer.headers if k == "Authorization"] == ["Bearer wkjehbxoqnunc2k3"]
    apikey = build_all(collection.load(FIXTURES / "example-v2.1.0-apikeyAuthTest.json"))[0]
    assert ("token", "wkjehbxoqnunc2k3") in apikey.headers
    form = build_all(collection.load(FIXTURES / "example-v2.1.0-formdata-body.json"))[0]
    assert form.url == "https://postman-echo.com/post" and form.method == "POST"
    assert form.form == [("not_a_file", "")] and form.files == []  # null/""/[] sources skipped
    col = collection.load(FIXTURES / "example-v2.1.0-formdata-body.json")
    assert col.root.children[0].name == "item 1"  # unnamed item


def test_auth0_management_shape() -> None:
    col = collection.load(DATA / "auth0-management.postman_collection.json")
    assert collection.listing(col).splitlines()[1:4] == ["        Users/", "GET     Users/Get users",
                                                         "GET     Users/Get a user"]
    users, one, update = build_all(col)[:3]
    assert users.url == "https://tenant.eu.auth0.com/api/v2/users?per_page=10&search_engine=v3"
    assert ("Authorization", "Bearer tok-123456789") in users.headers
    assert ("X-Off", "1") not in users.headers
    assert users.used == {"auth0_domain", "auth0_token"}
    assert one.url == "https://tenant.eu.auth0.com/api/v2/users/auth0%7Cdefault"
    assert update.url.endswith("/api/v2/users/:id")  # null path variable, kept: newman sends `:id` too
    assert json.loads(update.content) == {"blocked": False, "app_metadata": {"by": "cid"}}
    r = resolver({"id": "auth0|42"}, col)
    again = postman.build(col.find("Users/Get a user"), r, {"id": "auth0|42"})
    assert again.url.endswith("/users/auth0%7C42")
    assert col.scripts_in(list(col.root.requests())) == 2
    assert col.scripts_in([col.find("Get a user")]) == 1  # the collection's pre-request script


def test_auth0_authentication_urlencoded_with_nulls() -> None:
    col = collection.load(DATA / "auth0-authentication.postman_collection.json")
    (req,) = build_all(col)
    assert req.method == "POST" and req.url == "https://tenant.eu.auth0.com/oauth/token"
    assert urllib.parse.parse_qs(req.content.decode(), keep_blank_values=True) == {
        "grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": ["csecret"],
        "audience": [""]}
    assert not any(k == "Authorization" for k, _ in req.headers)  # noauth
    assert req.used == {"auth0_domain", "client_id", "client_secret"}


def test_kitchen_sink_v2_0() -> None:
    col = collection.load(DATA / "kitchen-sink.v2.0.postman_collection.json")
    basic, inherit, query, noauth, gql, form = build_all(col)
    cred = base64.b64encode(b"cid:csecret").decode()
    assert basic.url == "http://tenant.eu.auth0.com/basic" and ("Authorization", f"Basic {cred}") in basic.headers
    assert ("X-Api-Key", "tok-123456789") in inherit.headers
    assert query.url == "http://tenant.eu.auth0.com/q?api_key=tok-123456789"
    assert not any(k in ("Authorization", "X-Api-Key") for k, _ in noauth.headers)
    assert len(dict(noauth.headers)["X-Trace"]) == 36 and ("X-Static", "yes") in noauth.headers
    assert json.loads(gql.content) == {"query": 'query { me(token: "tok-123456789") { id } }', "variables": {"n": 1}}
    assert form.form == [("note", "cid")] and [f.path for f in form.files] == [str(DATA / "upload.txt")]


def test_find_and_errors() -> None:
    col = collection.load(DATA / "auth0-management.postman_collection.json")
    assert col.find("Users/Get a user").name == "Get a user"
    assert col.find("/Users/").is_folder and col.find("").is_folder and col.find("/") is col.root
    assert [i.name for i in col.find("Users").requests()] == ["Get users", "Get a user", "Update a user"]
    with pytest.raises(NotFoundError):
        col.find("Users/Nope")
    with pytest.raises(UsageError):
        collection.parse({"info": {}}, "x")
    with pytest.raises(NotFoundError):
        collection.load(DATA / "missing.json")


def test_unknown_variable_is_an_error() -> None:
    col = collection.parse({"item": [{"name": "a", "request": {"url": "https://{{nope}}/x"}}]})
    with pytest.raises(NotFoundError):
        postman.build(col.find("a"), resolver(), {})


def test_schema_fixture_itself_is_not_a_collection() -> None:
    with pytest.raises(UsageError):
        collection.load(FIXTURES / "collection.v2.1.0.draft-07.bundled.json")


# --- path variables ------------------------------------------------------------------------

PATHS = DATA / "auth0-path-variables.postman_collection.json"


def build_one(address: str, overrides: dict[str, str] | None = None, **kw):
    col = collection.load(PATHS)
    return postman.build(col.find(address), resolver(overrides, col), overrides, DATA, **kw)


@pytest.mark.parametrize(("address", "missing"), [
    ("Clients/Delete a client", ["id"]),  # null
    ("Users/Remove roles from a user", ["id"]),  # "" (newman keeps `:id` for it too)
    ("Users/Unlink a user identity", ["id", "user_id"]),  # null and no `value` key; `provider` has one
])
def test_a_path_variable_without_a_value_is_refused_naming_it(address: str, missing: list[str]) -> None:
    with pytest.raises(postman.MissingPathVariables) as e:
        build_one(address)
    assert e.value.names == missing and e.value.exit_code == 2
    assert e.value.message.startswith(f"{address}: no value for path variable(s) :")
    assert all(f"--var {n}=VALUE" in e.value.hint for n in missing) and "--keep-path-vars" in e.value.hint


def test_path_variables_given_kept_or_filled() -> None:
    assert build_one("Clients/Delete a client", {"id": "cid-9"}).url.endswith("/api/v2/clients/cid-9")
    assert build_one("Clients/Get a client").url.endswith("/api/v2/clients/cid")  # {{client_id}} in url.variable
    # One segment: "/" and "|" are encoded, RFC 3986 pchars are not.
    assert build_one("Clients/Delete a client", {"id": "a/b|c:d@e"}).url.endswith("/clients/a%2Fb%7Cc:d@e")
    kept = build_one("Users/Unlink a user identity", keep_path_vars=True)
    assert kept.url == "https://tenant.eu.auth0.com/api/v2/users/:id/identities/google-oauth2/:user_id"
    with pytest.raises(postman.MissingPathVariables):  # an empty --var is no value either
        build_one("Clients/Delete a client", {"id": ""})


@pytest.mark.parametrize(("url", "expected"), [
    ("https://h:8443/a/:id?x=:id#:id", "https://h:8443/a/7?x=:id#:id"),  # not the port, query or fragment
    ("h/a/:/b", "https://h/a/:/b"),  # a lone ":" is text; no scheme: https
    ("https://h/a/x:id/:id/:id", "https://h/a/x:id/7/7"),
])
def test_only_whole_path_segments_are_path_variables(url: str, expected: str) -> None:
    col = collection.parse({"item": [{"name": "r", "request": {"url": url}}]})
    assert postman.build(col.find("r"), resolver(), {"id": "7"}).url == expected


# --- addresses -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "escaped"), [
    ("Signup using a username/password", "Signup using a username\\/password"),
    ("Logs \\ exports", "Logs \\\\ exports"), ("a\\/b", "a\\\\\\/b"), ("plain", "plain")])
def test_escape_round_trips(name: str, escaped: str) -> None:
    assert escape(name) == escaped
    assert split_path(f"Folder/{escaped}/") == ["Folder", name]


def test_a_name_with_a_slash_is_addressed_with_the_escape() -> None:
    col = collection.load(PATHS)
    signup = col.find("Database/Signup using a username\\/password")
    assert signup.name == "Signup using a username/password"
    assert signup.path == "Database/Signup using a username\\/password"
    # Forgiving forms that read only one way.
    assert col.find("Signup using a username\\/password") is signup
    assert col.find("Signup using a username/password") is signup
    assert col.find("Database/Signup using a username/password") is signup
    assert col.find("Logs \\\\ exports").name == "Logs \\ exports"
    assert "POST    Database/Signup using a username\\/password  id:0c2b6f3e-3333" in collection.listing(col)


def test_addressed_by_id() -> None:
    col = collection.load(PATHS)
    assert col.find("id:0c2b6f3e-1111-4000-8000-000000000002").name == "Delete a client"  # `id`
    assert col.find("id:0c2b6f3e-2222-4000-8000-000000000001").path == "Users/Get a user"  # `_postman_id`
    assert col.find("0c2b6f3e-3333-4000-8000-000000000002").name == "Change password"  # a bare id
    assert col.find("id:0c2b6f3e-0000-4000-8000-00000000c0de") is col.root  # info._postman_id
    with pytest.raises(NotFoundError, match="no item with id 'nope'"):
        col.find("id:nope")


def test_an_ambiguous_address_lists_the_candidates() -> None:
    col = collection.load(PATHS)
    with pytest.raises(UsageError) as e:
        col.find("Logs \\\\ exports/Ping")
    assert e.value.exit_code == 2
    assert "fits 2 items" in e.value.message
    assert "(id:0c2b6f3e-4444-4000-8000-000000000001)" in e.value.message
    assert "(id:0c2b6f3e-4444-4000-8000-000000000002)" in e.value.message
    assert e.value.hint == "address one by its id, e.g. 'id:0c2b6f3e-4444-4000-8000-000000000001'"
    with pytest.raises(UsageError, match="'Get a user' fits 2 items"):  # a bare name, two folders
        collection.parse({"item": [{"name": "A", "item": [{"name": "Get a user", "request": "h/1"}]},
                                   {"name": "B", "item": [{"name": "Get a user", "request": "h/2"}]}]}
                         ).find("Get a user")


def test_twins_without_ids_are_ambiguous_and_say_why() -> None:
    col = collection.parse({"item": [{"name": "F", "item": [{"name": "Ping", "request": "h/1"},
                                                             {"name": "Ping", "request": "h/2"}]}]})
    with pytest.raises(UsageError, match="'F/Ping' fits 2 items: 'F/Ping', 'F/Ping'") as e:
        col.find("F/Ping")
    assert "share one address and have no ids" in e.value.hint
    assert [i.name for i in col.find("F").requests()] == ["Ping", "Ping"]  # the folder still sends both
