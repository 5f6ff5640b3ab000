"""Fixtures for calling the service directly: a vault with known entries, a loopback HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PLANTED, create_passphrase_vault
from tests.inject.conftest import Recorder, other_server, server  # noqa: F401 - fixtures
from vault.service.context import Context


@pytest.fixture
def warnings() -> list[str]:
    """What the service told the front end to warn about, in order."""
    return []


@pytest.fixture
def filled(vault_path: Path, server: Recorder, warnings: list[str]) -> Context:  # noqa: F811
    """A vault (env dev) with a token bound to the loopback server and a domain naming it."""
    from vault.service import entries

    create_passphrase_vault(vault_path)
    ctx = Context(str(vault_path), warn=warnings.append)
    # Plain http to the loopback server: a binding names it explicitly.
    entries.set_entry(ctx, entries.SetOptions("auth0_token", hosts=[f"http://{server.host}"]), PLANTED)
    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), f"http://{server.host}")
    entries.set_entry(ctx, entries.SetOptions("loose"), "loose-value-0123456789abcdef")
    return ctx
