"""Export formats and environment-variable naming."""

from __future__ import annotations

import json
import shlex
import subprocess
from io import StringIO

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import UsageError
from vault.inject.envnames import env_map, env_name
from vault.inject.export import render

VALUES = {"auth0_domain": "t.eu.auth0.com", "auth0-token": "a b'c\"$d\\e", "2fa.seed": "x\ny"}


@pytest.mark.parametrize(("name", "var"), [
    ("auth0_token", "AUTH0_TOKEN"), ("auth0-token", "AUTH0_TOKEN"), ("a.b.c", "A_B_C"),
    ("2fa", "_2FA"), ("ÄPI", "_PI"),
])
def test_env_name(name: str, var: str) -> None:
    assert env_name(name) == var
    assert env_name(name, as_is=True) == name


def test_collisions_refused() -> None:
    with pytest.raises(UsageError):
        env_map({"a-b": "1", "a_b": "2"})
    assert set(env_map({"a-b": "1", "a_b": "2"}, as_is=True)) == {"a-b", "a_b"}


def test_postman_format_is_an_environment_newman_reads() -> None:
    doc = json.loads(render("postman", "dev", VALUES, kinds={"auth0_domain": "domain"}))
    assert doc["name"] == "dev" and doc["_postman_variable_scope"] == "environment"
    assert {v["key"]: v["value"] for v in doc["values"]} == VALUES
    assert all(v["enabled"] and "disabled" not in v for v in doc["values"])
    assert {v["key"]: v["type"] for v in doc["values"]}["auth0_domain"] == "default"


def test_shell_format_round_trips_through_sh() -> None:
    text = render("shell", "dev", VALUES)
    script = text + 'printf "%s|%s|%s" "$AUTH0_DOMAIN" "$AUTH0_TOKEN" "$_2FA_SEED"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "|".join(VALUES.values())
    assert shlex.split(text.splitlines()[0])[1] == "AUTH0_DOMAIN=t.eu.auth0.com"


def test_dotenv_plain_values_stay_plain_for_docker() -> None:
    text = render("dotenv", "dev", VALUES)
    assert "AUTH0_DOMAIN=t.eu.auth0.com\n" in text
    assert dotenv_values(stream=StringIO(text), interpolate=False) == {
        env_name(k): v for k, v in VALUES.items()}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
               max_size=40))
def test_shell_quoting_round_trips_any_value_through_bash(value: str) -> None:
    script = render("shell", "dev", {"v": value}) + 'printf "%s" "$V"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out == value.encode("utf-8", "surrogatepass")


def test_nul_cannot_be_a_shell_variable() -> None:
    with pytest.raises(UsageError):
        render("shell", "dev", {"v": "a\0b"})


def test_json_format() -> None:
    assert json.loads(render("json", "dev", VALUES)) == VALUES
