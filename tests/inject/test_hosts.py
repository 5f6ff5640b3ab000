"""Host binding as a table: which entry may go to which URL."""

from __future__ import annotations

import pytest

from vault.errors import PolicyError
from vault.inject.hosts import HostPolicy, normalise_host, request_host
from vault.store.model import Entry, Environment


def env(**entries: tuple[str, list[str]]) -> Environment:
    return Environment("dev", {n: Entry.new(n, v, hosts) for n, (v, hosts) in entries.items()})


@pytest.mark.parametrize(("value", "host"), [
    ("Tenant.EU.auth0.com", "tenant.eu.auth0.com"),
    ("https://tenant.eu.auth0.com/", "tenant.eu.auth0.com"),
    ("127.0.0.1:8443", "127.0.0.1:8443"),
    ("https://tenant.auth0.com:444/api", "tenant.auth0.com:444"),
])
def test_normalise_host(value: str, host: str) -> None:
    assert normalise_host(value) == host


@pytest.mark.parametrize(("url", "host"), [
    ("https://a.auth0.com/api/v2/users", "a.auth0.com"),
    ("https://user:pw@A.auth0.com:8443/x", "a.auth0.com:8443"),
    ("http://127.0.0.1:5000", "127.0.0.1:5000"),
])
def test_request_host(url: str, host: str) -> None:
    assert request_host(url) == host


AUTH0 = env(auth0_domain=("tenant.eu.auth0.com", []), auth0_token=("tok" * 8, []),
            mgmt=("m" * 20, ["*.auth0.com"]), api=("a" * 20, ["api.example.com:8443"]))


@pytest.mark.parametrize(("url", "used", "ok"), [
    ("https://tenant.eu.auth0.com/api/v2/users", {"auth0_token", "auth0_domain"}, True),
    ("https://tenant.eu.auth0.com.evil.test/", {"auth0_token"}, False),
    ("https://other.eu.auth0.com/", {"auth0_token"}, False),  # bound to the domain, not *.auth0.com
    ("https://other.eu.auth0.com/", {"mgmt"}, True),
    ("https://auth0.com/", {"mgmt"}, False),  # *.x matches subdomains only
    ("https://api.example.com:8443/", {"api"}, True),
    ("https://api.example.com/", {"api"}, False),  # the pattern names a port
    ("https://anywhere.test/", set(), True),  # no secret in it: nothing to bind
])
def test_auth0_env_table(url: str, used: set[str], ok: bool) -> None:
    policy = HostPolicy.for_env(AUTH0)
    if ok:
        assert policy.check(url, used) == []
    else:
        with pytest.raises(PolicyError):
            policy.check(url, used)


def test_unbound_without_auth0_domain() -> None:
    loose = env(token=("t" * 20, []))
    with pytest.raises(PolicyError) as e:
        HostPolicy.for_env(loose).check("https://x.test/", {"token"})
    assert "t" * 20 not in e.value.message + (e.value.hint or "")
    assert HostPolicy.for_env(loose, allow_unbound=True).check("https://x.test/", {"token"}) == ["token"]
    # --allow-unbound lifts the auth0_domain default, loudly, never an entry's own hosts.
    loud = HostPolicy.for_env(AUTH0, allow_unbound=True)
    assert loud.check("https://x.test/", {"auth0_token"}) == ["auth0_token"]
    assert loud.check("https://tenant.eu.auth0.com/", {"auth0_token"}) == []
    with pytest.raises(PolicyError):
        loud.check("https://x.test/", {"mgmt"})
