"""The resolver: Postman's rules as a table."""

from __future__ import annotations

import re

import pytest

from vault.errors import NotFoundError
from vault.inject.template import Layer, Resolver, resolve

VALUES = {"auth0_domain": "t.eu.auth0.com", "auth0_token": "tok", "env": "dev",
          "token_dev": "devtok", "chain": "{{auth0_token}}!", "loop": "{{loop}}"}


@pytest.mark.parametrize(("template", "expected"), [
    ("https://{{auth0_domain}}/api/v2/", "https://t.eu.auth0.com/api/v2/"),
    ("Bearer {{vault:auth0_token}}", "Bearer tok"),
    ("{{ auth0_token }}", "tok"),
    ("{{token_{{env}}}}", "devtok"),  # nested reference
    ("{{chain}}", "tok!"),  # a value holding a reference
    ("{{$guid}} {{$timestamp}} {{$randomFirstName}}", "{{$guid}} {{$timestamp}} {{$randomFirstName}}"),
    ("no templates { here }", "no templates { here }"),
    ("{{loop}}", "{{loop}}"),  # a cycle stops after Postman's depth limit
    ("", ""),
])
def test_resolve_table(template: str, expected: str) -> None:
    assert resolve(template, VALUES) == expected


def test_unknown_names_are_an_error_listing_names_only() -> None:
    with pytest.raises(NotFoundError) as e:
        resolve("{{auth0_token}} {{nope}} {{vault:missing}}", VALUES)
    assert "nope" in e.value.message and "vault:missing" in e.value.message
    assert "tok" not in e.value.message.replace("missing", "")


def test_keep_unknown_leaves_them_literally() -> None:
    assert resolve("{{nope}}/{{auth0_token}}", VALUES, keep_unknown=True) == "{{nope}}/tok"


def test_dynamic_variables_generated_at_send_time() -> None:
    out = resolve("{{$guid}}|{{$timestamp}}|{{$isoTimestamp}}|{{$randomInt}}|{{$randomColor}}",
                  VALUES, dynamic=True)
    guid, ts, iso, rnd, other = out.split("|")
    assert re.fullmatch(r"[0-9a-f-]{36}", guid)
    assert ts.isdigit() and rnd.isdigit()
    assert iso.endswith("Z") and "T" in iso
    assert other == "{{$randomColor}}"  # not generated, never looked up in the vault


def test_dollar_names_never_come_from_the_vault() -> None:
    assert resolve("{{$guid}}", {"$guid": "from-vault"}) == "{{$guid}}"


def test_precedence_and_vault_prefix_and_tracking() -> None:
    r = Resolver([Layer("--var", {"auth0_token": "override", "x": "1"}),
                  Layer("vault", VALUES, secret=True),
                  Layer("collection", {"auth0_domain": "collection.example", "y": "2"})])
    assert r.resolve("{{auth0_token}}") == "override"
    assert r.used_secrets == set()
    assert r.resolve("{{vault:auth0_token}} {{auth0_domain}} {{y}}") == "tok t.eu.auth0.com 2"
    assert r.used_secrets == {"auth0_token", "auth0_domain"}


def test_reprs_hold_no_values() -> None:
    from vault.inject.http import Req, Resp
    from vault.inject.run import RunSpec

    secret = "SECRET-in-repr-0123456789"
    objs = [RunSpec(["x"], {"a": secret}, {"a": secret}),
            Resolver([Layer("vault", {"a": secret}, secret=True)]),
            Req("GET", f"https://h/{secret}", [("Authorization", secret)], secret.encode()),
            Resp(200, "OK", "HTTP/1.1", [("X", secret)], secret.encode(), 0.1)]
    for o in objs:
        assert secret not in repr(o), type(o).__name__
