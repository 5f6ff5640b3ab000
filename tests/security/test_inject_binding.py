"""#9 finding 4: a host-bound secret goes only over https:// unless its binding names
http://HOST[:PORT]; a URL without a scheme is https://; an environment proxy never sees a
request with vault values unless the user names one with --proxy."""

# ruff: noqa: F811 - pytest fixtures imported from tests/inject/conftest.py are parameters here

from __future__ import annotations

import json

import pytest

from tests.inject.conftest import (  # noqa: F401 - fixtures
    PLANTED,
    Recorder,
    https_server,
    make_vault,
    other_server,
    server,
    tls,
)
from vault.errors import PolicyError
from vault.inject.hosts import HostPolicy
from vault.store.model import Entry, Environment, check_host_pattern

pytestmark = pytest.mark.e2e
AUTH = "Authorization: Bearer {{auth0_token}}"


def _env(**entries: tuple[str, list[str]]) -> Environment:
    return Environment("dev", {n: Entry.new(n, v, h) for n, (v, h) in entries.items()})


@pytest.mark.parametrize(("domain", "hosts", "url", "ok"), [
    ("tenant.auth0.com", [], "https://tenant.auth0.com/x", True),
    ("tenant.auth0.com", [], "http://tenant.auth0.com/x", False),  # bound: https only
    ("tenant.auth0.com", ["api.test"], "http://api.test/x", False),
    ("tenant.auth0.com", ["http://api.test:8080"], "http://api.test:8080/x", True),  # named explicitly
    ("tenant.auth0.com", ["http://api.test:8080"], "https://api.test:8080/x", True),  # https is never worse
    ("tenant.auth0.com", ["http://api.test:8080"], "http://api.test:8081/x", False),
    ("http://127.0.0.1:8080", [], "http://127.0.0.1:8080/x", True),  # the domain names http://
    ("127.0.0.1:8080", [], "http://127.0.0.1:8080/x", False),
])
def test_scheme_table(domain: str, hosts: list[str], url: str, ok: bool) -> None:
    policy = HostPolicy.for_env(_env(auth0_domain=(domain, []), auth0_token=("t" * 24, hosts)))
    if ok:
        assert policy.check(url, {"auth0_token"}) == []
    else:
        with pytest.raises(PolicyError):
            policy.check(url, {"auth0_token"})


def test_the_domain_itself_may_go_over_http() -> None:
    """`auth0_domain` is a host, which the URL shows anyway: no scheme rule for it."""
    policy = HostPolicy.for_env(_env(auth0_domain=("tenant.auth0.com", []), auth0_token=("t" * 24, [])))
    assert policy.check("http://tenant.auth0.com/x", {"auth0_domain"}) == []
    with pytest.raises(PolicyError):
        policy.check("http://tenant.auth0.com/x", {"auth0_domain", "auth0_token"})


def test_host_patterns_take_an_explicit_http_scheme() -> None:
    assert check_host_pattern("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert check_host_pattern("HTTPS://Api.Test") == "api.test"


@pytest.fixture
def loop(session):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY"):
        session.env.pop(var, None)
    return session


def test_plain_http_refused_for_a_bound_token_nothing_sent(loop, server) -> None:
    make_vault(loop, {"dev": {"auth0_domain": server.host, "auth0_token": PLANTED}}, "dev")
    r = loop("request", "GET", "http://{{auth0_domain}}/x", "-H", AUTH)
    assert r.returncode == 9, r.stderr
    assert b"over plain http://" in r.stderr and b"hosts add auth0_token http://127.0.0.1:" in r.stderr
    assert server.seen == []
    loop.assert_no_leak(PLANTED)


def test_explicit_http_binding_sends(loop, server) -> None:
    make_vault(loop, {"dev": {"auth0_domain": f"http://{server.host}", "auth0_token": PLANTED}}, "dev")
    r = loop("request", "GET", "{{auth0_domain}}/x", "-H", AUTH)
    assert r.returncode == 0, r.stderr
    assert server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    loop.assert_no_leak(PLANTED)


def test_a_collection_url_without_scheme_is_https(loop, server) -> None:
    make_vault(loop, {"dev": {"auth0_domain": server.host, "auth0_token": PLANTED}}, "dev")
    col = loop.cwd / "c.json"
    col.write_text(json.dumps({"info": {"name": "c"}, "item": [{"name": "r", "request": {
        "url": "{{auth0_domain}}/x", "header": [{"key": "Authorization", "value": "Bearer {{auth0_token}}"}]}}]}))
    r = loop("send", str(col), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert b"GET https://<redacted:auth0_domain>/x" in r.stdout
    r = loop("send", str(col), "--connect-timeout", "5")
    assert server.seen == []  # https to a plain server: no request line ever arrives in clear
    assert r.returncode == 8, r.stderr
    loop.assert_no_leak(PLANTED)


def test_environment_proxy_never_sees_bound_secrets(loop, server, other_server: Recorder) -> None:
    proxy = other_server  # it records whatever reaches it, as a proxy would
    make_vault(loop, {"dev": {"auth0_domain": server.host,
                              "auth0_token": (PLANTED, [f"http://{server.host}"])}}, "dev")
    env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url}
    r = loop("request", "GET", f"{server.url}/x", "-H", AUTH, env=env)
    assert r.returncode == 0, r.stderr
    assert b"HTTP(S)_PROXY is not used" in r.stderr and b"--proxy URL" in r.stderr
    assert proxy.seen == [] and len(server.seen) == 1
    # Named on the command line, the proxy is used.
    r = loop("request", "GET", f"{server.url}/y", "-H", AUTH, "--proxy", proxy.url)
    assert r.returncode == 0, r.stderr
    assert len(proxy.seen) == 1 and len(server.seen) == 1
    loop.assert_no_leak(PLANTED)


def test_ssl_cert_file_still_trusted_without_environment_proxies(loop, https_server, tls) -> None:
    loop.env["SSL_CERT_FILE"] = str(tls[0])
    make_vault(loop, {"dev": {"auth0_domain": https_server.host, "auth0_token": PLANTED}}, "dev")
    r = loop("request", "GET", "https://{{auth0_domain}}/x", "-H", AUTH)
    assert r.returncode == 0, r.stderr
    assert https_server.seen[-1].headers["Authorization"] == f"Bearer {PLANTED}"
    loop.assert_no_leak(PLANTED)
