"""run, inject, export and request called directly through the service API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import PLANTED
from tests.inject.conftest import Recorder
from vault.errors import NotFoundError, PolicyError, UsageError
from vault.service import inject
from vault.service.context import Context


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


def test_inject_resolves_both_reference_forms(filled: Context) -> None:
    out = inject.inject(filled, "Bearer {{auth0_token}} at {{vault:auth0_domain}} {{$guid}}\n")
    assert out.startswith(f"Bearer {PLANTED} at http://127.0.0.1:")
    assert out.endswith(" {{$guid}}\n")  # dynamic variables are left for the consumer


def test_inject_unknown_name_is_an_error_unless_kept(filled: Context) -> None:
    with pytest.raises(NotFoundError):
        inject.inject(filled, "{{nope}}")
    assert inject.inject(filled, "{{nope}}", keep_unknown=True) == "{{nope}}"


def test_write_private_makes_a_0600_file(filled: Context, tmp_path: Path) -> None:
    target = tmp_path / "out.cfg"
    inject.write_private(target, inject.inject(filled, "t={{auth0_token}}"))
    assert target.read_text() == f"t={PLANTED}"
    assert target.stat().st_mode & 0o777 == 0o600


def test_export_formats_and_only(filled: Context) -> None:
    doc = inject.export(filled, "postman")
    assert doc.env == "dev" and doc.format == "postman"
    values = {v["key"]: v for v in json.loads(doc.text)["values"]}
    assert values["auth0_token"]["value"] == PLANTED and values["auth0_token"]["type"] == "secret"
    assert PLANTED not in repr(doc)

    dotenv = inject.export(filled, "dotenv", only=["auth0_token,loose"])
    assert dotenv.names == ["auth0_token", "loose"]
    assert f"AUTH0_TOKEN={PLANTED}" in dotenv.text and "AUTH0_DOMAIN" not in dotenv.text
    assert f"auth0_token={PLANTED}" in inject.export(filled, "dotenv", only=["auth0_token"], as_is=True).text

    with pytest.raises(NotFoundError, match="missing"):
        inject.export(filled, "json", only=["auth0_token", "missing"])
    with pytest.raises(UsageError):
        inject.export(filled, "yaml")


def test_run_gives_the_child_its_variables_and_masks_its_output(filled: Context, capfd) -> None:
    code = inject.run(filled, inject.RunOptions(
        ["--", sys.executable, "-c",
         "import os, sys; print(os.environ['AUTH0_TOKEN'] == sys.argv[1]); print(os.environ['AUTH0_TOKEN']);"
         "sys.exit(3)", PLANTED[:4]], mask=True))
    out = capfd.readouterr().out
    assert code == 3  # the child's exit code comes back
    assert PLANTED not in out and "<redacted:auth0_token>" in out


def test_run_only_and_refusals(filled: Context, capfd) -> None:
    probe = "import os; print(sorted(k for k in os.environ if k in ('AUTH0_TOKEN', 'LOOSE')))"
    assert inject.run(filled, inject.RunOptions([sys.executable, "-c", probe], only=["loose"])) == 0
    assert "['LOOSE']" in capfd.readouterr().out
    with pytest.raises(NotFoundError):
        inject.run(filled, inject.RunOptions([sys.executable, "-c", "pass"], only=["nope"]))
    with pytest.raises(PolicyError):
        inject.run(filled, inject.RunOptions(["echo", "{{auth0_token}}"]))
    with pytest.raises(UsageError):
        inject.run(filled, inject.RunOptions(["--"]))


def test_request_prepare_describe_and_send(filled: Context, server: Recorder) -> None:
    prepared = inject.prepare_request(filled, inject.RequestOptions(
        "post", "{{auth0_domain}}/api/v2/users", ["Authorization: Bearer {{auth0_token}}"],
        b'{"q": "{{loose}}"}'))
    (req,) = prepared.requests
    assert req.method == "POST" and req.used == {"auth0_domain", "auth0_token", "loose"}
    assert ("Content-Type", "application/json") in req.headers
    shown = prepared.describe()
    assert PLANTED.encode() not in shown and b"<redacted:auth0_token>" in shown
    assert server.seen == []  # preparing sends nothing

    replies = list(inject.send_requests(prepared.requests, max_time=10, masker=prepared.error_masker))
    assert [r.status for _, r in replies] == [200]
    (seen,) = server.seen
    assert seen.headers["Authorization"] == f"Bearer {PLANTED}"
    assert json.loads(seen.body) == {"q": "loose-value-0123456789abcdef"}
    assert PLANTED.encode() not in prepared.masker.mask(replies[0][1].body)


def test_request_host_binding(filled: Context, server: Recorder, other_server: Recorder,
                              warnings: list[str]) -> None:
    with pytest.raises(PolicyError) as e:
        inject.prepare_request(filled, inject.RequestOptions(
            "GET", f"{other_server.url}/x", ["X: {{auth0_token}}"]))
    assert PLANTED not in str(e.value.message) + str(e.value.hint)
    # An entry without hosts of its own goes beyond auth0_domain only with allow_unbound, loudly.
    with pytest.raises(PolicyError):
        inject.prepare_request(filled, inject.RequestOptions("GET", f"{other_server.url}/x", ["X: {{loose}}"]))
    inject.prepare_request(filled, inject.RequestOptions(
        "GET", f"{other_server.url}/x", ["X: {{loose}}"], allow_unbound=True))
    assert warnings == [
        f"--allow-unbound: sending 'loose' to {other_server.host!r}, a host no rule allows"]
    assert server.seen == [] and other_server.seen == []


def test_request_mistakes(filled: Context) -> None:
    with pytest.raises(UsageError, match="colon"):
        inject.prepare_request(filled, inject.RequestOptions("GET", "http://{{auth0_domain}}/", ["{{auth0_token}}"]))
    with pytest.raises(NotFoundError):
        inject.prepare_request(filled, inject.RequestOptions("GET", "http://{{auth0_domain}}/{{nope}}"))
