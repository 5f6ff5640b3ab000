"""Scrub plans: what gets replaced, what stays, and no crash on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard.tokens import NOW, auth0_mgmt, opaque
from vault.errors import UsageError
from vault.guard import scrub
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
KEYS = st.sampled_from(["auth0_token", "API Token", "api_key", "user_id", "auth0_domain", "note", "é-key"])
VALUES = st.one_of(st.builds(opaque), st.builds(auth0_mgmt), st.just("acme.eu.auth0.com"),
                   st.just("{{baseUrl}}"), st.text(max_size=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(KEYS, VALUES, st.sampled_from(["secret", "default"])), max_size=8),
       st.booleans())
def test_postman_scrub_keeps_json_and_removes_secrets(tmp_path: Path, variables, sort_keys: bool) -> None:
    doc = {"_postman_variable_scope": "environment", "name": "e",
           "values": [{"key": k, "value": v, "type": t, "enabled": True} for k, v, t in variables]}
    f = tmp_path / "e.postman_environment.json"
    f.write_text(json.dumps(doc, indent="\t", sort_keys=sort_keys, ensure_ascii=False))
    plan = scrub.plan_import(f, SCANNER)
    out = json.loads(plan.scrubbed())  # still valid JSON
    secret = {v.value for v in plan.vars if v.secret}
    for item in out["values"]:
        assert item["value"] not in secret or item["value"].startswith("{{vault:")
    for v in plan.vars:
        if v.secret:
            assert scrub.reference(v.name) in [i["value"] for i in out["values"]]
    assert len({v.name for v in plan.vars}) == len({(v.name, v.value) for v in plan.vars})


@pytest.mark.parametrize("text,expected", [
    ("A=1\nexport API_TOKEN=\"{t}\"\n# c\n", "A=1\nexport API_TOKEN=\"{{{{vault:API_TOKEN}}}}\"\n# c\n"),
    ("API_KEY='{t}'  # prod\n", "API_KEY='{{{{vault:API_KEY}}}}'  # prod\n"),
    ("X_TOKEN={t}\r\nPORT=1\r\n", "X_TOKEN={{{{vault:X_TOKEN}}}}\r\nPORT=1\r\n"),
    ("EMPTY=\nTOKEN=${{OTHER}}\n", "EMPTY=\nTOKEN=${{OTHER}}\n"),
])
def test_dotenv_scrub(tmp_path: Path, text: str, expected: str) -> None:
    t = opaque()
    f = tmp_path / ".env"
    f.write_text(text.format(t=t), newline="")
    assert scrub.plan_import(f, SCANNER).scrubbed().decode() == expected.format(t=t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000), st.sampled_from([".env", "x.postman_environment.json", "notes.txt"]))
def test_plans_never_crash(tmp_path: Path, data: bytes, name: str) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    for make in (lambda: scrub.plan_import(f, SCANNER), lambda: scrub.plan_findings(f, SCANNER)):
        try:
            plan = make()
        except UsageError:
            continue
        assert isinstance(plan.scrubbed(), bytes)


def test_secret_inside_a_value_scrubs_the_whole_value(tmp_path: Path) -> None:
    f = tmp_path / ".env"
    f.write_text("DATABASE_URL=postgres://app:Zr8q2LmK9vXw@db.internal:5432/app\nPORT=1\n")
    plan = scrub.plan_import(f, SCANNER)
    assert plan.scrubbed() == b"DATABASE_URL={{vault:DATABASE_URL}}\nPORT=1\n"


def test_findings_plan_scrubs_encoded_values_too(tmp_path: Path) -> None:
    import base64

    tok = auth0_mgmt()
    f = tmp_path / "secret.yaml"
    f.write_text(f"data:\n  token: {base64.b64encode(tok.encode()).decode()}\n")
    plan = scrub.plan_findings(f, SCANNER)
    assert plan.scrubbed() == b"data:\n  token: {{vault:token}}\n"
    assert [v.value for v in plan.vars] == [base64.b64encode(tok.encode()).decode()]
