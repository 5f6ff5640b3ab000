"""Fixtures for Auth0 client credentials: an HTTPS stand-in tenant on 127.0.0.1 (its own CA
through SSL_CERT_FILE) and a session whose vault holds its client credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.inject.auth0_standin import Auth0Standin, local_tls

# Recognisable planted client secret: its bytes must leak nowhere.
SECRET = "tsPLANTED-auth0-client-SECRET-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CLIENT_ID = "tsClientId0123456789abcdefABCDEF"


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Auth0Standin]:
    ca, ctx = local_tls(tmp_path / "tls")
    with Auth0Standin(ctx, CLIENT_ID, SECRET, slow_s=2.0) as t:
        t.ca = ca  # type: ignore[attr-defined]
        yield t


@pytest.fixture
def ts(session, tenant: Auth0Standin, tmp_path: Path):
    """A session with an initialised vault (env dev) that trusts the stand-in's CA."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        session.env.pop(var, None)
    session.env["NO_PROXY"] = "*"
    session.env["SSL_CERT_FILE"] = str(tenant.ca)  # type: ignore[attr-defined]
    make_vault(Path(session.env["TOKENSAFE_VAULT"]), session.env["TOKENSAFE_PASSPHRASE"])
    return session


def make_vault(path: Path, passphrase: str, entries: dict[str, str] | None = None) -> None:
    """A vault with env `dev` and a cheap passphrase slot (the test KDF hook), made in-process."""
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    data = VaultData(current="dev")
    env = data.ensure_env("dev")
    for name, value in (entries or {}).items():
        env.entries[name] = Entry.new(name, value)
    create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, passphrase)], data)


def login(ts, tenant: Auth0Standin, *extra: str) -> None:
    r = ts("auth0", "login", "--domain", tenant.host, "--client-id", CLIENT_ID, *extra, input=SECRET + "\n")
    assert r.returncode == 0, r.stderr


def assert_clean(ts, tenant: Auth0Standin) -> None:
    """No client secret and no issued token in any argv, stderr or (non-get) stdout."""
    for value in [SECRET, *tenant.issued]:
        ts.assert_no_leak(value, allow_stdout_of=("get", "inject", "export"))
