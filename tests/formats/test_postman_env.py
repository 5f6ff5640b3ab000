"""Postman environment/globals exports: sniffing, variables with raw spans, writing."""

from __future__ import annotations

import json

import pytest

from vault.formats import postman_env


@pytest.mark.parametrize(("head", "name", "scope"), [
    (b'{"_postman_variable_scope": "globals"}', "x.json", "globals"),
    (b'{"_postman_variable_scope":"environment"}', "", "environment"),
    (b'{"values": []}', "prod.postman_environment.json", "environment"),
    (b'{"values": []}', "w.postman_globals.json", "globals"),
    (b'{"info": {"_postman_id": "1"}}', "c.json", "collection"),
    (b'{"values": []}', "plain.json", None),
])
def test_sniff_scope(head: bytes, name: str, scope: str | None) -> None:
    assert postman_env.sniff_scope(head, name) == scope


def test_variables_whatever_the_key_order_and_escaping() -> None:
    doc = {"values": [
        {"type": "secret", "value": "tok\u00e9n/1", "key": "auth0_token"},
        {"key": "auth0_token", "value": "auth0_token"},  # a value equal to a key's text
        {"key": "empty", "value": ""}, {"key": "n", "value": 3}, "junk",
    ]}
    for ascii_only in (False, True):
        data = json.dumps(doc, ensure_ascii=ascii_only, sort_keys=True, indent=1).encode()
        got = postman_env.variables(data)
        assert [(v.key, v.value, v.type) for v in got] == [
            ("auth0_token", "tok\u00e9n/1", "secret"), ("auth0_token", "auth0_token", None)]
        for v in got:
            assert data[v.start - len(b'"value": "'):v.start] == b'"value": "'
            assert json.loads(b'"' + data[v.start:v.end] + b'"') == v.value


@pytest.mark.parametrize("data", [b"{not json", b'{"name": "x"}', b"[1, 2]"])
def test_not_an_export(data: bytes) -> None:
    with pytest.raises(postman_env.FormatError):
        postman_env.variables(data)


def test_render_reads_back() -> None:
    text = postman_env.render("dev", {"d": "t.auth0.com", "t": "s3cret"}, {"d": "domain"}, now=0)
    got = postman_env.variables(text.encode())
    assert [(v.key, v.value, v.type) for v in got] == [("d", "t.auth0.com", "default"),
                                                        ("t", "s3cret", "secret")]
    assert postman_env.sniff_scope(text.encode()) == "environment"
    assert "s3cret" not in repr(got)
