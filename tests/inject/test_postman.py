"""The collection parser and request builder, on every shared fixture and our own."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest

from vault.errors import NotFoundError, UsageError
from vault.inject import postman
from vault.inject.template import Layer, Resolver

from .conftest import DATA, FIXTURES

VAULT = {"auth0_domain": "tenant.eu.auth0.com", "auth0_token": "tok-123456789", "client_id": "cid",
         "client_secret": "csecret"}


def resolver(overrides: dict[str, str] | None = None, col: postman.Collection | None = None) -> Resolver:
    return Resolver([Layer("--var", overrides or {}), Layer("vault", VAULT, secret=True),
                     Layer("collection", col.variables if col else {})], dynamic=True)


def build_all(col: postman.Collection, overrides: dict[str, str] | None = None, keep_unknown=True):
    out = []
    for it in col.root.requests():
        r = resolver(overrides, col)
        r.keep_unknown = keep_unknown
        out.append(postman.build(it, r, overrides, DATA))
    return out


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.json") if p.name != "collection.v2.1.0.draft-07.bundled.json")


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_every_shared_fixture_parses_or_is_refused_clearly(path: Path) -> None:
    doc = json.loads(path.read_text())
    if isinstance(doc, dict) and "item" in doc:
        col = postman.parse(doc, path.name)
        reqs = build_all(col)
        assert reqs, path.name
        for req in reqs:
            assert req.url.startswith(("http://", "https://"))
            assert req.method in ("GET", "POST")
    else:
        with pytest.raises(UsageError):
            postman.parse(doc, path.name)


def test_schema_examples_build_what_postman_sends() -> None:
    bearer = build_all(postman.load(FIXTURES / "example-v2.1.0-bearerAuthTest.json"))[0]
    # An explicit Authorization header wins over the auth helper, as in Postman.
    assert [v for k, v in bearer.headers if k == "Authorization"] == ["Bearer wkjehbxoqnunc2k3"]
    apikey = build_all(postman.load(FIXTURES / "example-v2.1.0-apikeyAuthTest.json"))[0]
    assert ("token", "wkjehbxoqnunc2k3") in apikey.headers
    form = build_all(postman.load(FIXTURES / "example-v2.1.0-formdata-body.json"))[0]
    assert form.url == "https://postman-echo.com/post" and form.method == "POST"
    assert form.form == [("not_a_file", "")] and form.files == []  # null/""/[] sources skipped
    col = postman.load(FIXTURES / "example-v2.1.0-formdata-body.json")
    assert col.root.children[0].name == "item 1"  # unnamed item


def test_auth0_management_shape() -> None:
    col = postman.load(DATA / "auth0-management.postman_collection.json")
    assert postman.tree(col).splitlines()[1:4] == ["  Users/", "    GET     Get users", "    GET     Get a user"]
    users, one, update = build_all(col)[:3]
    assert users.url == "https://tenant.eu.auth0.com/api/v2/users?per_page=10&search_engine=v3"
    assert ("Authorization", "Bearer tok-123456789") in users.headers
    assert ("X-Off", "1") not in users.headers
    assert users.used == {"auth0_domain", "auth0_token"}
    assert one.url == "https://tenant.eu.auth0.com/api/v2/users/auth0%7Cdefault"
    assert update.url.endswith("/api/v2/users/")  # null path variable: empty, as Postman sends
    assert json.loads(update.content) == {"blocked": False, "app_metadata": {"by": "cid"}}
    r = resolver({"id": "auth0|42"}, col)
    again = postman.build(col.find("Users/Get a user"), r, {"id": "auth0|42"})
    assert again.url.endswith("/users/auth0%7C42")
    assert col.scripts_in(list(col.root.requests())) == 2
    assert col.scripts_in([col.find("Get a user")]) == 1  # the collection's pre-request script


def test_auth0_authentication_urlencoded_with_nulls() -> None:
    col = postman.load(DATA / "auth0-authentication.postman_collection.json")
    (req,) = build_all(col)
    assert req.method == "POST" and req.url == "https://tenant.eu.auth0.com/oauth/token"
    assert urllib.parse.parse_qs(req.content.decode(), keep_blank_values=True) == {
        "grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": ["csecret"],
        "audience": [""]}
    assert not any(k == "Authorization" for k, _ in req.headers)  # noauth
    assert req.used == {"auth0_domain", "client_id", "client_secret"}


def test_kitchen_sink_v2_0() -> None:
    col = postman.load(DATA / "kitchen-sink.v2.0.postman_collection.json")
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
    col = postman.load(DATA / "auth0-management.postman_collection.json")
    assert col.find("Users/Get a user").name == "Get a user"
    assert [i.name for i in col.find("Users").requests()] == ["Get users", "Get a user", "Update a user"]
    with pytest.raises(NotFoundError):
        col.find("Users/Nope")
    with pytest.raises(UsageError):
        postman.parse({"info": {}}, "x")
    with pytest.raises(NotFoundError):
        postman.load(DATA / "missing.json")


def test_unknown_variable_is_an_error() -> None:
    col = postman.parse({"item": [{"name": "a", "request": {"url": "https://{{nope}}/x"}}]})
    with pytest.raises(NotFoundError):
        postman.build(col.find("a"), resolver(), {})


def test_schema_fixture_itself_is_not_a_collection() -> None:
    with pytest.raises(UsageError):
        postman.load(FIXTURES / "collection.v2.1.0.draft-07.bundled.json")
